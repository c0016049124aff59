#!/usr/bin/env bash
# The Debian packages, as CI checks them (.ci/run calls this; it also runs
# by hand from any directory: bash tests/pkg/check-debs.sh):
#   1. dpkg-buildpackage -us -uc (source and binaries) in a copy of the
#      tree under a temporary directory: the checkout gets no file;
#   2. lintian on the result: no error and no warning (what cannot be fixed
#      is overridden in debian/*.lintian-overrides with its reason);
#   3. each package holds what it should, and its Depends are real: every
#      library its programs need, the ones loaded with dlopen at run time
#      (libcurl, xmlsec1's OpenSSL backend, libxml2) included, comes from a
#      package it depends on;
#   4. the packages are unpacked into a clean root and used from there alone:
#      'gpuattest version', a verification of NVIDIA's recorded Azure H100
#      evidence (offline: the vector's RIMs, --no-ocsp, the nonce and time
#      MANIFEST.md pins), and the gpuattest(3) example built from the
#      -dev package with pkg-config and run on the shared library.
#
# The clean root is `dpkg -x` of each .deb into an empty directory, run with
# LD_LIBRARY_PATH pointing into it. Why not `dpkg --root` / `--instdir`: that
# needs root, a dpkg database inside the root and every dependency installed
# there too (a debootstrap, i.e. a mirror: no network on a fresh CI machine),
# and the maintainer scripts would run chrooted into a root without a shell.
# `dpkg -x` works unprivileged and offline, and with the host's libraries
# underneath it proves exactly what the packages add; step 3 proves that the
# host libraries used are the ones the Depends name.
#
# Environment: KEEP_DEBS=DIR copies the built packages there.
T_NAME=check-debs
. "$(dirname "$0")/../cli/lib.sh"
cd "$(dirname "$0")/../.."
SRC=$PWD
PKGS=(gpuattest libgpuattest0 libgpuattest-dev)
# The python package is built when the tree has one.
if [ -f python/pyproject.toml ] || [ -f python/setup.py ]; then PKGS+=(python3-gpuattest); fi
# Whatever dlopen loads (src/net/http.c, src/rim/xmllib.c): soname and the
# library whose package must be in Depends.
DLOPENED="libcurl.so.4 libxmlsec1-openssl.so.1 libxml2.so.2"

need_tools() {
	local t missing=""
	for t in dpkg-buildpackage dh lintian dpkg-deb; do
		command -v "$t" >/dev/null || missing+=" $t"
	done
	[ -z "$missing" ] && return 0
	skip "not installed:$missing (bootstrap's TEST_PKGS install them)"
	return 1
}

# The tree as git knows it (tracked plus new, not ignored), else everything
# but build outputs: what a source package would hold.
copy_tree() {
	local dst=$1
	mkdir -p "$dst"
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$SRC" ls-files -z -co --exclude-standard |
		    (cd "$SRC" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _) |
		    tar -C "$SRC" --null -T - -cf - | tar -C "$dst" -xf -
	else
		tar -C "$SRC" --exclude='./build*' --exclude=./debian/tmp -cf - . | tar -C "$dst" -xf -
	fi
}

