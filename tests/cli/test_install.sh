#!/usr/bin/env bash
# `make install` into a temporary root, then the installed copy used the way
# an embedder uses it: a program built with `pkg-config --cflags --libs
# gpuattest` only (PKG_CONFIG_SYSROOT_DIR / PKG_CONFIG_LIBDIR into the root),
# run against the installed libgpuattest.so.0 on recorded evidence; the same
# program linked with the installed static archive. And what the libraries
# export: the .so only gpuattest_* (soname libgpuattest.so.0, version node
# GPUATTEST_0), the static archive no global name without the prefix.
T_NAME=test_install
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROOT=$TMP/root
CC=${CC:-cc}

# Under SAN=1 the installed objects are instrumented: so is the program.
san_flags() { if nm "$ROOT/usr/lib/libgpuattest.a" 2>/dev/null | grep -q __asan_init; then
	echo "-fsanitize=address,undefined"; fi; }
installed_pc() {
	PKG_CONFIG_SYSROOT_DIR=$ROOT PKG_CONFIG_LIBDIR=$ROOT/usr/lib/pkgconfig:$(pkg-config --variable pc_path pkg-config) \
	    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config "$@"
}

test_make_install() {
	out=$(make -s install BUILD="$BUILD" DESTDIR="$ROOT" PREFIX=/usr 2>&1); rc=$?
	expect_rc 0 "make install DESTDIR=... PREFIX=/usr"
	local f
	for f in usr/bin/gpuattest usr/lib/libgpuattest.so.0 usr/lib/libgpuattest.so usr/lib/libgpuattest.a \
	    usr/include/gpuattest.h usr/lib/pkgconfig/gpuattest.pc; do
		if [ -e "$ROOT/$f" ]; then ok; else bad "make install did not install /$f"; fi
	done
	out=$(readlink "$ROOT/usr/lib/libgpuattest.so"); expect_out "libgpuattest.so.0" "dev link to the soname"
	out=$(grep -h '^libdir=\|^includedir=' "$ROOT/usr/lib/pkgconfig/gpuattest.pc")
	expect_out "libdir=/usr/lib" "gpuattest.pc names the installed libdir, without DESTDIR"
	expect_no_out "$ROOT" "gpuattest.pc does not name the staging root"
	out=$("$ROOT/usr/bin/gpuattest" version 2>&1); rc=$?
	expect_rc 0 "the installed gpuattest runs"
	out=$(make -s install BUILD="$BUILD" DESTDIR="$TMP/root2" PREFIX=/opt/ga LIBDIR=/opt/ga/lib64 \
	    INCLUDEDIR=/opt/ga/inc BINDIR=/opt/ga/sbin MANDIR=/opt/ga/man 2>&1); rc=$?
	expect_rc 0 "make install with every directory set"
	for f in opt/ga/sbin/gpuattest opt/ga/lib64/libgpuattest.so.0 opt/ga/inc/gpuattest.h opt/ga/lib64/pkgconfig/gpuattest.pc; do
		if [ -e "$TMP/root2/$f" ]; then ok; else bad "BINDIR/LIBDIR/INCLUDEDIR not honoured: no /$f"; fi
	done
	out=$(cat "$TMP/root2/opt/ga/lib64/pkgconfig/gpuattest.pc"); expect_out "includedir=/opt/ga/inc" "pc: INCLUDEDIR"
}

test_exports() {
	local so=$ROOT/usr/lib/libgpuattest.so.0
	out=$(readelf -d "$so" 2>&1); expect_out "Library soname: [libgpuattest.so.0]" "soname"
	out=$(nm -D --defined-only "$so" | awk '$3 !~ /^gpuattest_/ && $3 != "GPUATTEST_0" { print $3 }')
	if [ -z "$out" ]; then ok; else bad "the .so exports names besides gpuattest_*"; fi
	out=$(nm -D --defined-only "$so" | grep -c ' T gpuattest_'); [ "$out" -ge 20 ] && ok || bad "only $out gpuattest_* functions exported"
	out=$(objdump -T "$so" | grep -c 'GPUATTEST_0 *gpuattest_'); [ "$out" -ge 20 ] && ok || bad "API symbols not in version node GPUATTEST_0"
	# Every global the static archive defines carries the prefix.
	out=$(nm -g --defined-only "$ROOT/usr/lib/libgpuattest.a" | awk 'NF == 3 && $3 !~ /^gpuattest_/ { print $3 }')
	if [ -z "$out" ]; then ok; else bad "the static archive defines globals without the gpuattest_ prefix"; fi
	out=$(nm -g --defined-only "$ROOT/usr/lib/libgpuattest.a" | grep -c ' T gpuattest_')
	[ "$out" -ge 20 ] && ok || bad "the static archive defines only $out gpuattest_* functions"
}

