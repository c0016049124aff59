#!/usr/bin/env bash
# make demo: the real gpuattest CLI attesting a SIMULATED 8-GPU confidential
# system (sim/), once genuine and once with GPU 3's driver measurement 22
# tampered. Exits 0 only when the genuine system passes (exit 0) and the
# tampered one fails (exit 1, naming the measurement).
#
# Owns: a temporary directory, removed on exit. Never touches the ready
# state of real GPUs, never trusts NVIDIA's anchors for simulated devices,
# and never presents its output as coming from NVIDIA hardware: every line
# of it says SIMULATED.
#
#   BUILD=build bash scripts/demo.sh      (after 'make')
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$PWD/$BUILD ;; esac
CLI=${GPUATTEST:-$BDIR/gpuattest}
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so

say() { printf 'SIMULATED | %s\n' "$*"; }
rule() { say "------------------------------------------------------------------------"; }

if [ ! -x "$CLI" ] || [ ! -f "$SIMLIB" ]; then
	echo "demo: $CLI or $SIMLIB is missing: run 'make BUILD=$BUILD' first" >&2
	exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
D=$TMP/sim

banner() {
	say "========================================================================"
	say " SIMULATED confidential GPUs — test PKI, NOT NVIDIA hardware or NVIDIA anchors"
	say " 8 simulated H100 GPUs served by $BUILD/sim/libnvidia-ml-sim.so (NVML ABI)."
	say " Their certificates say 'O=gpuattest SIMULATION' and chain to a root made"
	say " a moment ago in a temporary directory; only that root is trusted here."
	say " Revocation is not checked (--no-ocsp): the test PKI has no OCSP server."
	say "========================================================================"
}

# run_verify TITLE: the CLI against the current simulator config; its output
# is shown line by line, labelled; sets $rc and $out.
run_verify() {
	rule
	say "$1"
	say "\$ gpuattest verify --nvml-lib <simulator> --no-pinned-anchors --trust-anchor <test roots> --rim-dir <test RIMs> --no-ocsp"
	rule
	out=$("$CLI" verify --no-color --nvml-lib "$SIMLIB" --no-pinned-anchors \
	    --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem" --rim-dir "$D/rims" --no-ocsp 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/SIMULATED | /'
	say "(exit code $rc)"
}

banner
say "making the simulated system (test PKI, signed RIMs, config)..."
if ! env_line=$(sim/make-sim-env.sh "$D" 8 0 2>"$TMP/make.log"); then
	sed 's/^/SIMULATED | /' "$TMP/make.log"
	say "could not build the simulated system"
	exit 1
fi
eval "$env_line"

run_verify "1/2 SIMULATED system, all 8 GPUs genuine: expect VERIFICATION SUCCESSFUL (exit 0)"
pass_rc=$rc

sed -i 's/"faults": \[\]/"faults": [{"kind": "tampered_measurement", "gpu": 3, "index": 22}]/' "$GPUATTEST_SIM_CONFIG"
run_verify "2/2 SIMULATED system, GPU 3 driver measurement 22 tampered: expect VERIFICATION FAILED (exit 1)"
tamper_rc=$rc
tamper_named=0
grep -qF "do not match the RIMs: index driver 22" <<<"$out" && tamper_named=1

rule
status=0
if [ "$pass_rc" -eq 0 ]; then say "genuine system: passed (exit 0), as expected"; else
	say "genuine system: exit $pass_rc, expected 0 -- UNEXPECTED"; status=1; fi
if [ "$tamper_rc" -eq 1 ] && [ "$tamper_named" -eq 1 ]; then
	say "tampered GPU 3: failed (exit 1) naming driver measurement 22, as expected"
else
	say "tampered GPU 3: exit $tamper_rc, measurement named: $tamper_named; expected exit 1 naming it -- UNEXPECTED"
	status=1
fi
say "demo $([ $status -eq 0 ] && echo OK || echo FAILED) (SIMULATED devices, test PKI; not NVIDIA hardware)"
exit $status