test_build() {
	local before="" is_git=""
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		is_git=1 before=$(git -C "$SRC" status --porcelain --ignored)
	fi
	copy_tree "$TMP/src/gpuattest"
	# With the system's tools only: Debian's python3 (pybuild), not a
	# virtualenv's or pyenv's that may come first in PATH.
	out=$(cd "$TMP/src/gpuattest" && PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc 2>&1); rc=$?
	printf '%s\n' "$out" >"$TMP/build.log"
	out=$(tail -n 40 "$TMP/build.log")
	expect_rc 0 "dpkg-buildpackage -us -uc"
	[ "$rc" -eq 0 ] || return 1
	local p
	for p in "${PKGS[@]}"; do
		deb=$(ls "$TMP/src/${p}"_*.deb 2>/dev/null | head -n 1)
		if [ -n "$deb" ]; then ok; else bad "no package $p built"; fi
	done
	if [ -n "$is_git" ]; then
		out=$(git -C "$SRC" status --porcelain --ignored)
		if [ "$out" = "$before" ]; then ok; else bad "the package build changed the checkout"; fi
	fi
	if [ -n "${KEEP_DEBS:-}" ]; then mkdir -p "$KEEP_DEBS" && cp "$TMP"/src/*.deb "$KEEP_DEBS"/; fi
}

test_lintian() {
	out=$(cd "$TMP/src" && lintian --fail-on error,warning --pedantic --info --display-info ./*.changes 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^[EWIP]: ' | sed 's/^/  lintian /'
	expect_rc 0 "lintian: no error, no warning"
}

deb_of() { ls "$TMP/src/${1}"_*.deb | head -n 1; }

test_contents() {
	local p f list
	declare -A want=(
		[gpuattest]="./usr/bin/gpuattest ./usr/libexec/gpuattest/gpu-gate ./etc/default/gpuattest
		    ./lib/systemd/system/gpu-attestation.service ./lib/systemd/system/gpu-attestation-reattest.timer
		    ./lib/systemd/system/gpu-attestation-reattest.service ./lib/systemd/system/gpu-attestation-watch.service
		    ./usr/share/bash-completion/completions/gpuattest ./usr/share/man/man1/gpuattest.1.gz"
		[libgpuattest0]="./usr/lib/*/libgpuattest.so.0 ./usr/lib/*/libgpuattest.so.0.*"
		[libgpuattest-dev]="./usr/include/gpuattest.h ./usr/lib/*/libgpuattest.so ./usr/lib/*/libgpuattest.a
		    ./usr/lib/*/pkgconfig/gpuattest.pc ./usr/share/man/man3/gpuattest.3.gz"
		[python3-gpuattest]="./usr/lib/python3/dist-packages/gpuattest/__init__.py"
	)
	for p in "${PKGS[@]}"; do
		list=$(dpkg-deb -c "$(deb_of "$p")" | awk '{ print $6 }')
		for f in ${want[$p]}; do
			# shellcheck disable=SC2053 # $f is a glob on purpose
			if grep -qx -- "$(sed 's/[.]/[.]/g; s/\*/[^\/]*/g' <<<"$f")" <<<"$list"; then ok
			else out=$list; bad "$p lacks $f"; fi
		done
	done
	out=$(dpkg-deb -c "$(deb_of libgpuattest0)")
	expect_no_out "libgpuattest.a" "the runtime library package holds no development file"
	out=$(dpkg-deb -c "$(deb_of gpuattest)")
	expect_no_out "gpuattest.h" "the tool's package holds no header"
	# The gate and the timer are installed, not enabled: no unit may run
	# before GPUATTEST_EXPECT_GPUS is configured.
	# (debhelper's postinst re-enables only what the administrator had enabled.)
	out=$(dpkg-deb -e "$(deb_of gpuattest)" "$TMP/ctrl" 2>&1 && cat "$TMP/ctrl/postinst" 2>/dev/null)
	if [ "$(grep -c 'deb-systemd-helper enable' <<<"$out")" = "$(grep -c 'was-enabled' <<<"$out")" ]; then ok
	else bad "the postinst enables a unit the administrator had not enabled"; fi
	expect_no_out "deb-systemd-invoke start" "the units are not started at installation"
	expect_no_out "deb-systemd-invoke \$_dh_action" "the units are not restarted at installation"
}

