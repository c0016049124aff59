#!/usr/bin/env bash
# The manual pages: gpuattest(1) and gpuattest(3) render without a warning
# (groff -ww, and man-db's own check, as lintian runs it); gpuattest(1)
# documents every command and every long option any 'gpuattest CMD --help'
# prints, so a new option without a man entry fails here; gpuattest(3)
# documents every gpuattest_* function of include/gpuattest.h; make install
# puts both in MANDIR; and the example program of gpuattest(3), copied out
# of the installed page as a reader sees it, builds with `pkg-config
# --cflags --libs gpuattest` against the installed library and verifies
# NVIDIA's recorded Azure H100 evidence.
T_NAME=test_man
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROOT=$TMP/root
CC=${CC:-cc}
MAN1=man/gpuattest.1
MAN3=man/gpuattest.3

# The page's text with roff escapes undone: \- is -, fonts dropped.
man_text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1"; }

test_render() {
	local page
	for page in "$MAN1" "$MAN3"; do
		out=$(groff -man -Tutf8 -ww -z "$page" 2>&1); rc=$?
		expect_rc 0 "groff renders $page"
		if [ -z "$out" ]; then ok; else bad "groff -ww warns on $page"; fi
		if command -v man >/dev/null; then
			out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
			if [ -z "$out" ]; then ok; else bad "man --warnings warns on $page"; fi
		else
			skip "man (man-db) not installed: only groff's check of $page"
		fi
	done
}

commands() { "$GPUATTEST" --help 2>&1 | sed -nE 's/^  ([a-z][a-z-]+)( .*)?$/\1/p' | grep -vx help; }
long_options() { grep -oE -- '(^|[][ ,(|/])--[a-z][a-z0-9-]*' | sed -E 's/^[^-]+//' | sort -u; }

test_every_option_documented() {
	local text cmd opt n=0 missing=""
	text=$(man_text "$MAN1")
	for cmd in $(commands); do
		n=$((n + 1))
		if grep -qE "^\.SS gpuattest $cmd( |$)" <<<"$text"; then ok; else bad "gpuattest.1 has no section for '$cmd'"; fi
		for opt in $("$GPUATTEST" "$cmd" --help 2>&1 | long_options); do
			grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" <<<"$text" || missing+=" $cmd:$opt"
		done
	done
	out="commands: $(commands | tr '\n' ' ')"
	[ "$n" -ge 10 ] && ok || bad "only $n commands found in 'gpuattest --help'"
	out=$missing
	if [ -z "$missing" ]; then ok; else bad "options printed by --help but not in man/gpuattest.1:$missing"; fi
	for opt in $("$GPUATTEST" --help 2>&1 | long_options); do
		grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" <<<"$text" && ok || bad "gpuattest --help's $opt not in gpuattest.1"
	done
	# The sections a user looks for.
	for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
		grep -qx "\.SH $s" <<<"$text" && ok || bad "gpuattest.1 has no $s section"
	done
	# The check itself can fail: an option no page documents is caught.
	if grep -qE -- "(^|[^a-z0-9-])--no-such-option([^a-z0-9-]|$)" <<<"$text"; then
		bad "the option check matched an option that is not there"
	else ok; fi
}

test_every_function_documented() {
	local text fn missing="" count
	text=$(man_text "$MAN3")
	count=0
	for fn in $(grep -oE '\bgpuattest_[a-z0-9_]+[[:space:]]*\(' include/gpuattest.h | tr -d '( \t' | sort -u); do
		count=$((count + 1))
		# In the synopsis and explained in the text: at least twice.
		[ "$(grep -oE "\b$fn\b" <<<"$text" | wc -l)" -ge 2 ] || missing+=" $fn"
	done
	out=$missing
	[ "$count" -ge 40 ] && ok || bad "only $count functions found in include/gpuattest.h"
	if [ -z "$missing" ]; then ok; else bad "functions of gpuattest.h not documented in man/gpuattest.3:$missing"; fi
	for s in "RETURN VALUE" ERRORS MEMORY "THREAD SAFETY" EXAMPLE "SEE ALSO"; do
		grep -qx "\.SH \"\?$s\"\?" <<<"$text" && ok || bad "gpuattest.3 has no $s section"
	done
	out=$(grep -c 'pkg-config --cflags --libs gpuattest' <<<"$text")
	[ "$out" -ge 1 ] && ok || bad "gpuattest.3 does not say how to link with pkg-config"
}