# The library defines no symbol, of any binding, that libxml2, xmlsec1 or
# libcurl export: it borrows none of their names (it reaches them through
# tables of its own), so it can never stand in for them in a host.
test_no_borrowed_names() {
	local lib theirs ours clash f
	theirs=$TMP/theirs
	: >"$theirs"
	for lib in libxml2.so.2 libxmlsec1.so.1 libxmlsec1-openssl.so.1 libcurl.so.4; do
		f=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
		if [ -z "$f" ]; then skip "$lib not found by ldconfig"; continue; fi
		nm -D --defined-only "$f" | awk '{ print $3 }' | sed 's/@.*//' >>"$theirs"
	done
	sort -u -o "$theirs" "$theirs"
	for ours in "$ROOT/usr/lib/libgpuattest.so.0" "$ROOT/usr/lib/libgpuattest.a" "$BUILD/libgpuattest.a"; do
		clash=$(nm --defined-only "$ours" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u | comm -12 - "$theirs")
		out=$clash
		if [ -z "$clash" ]; then ok; else bad "$(basename "$ours") defines names of libxml2/xmlsec1/libcurl: $(echo $clash | head -c 200)"; fi
	done
}

# build NAME SOURCE [static] [HOST PACKAGE]: the program, with pkg-config's
# flags only (the host's own package, libxml-2.0, from the system's).
build() {
	local libs cflags
	if [ "${3:-}" = static ]; then
		libs=$(installed_pc --static --libs gpuattest | sed 's/-lgpuattest\b/-l:libgpuattest.a/')
	else
		libs=$(installed_pc --libs gpuattest)
	fi
	cflags=$(installed_pc --cflags gpuattest)
	if [ -n "${4:-}" ]; then
		cflags+=" $(pkg-config --cflags "$4")"
		libs="$(pkg-config --libs "$4") $libs"
	fi
	# shellcheck disable=SC2046,SC2086
	out=$($CC $(san_flags) -std=c11 -Wall -Wextra -Werror $cflags -o "$TMP/$1" "$2" $libs 2>&1); rc=$?
	expect_rc 0 "$1 builds from pkg-config's flags ($libs)"
}

test_embedder() {
	need_shared || return
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	local ev=$V/gpu/hopper_595.71.05_azure/gpu-evidence.json
	build embed tests/install/embed.c
	out=$(LD_LIBRARY_PATH=$ROOT/usr/lib ldd "$TMP/embed" 2>&1)
	expect_out "$ROOT/usr/lib/libgpuattest.so.0" "embed runs on the installed .so"
	out=$(LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/embed" "$ev" "$TMP/rims" 1795824000 2>&1); rc=$?
	expect_rc 0 "the installed .so verifies the Azure H100 evidence"
	expect_out "verdict 0 genuine 1 json OK" "embed's result"
	out=$(LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/embed" "$ev" "$TMP/rims" 1704067200 2>&1); rc=$?
	expect_rc 1 "the installed .so fails it before the RIM certificates were valid"
	build embed-static tests/install/embed.c static
	out=$(ldd "$TMP/embed-static" 2>&1); expect_no_out "libgpuattest" "static embed needs no libgpuattest.so"
	out=$("$TMP/embed-static" "$ev" "$TMP/rims" 1795824000 2>&1); rc=$?
	expect_rc 0 "the installed static archive verifies the Azure H100 evidence"
}

# A host that uses libxml2 itself, with the shared and with the static
# library: its XML functions stay libxml2's, its parses (external entity
# included) work before and after ours, and ours still verifies.
test_libxml2_host() {
	need_shared || return
	local ev=$V/gpu/hopper_595.71.05_azure/gpu-evidence.json kind
	printf 'from the entity file' >"$TMP/entity.txt"
	for kind in shared static; do
		build "xmlhost-$kind" tests/install/xmlhost.c "$kind" libxml-2.0
		out=$(LD_LIBRARY_PATH=$ROOT/usr/lib "$TMP/xmlhost-$kind" "$ev" "$TMP/rims" 1795824000 "$TMP/entity.txt" 2>&1); rc=$?
		expect_rc 0 "libxml2 host ($kind library)"
		expect_no_out "FAIL" "libxml2 host ($kind library)"
		expect_out "ok xmlCtxtReadMemory resolves into libxml2" "libxml2 host ($kind library): xmlCtxtReadMemory"
		expect_out "ok host parse with an external entity after gpuattest" "libxml2 host ($kind library): its entity loader"
	done
}

test_make_install
test_exports
test_no_borrowed_names
test_embedder
test_libxml2_host
finish