# dep_names DEB: the package names of its Depends (alternatives, versions dropped).
dep_names() { dpkg-deb -f "$1" Depends | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/:any//; s/ //g' | grep -v '^$'; }
# owner FILE: the installed package that holds a library (by its soname's name).
owner() { dpkg -S "*/$(basename "$1")" 2>/dev/null | head -n 1 | sed -E 's/: .*//; s/,.*//; s/:[a-z0-9]+$//'; }
# needed FILE: "soname path" of each library FILE names itself (DT_NEEDED),
# as the loader finds it; libc's own are libc6's, always there.
needed() {
	local lib
	for lib in $(objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'); do
		case "$lib" in libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux*) continue ;; esac
		ldd "$1" | awk -v l="$lib" '$1 == l && $2 == "=>" { print $1, $3 }'
	done
}

test_depends() {
	local p deb lib path o deps f
	for p in gpuattest libgpuattest0; do
		deb=$(deb_of "$p")
		deps=" $(dep_names "$deb" | tr '\n' ' ') "
		mkdir -p "$TMP/one-$p" && dpkg -x "$deb" "$TMP/one-$p"
		for f in $(find "$TMP/one-$p" -type f \( -path '*/bin/gpuattest' -o -name 'libgpuattest.so.*' \)); do
			while read -r lib path; do
				o=$(owner "$path")
				if [ -z "$o" ]; then out="$lib => $path"; bad "$p: $(basename "$f") needs $lib, which no installed package holds"; continue; fi
				if [[ "$deps" == *" $o "* ]]; then ok; else out="Depends:$deps"; bad "$p: $(basename "$f") needs $lib from $o, which Depends does not name"; fi
			done < <(needed "$f")
		done
		for lib in $DLOPENED; do
			path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
			if [ -z "$path" ]; then skip "$lib not installed here: its package cannot be checked"; continue; fi
			o=$(owner "$path")
			if [[ "$deps" == *" $o "* ]]; then ok; else out="Depends:$deps"; bad "$p: loads $lib (dlopen) from $o, which Depends does not name"; fi
		done
	done
}

test_clean_root() {
	local R=$TMP/root p multi libdir
	mkdir -p "$R"
	for p in "${PKGS[@]}"; do dpkg -x "$(deb_of "$p")" "$R"; done
	multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
	libdir=$R/usr/lib/$multi
	local in_root=(env LD_LIBRARY_PATH="$libdir" PATH="$R/usr/bin:/usr/bin:/bin")
	out=$("${in_root[@]}" "$R/usr/bin/gpuattest" version 2>&1); rc=$?
	expect_rc 0 "gpuattest version from the unpacked packages"
	expect_out "xmlsec1" "version names xmlsec1 (dlopened)"
	expect_out "libcurl" "version names libcurl (dlopened)"
	out=$(grep -h '^ExecStart=' "$R"/lib/systemd/system/gpu-attestation.service; cat "$R/usr/libexec/gpuattest/gpu-gate")
	expect_out "ExecStart=/usr/libexec/gpuattest/gpu-gate" "the gate unit runs the packaged gate"
	expect_out '${GPUATTEST:-/usr/bin/gpuattest}' "the gate runs the packaged tool"
	need_shared || return
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	local ev=$V/gpu/hopper_595.71.05_azure/gpu-evidence.json
	# MANIFEST.md: the capture's nonce; PASS at 2026-11-28 (revocation not recorded).
	local nonce=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	out=$("${in_root[@]}" "$R/usr/bin/gpuattest" verify --evidence "$ev" --nonce "$nonce" \
	    --rim-dir "$TMP/rims" --no-ocsp --offline --no-cache --at 2026-11-28T00:00:00Z 2>&1); rc=$?
	expect_rc 0 "the packaged gpuattest verifies the Azure H100 evidence"
	expect_out "VERIFICATION SUCCESSFUL" "the packaged gpuattest's verdict"
	out=$("${in_root[@]}" "$R/usr/bin/gpuattest" verify --evidence "$ev" --nonce "$(printf '0%.0s' {1..64})" \
	    --rim-dir "$TMP/rims" --no-ocsp --offline --no-cache --at 2026-11-28T00:00:00Z 2>&1); rc=$?
	expect_rc 1 "the packaged gpuattest fails it under another nonce"
	# The library, as an embedder gets it from libgpuattest-dev: the
	# gpuattest(3) example, built with the packaged pkg-config file only.
	MANWIDTH=100 man -l "$R/usr/share/man/man3/gpuattest.3.gz" 2>/dev/null | col -bx |
	    sed -n '/\/\* verify-evidence.c/,/^ *Build and run it/p' | sed '$d' >"$TMP/verify-evidence.c"
	local pc=(env PKG_CONFIG_SYSROOT_DIR="$R" PKG_CONFIG_LIBDIR="$libdir/pkgconfig:$(pkg-config --variable pc_path pkg-config)"
	    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config)
	# shellcheck disable=SC2046
	out=$(cc -std=c11 -Wall -Wextra -Werror -o "$TMP/verify-evidence" "$TMP/verify-evidence.c" \
	    $("${pc[@]}" --cflags --libs gpuattest) 2>&1); rc=$?
	expect_rc 0 "gpuattest(3)'s example builds against libgpuattest-dev"
	out=$("${in_root[@]}" ldd "$TMP/verify-evidence" 2>&1)
	expect_out "$libdir/libgpuattest.so.0" "the example runs on the packaged libgpuattest.so.0"
	out=$("${in_root[@]}" "$TMP/verify-evidence" -r "$TMP/rims" -t 1795824000 -n "$ev" "$nonce" 2>&1); rc=$?
	expect_rc 0 "the example verifies the Azure H100 evidence through the packaged library"
	expect_out "verdict 0: 1 genuine GPU(s)" "the example's verdict"
	if [[ " ${PKGS[*]} " == *" python3-gpuattest "* ]]; then
		# Debian's python3, the packaged module, the packaged library.
		out=$("${in_root[@]}" PYTHONPATH="$R/usr/lib/python3/dist-packages" /usr/bin/python3 - \
		    "$ev" "$nonce" "$TMP/rims" <<-'EOF' 2>&1
		import sys, gpuattest
		ev, nonce, rims = sys.argv[1:]
		v = gpuattest.Verifier(nonce=nonce, rim_dirs=[rims], skip_revocation=True, offline=True,
		                       no_cache=True, at="2026-11-28T00:00:00Z")
		r = v.verify_evidence_file(ev)
		print("module", gpuattest.__file__)
		print("verdict", r.verdict.name, "genuine", r.genuine_gpus)
		EOF
		); rc=$?
		expect_rc 0 "python3-gpuattest verifies the Azure H100 evidence"
		expect_out "module $R/usr/lib/python3/dist-packages/gpuattest/" "python imports the packaged module"
		expect_out "verdict VERIFIED genuine 1" "python3-gpuattest's verdict"
		out=$("${in_root[@]}" LD_DEBUG=libs PYTHONPATH="$R/usr/lib/python3/dist-packages" /usr/bin/python3 -c \
		    'import gpuattest; gpuattest.library_version()' 2>&1)
		expect_out "calling init: $libdir/libgpuattest.so.0" "python3-gpuattest loads the packaged libgpuattest.so.0"
	fi
}

if need_tools; then
	if test_build; then
		test_lintian
		test_contents
		test_depends
		test_clean_root
	fi
fi
finish
