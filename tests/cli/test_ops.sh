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

# The gate script (dist/gpu-gate.in, as built into $BUILD/dist) on a
# SIMULATED 8-GPU system: refuses without GPUATTEST_EXPECT_GPUS, passes
# and marks the GPUs ready with the right count, fails and marks them NOT
# ready when a GPU is missing.
test_gate() {
	local ROOTDIR BDIR gate
	ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
	BDIR=${BUILD:-build}; case "$BDIR" in /*) ;; *) BDIR=$ROOTDIR/$BDIR ;; esac
	gate=$BDIR/dist/gpu-gate
	[ -x "$gate" ] || { out=""; bad "gate script not built: $gate"; return; }
	D=$TMP/sim
	out=$("$ROOTDIR/sim/make-sim-env.sh" "$D" 8 0 2>&1) || { bad "sim/make-sim-env.sh failed"; return; }
	eval "$out"
	local opts="--nvml-lib $BDIR/sim/libnvidia-ml-sim.so --no-pinned-anchors --trust-anchor $D/root.pem --trust-anchor $D/rim/root.pem --rim-dir $D/rims --no-ocsp"
	RS=$D/ready_state
	printf '0\n' >"$RS"
	out=$(GPUATTEST=$GPUATTEST GPUATTEST_GATE_CONFIG=$TMP/none GPUATTEST_GATE_OPTS=$opts "$gate" 2>&1); rc=$?
	expect_rc 2 "gate without GPUATTEST_EXPECT_GPUS"
	expect_out "set GPUATTEST_EXPECT_GPUS in $TMP/none" "gate: says what to configure"
	ready_is 0 "gate without configuration leaves the GPUs not ready"
	printf 'GPUATTEST_EXPECT_GPUS=8\nGPUATTEST_GATE_OPTS="%s"\n' "$opts" >"$TMP/gate.conf"
	out=$(GPUATTEST=$GPUATTEST GPUATTEST_GATE_CONFIG=$TMP/gate.conf "$gate" 2>&1); rc=$?
	expect_rc 0 "gate, 8 of 8 GPUs (configuration file)"
	ready_is 1 "gate pass marks the GPUs ready"
	out=$(GPUATTEST=$GPUATTEST GPUATTEST_GATE_CONFIG=$TMP/none GPUATTEST_EXPECT_GPUS=9 GPUATTEST_GATE_OPTS=$opts "$gate" 2>&1); rc=$?
	expect_rc 1 "gate expecting 9 GPUs on an 8-GPU system"
	ready_is 0 "gate failure marks the GPUs NOT ready"
	out=$(GPUATTEST=$GPUATTEST GPUATTEST_GATE_CONFIG=$TMP/none GPUATTEST_EXPECT_GPUS=any GPUATTEST_GATE_OPTS=$opts "$gate" 2>&1); rc=$?
	expect_rc 0 "gate with GPUATTEST_EXPECT_GPUS=any"
}

# The shipped units, as installed, are valid for systemd.
test_units() {
	command -v systemd-analyze >/dev/null || { skip "systemd-analyze not installed"; return; }
	local BDIR u
	BDIR=${BUILD:-build}
	for u in "$BDIR"/dist/*.service "$BDIR"/dist/*.timer; do
		[ -e "$u" ] || continue
		# The ExecStart paths exist only once installed: check the syntax only.
		out=$(SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$u" 2>&1 | grep -vE 'Command .* is not executable|not found|No such file|Failed to prepare filename|is not executable|Unit .*not found|, ignoring' )
		if [ -z "$out" ]; then ok; else bad "systemd-analyze verify $(basename "$u")"; fi
	done
	out=$(grep -h '^ExecStart=' "$BDIR"/dist/gpu-attestation.service)
	expect_out "/gpuattest/gpu-gate" "the gate unit runs the gate script"
	out=$(grep -h '^OnCalendar=' "$BDIR"/dist/gpu-attestation-reattest.timer)
	expect_out "daily" "the re-attestation timer is daily"
	# The verifier service runs unprivileged, on a read-only system, with its
	# state directory (where serve finds its audit store and key).
	out=$(cat "$BDIR"/dist/gpuattest-serve.service 2>&1)
	expect_out "gpuattest serve" "the service unit runs 'gpuattest serve'"
	for want in DynamicUser=yes StateDirectory=gpuattest-serve ProtectSystem=strict NoNewPrivileges=yes \
	    CapabilityBoundingSet= PrivateDevices=yes; do
		grep -qx -- "$want" <<<"$out" && ok || bad "gpuattest-serve.service lacks $want"
	done
	expect_no_out "@BINDIR@" "gpuattest-serve.service: the install paths are substituted"
}

# Completion: commands, each command's options from its help, directories
# after a DIR option.
test_completion() {
	local c
	c=$(cd "$(dirname "$0")/../.." && pwd)/dist/bash-completion/gpuattest
	complete_words() { bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gpuattest; printf "%s\n" "${COMPREPLY[@]}"' _ "$c" "$@"; }
	out=$(complete_words "$GPUATTEST" ve)
	expect_out "verify" "completes the command verify"
	expect_out "version" "completes the command version"
	out=$(complete_words "$GPUATTEST" verify --evi)
	expect_out "--evidence" "completes verify's --evidence"
	out=$(complete_words "$GPUATTEST" inspect --for)
	expect_out "--format" "completes inspect's --format"
	mkdir -p "$TMP/cdir/rims-here"
	out=$(cd "$TMP/cdir" && complete_words "$GPUATTEST" verify --rim-dir rims)
	expect_out "rims-here" "a directory after --rim-dir"
}

test_version
test_help_everywhere
test_colour
test_gate
test_units
test_completion
finish