installed_pc() {
	PKG_CONFIG_SYSROOT_DIR=$ROOT PKG_CONFIG_LIBDIR=$ROOT/usr/lib/pkgconfig:$(pkg-config --variable pc_path pkg-config) \
	    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config "$@"
}
# Under SAN=1 the installed objects are instrumented: so is the program.
san_flags() { if nm "$ROOT/usr/lib/libgpuattest.a" 2>/dev/null | grep -q __asan_init; then
	echo "-fsanitize=address,undefined"; fi; }

test_installed_example() {
	out=$(make -s install BUILD="$BUILD" DESTDIR="$ROOT" PREFIX=/usr 2>&1); rc=$?
	expect_rc 0 "make install DESTDIR=... PREFIX=/usr"
	local p
	for p in usr/share/man/man1/gpuattest.1 usr/share/man/man3/gpuattest.3; do
		if [ -f "$ROOT/$p" ]; then ok; else bad "make install did not install /$p"; fi
	done
	[ -f "$ROOT/usr/share/man/man3/gpuattest.3" ] || return
	# The program as the installed page shows it (rendered: what a reader copies).
	MANWIDTH=100 man -l "$ROOT/usr/share/man/man3/gpuattest.3" 2>/dev/null | col -bx |
	    sed -n '/\/\* verify-evidence.c/,/^ *Build and run it/p' | sed '$d' >"$TMP/verify-evidence.c"
	out=$(cat "$TMP/verify-evidence.c")
	expect_out "int main(int argc, char **argv)" "the example program is in the rendered page"
	local cflags libs
	cflags=$(installed_pc --cflags gpuattest)
	libs=$(installed_pc --libs gpuattest)
	# shellcheck disable=SC2046,SC2086
	out=$($CC $(san_flags) -std=c11 -Wall -Wextra -Werror $cflags -o "$TMP/verify-evidence" \
	    "$TMP/verify-evidence.c" $libs 2>&1); rc=$?
	expect_rc 0 "gpuattest(3)'s example builds with pkg-config's flags ($cflags $libs), warning-free"
	[ "$rc" -eq 0 ] || return
	out=$(LD_LIBRARY_PATH=$ROOT/usr/lib ldd "$TMP/verify-evidence" 2>&1)
	expect_out "$ROOT/usr/lib/libgpuattest.so.0" "the example runs on the installed .so"
	need_shared || return
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	local ev=$V/gpu/hopper_595.71.05_azure/gpu-evidence.json
	# MANIFEST.md: this capture's nonce, PASS at 2026-11-28 (1795824000).
	local nonce=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	local run=(env LD_LIBRARY_PATH="$ROOT/usr/lib" "$TMP/verify-evidence")
	out=$("${run[@]}" -r "$TMP/rims" -t 1795824000 -n "$ev" "$nonce" 2>&1); rc=$?
	expect_rc 0 "the example verifies the Azure H100 evidence"
	expect_out "verdict 0: 1 genuine GPU(s)" "the example's overall line"
	expect_out "GPU 0" "the example prints the device"
	expect_out "report-signature" "the example prints each check"
	expect_out "nonce $nonce" "the example prints the nonce judged against"
	out=$("${run[@]}" -r "$TMP/rims" -t 1795824000 -n "$ev" "$(printf '0%.0s' {1..64})" 2>&1); rc=$?
	expect_rc 1 "the example fails the evidence under another nonce"
	expect_out "FAIL" "the example names the failed check"
	printf '{"nonce": 1' >"$TMP/broken.json"
	out=$("${run[@]}" -n "$TMP/broken.json" "$nonce" 2>&1); rc=$?
	expect_rc 2 "the example on broken JSON: bad input"
	expect_out "error: " "the example prints gpuattest_config_error()"
	out=$("${run[@]}" "$ev" 1234 2>&1); rc=$?
	expect_rc 2 "the example refuses a short nonce"
}

test_render
test_every_option_documented
test_every_function_documented
test_installed_example
finish
