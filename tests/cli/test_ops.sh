#!/usr/bin/env bash
# Shell conventions of the tool: 'version' / '--version' name the libraries
# in use; -h / --help on every command prints its usage and exits 0 (also
# after other options, never past a "--"); colour only to a terminal, and
# not with NO_COLOR or TERM=dumb (a pseudo-terminal from script(1)).
T_NAME=test_ops
. "$(dirname "$0")/lib.sh"

test_version() {
	local form
	for form in version --version; do
		run_cli $form
		expect_rc 0 "gpuattest $form"
		expect_out "gpuattest " "$form: our version"
		expect_out "OpenSSL   OpenSSL 3" "$form: OpenSSL's run-time version"
		if grep -qE '^xmlsec1   [0-9]+\.[0-9]+\.[0-9]+' <<<"$out"; then ok; else bad "$form: no xmlsec1 version"; fi
		if grep -qE '^libxml2   [0-9]+\.[0-9]+\.[0-9]+' <<<"$out"; then ok; else bad "$form: no libxml2 version"; fi
		expect_out "libcurl   libcurl/" "$form: libcurl's version line"
	done
	run_cli version extra
	expect_rc 2 "version with an argument"
}

test_help_everywhere() {
	local cmds c
	run_cli --help
	cmds=$(sed -nE 's/^  ([a-z][a-z-]+)( .*)?$/\1/p' <<<"$out" | grep -v '^help$')
	[ "$(wc -w <<<"$cmds")" -ge 6 ] && ok || bad "--help lists only: $cmds"
	for c in $cmds; do
		run_cli "$c" -h
		expect_rc 0 "$c -h"
		expect_out "usage: gpuattest $c" "$c -h prints its usage"
		run_cli "$c" --help
		expect_rc 0 "$c --help"
		expect_out "usage: gpuattest $c" "$c --help prints its usage"
	done
	run_cli verify --no-ocsp --help
	expect_rc 0 "--help after another option"
	expect_out "usage: gpuattest verify" "--help after another option"
	run_cli inspect --bogus
	expect_rc 2 "an unknown option is still bad usage"
}

# colour_count ENV...: ANSI escapes in verify's text on a pseudo-terminal.
colour_count() {
	env "$@" script -qec "$GPUATTEST verify --evidence '$AZ/gpu-evidence.json' --rim-dir '$TMP/rims' --no-ocsp --at 2026-11-28T00:00:00Z" /dev/null 2>&1 |
	    grep -c $'\e\\['
}

test_colour() {
	need_shared || return
	command -v script >/dev/null || { skip "script(1) not installed"; return; }
	AZ=$V/gpu/hopper_595.71.05_azure
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	local n
	n=$(colour_count TERM=xterm); out="$n escapes"
	[ "$n" -gt 0 ] && ok || bad "no colour on a terminal"
	n=$(colour_count TERM=xterm NO_COLOR=1); out="$n escapes"
	[ "$n" -eq 0 ] && ok || bad "colour despite NO_COLOR=1"
	n=$(colour_count TERM=dumb); out="$n escapes"
	[ "$n" -eq 0 ] && ok || bad "colour despite TERM=dumb"
	n=$(colour_count TERM=xterm NO_COLOR=); out="$n escapes"
	[ "$n" -gt 0 ] && ok || bad "an empty NO_COLOR turned colour off (no-color.org: only when set and not empty)"
	out=$(NO_COLOR=1 "$GPUATTEST" verify --color --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --at 2026-11-28T00:00:00Z 2>&1)
	grep -q $'\e\\[' <<<"$out" && ok || bad "--color does not win over NO_COLOR"
	out=$("$GPUATTEST" verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --at 2026-11-28T00:00:00Z 2>&1)
	grep -q $'\e\\[' <<<"$out" && bad "colour into a pipe" || ok
}

test_version
test_help_everywhere
test_colour
finish
