#!/usr/bin/env bash
# make demo: the real gpuattest CLI attesting a SIMULATED 8-GPU confidential
# system (sim/), once genuine and once with GPU 3's driver measurement 22
# tampered; then the same 8 GPUs with a driver of the CUDA 13.5 era sending
# versioned opaque data (NVDAOD) and a VBIOS RIM with a minimum FSP ucode SVN:
# at the minimum (pass), below it (fail, the field named), with an unknown
# opaque id (pass, shown by inspect), with an opaque-data version above the
# maximum (could not complete, said). Exits 0 only when every case ends as
# expected.
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
	say "\$ gpuattest verify --nvml-lib <simulator> --no-pinned-anchors --device-anchor <test device root> --rim-anchor <test RIM root> --rim-dir <test RIMs> --no-ocsp"
	rule
	out=$("$CLI" verify --no-color --nvml-lib "$SIMLIB" --no-pinned-anchors \
	    --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem" --rim-dir "$D/rims" --no-ocsp 2>&1)
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

# expect_case WHAT WANT_RC NEEDLE: the last run ended with WANT_RC and said NEEDLE.
nv_status=0
expect_case() {
	if [ "$rc" -eq "$2" ] && grep -qF -- "$3" <<<"$out"; then
		say "$1: exit $rc, as expected"
	else
		say "$1: exit $rc, expected $2 and '$3' -- UNEXPECTED"; nv_status=1
	fi
}
nv_config() {
	python3 - "$GPUATTEST_SIM_CONFIG" "$1" <<-'PY'
	import json, sys
	c = json.load(open(sys.argv[1])); c.update(json.loads(sys.argv[2])); c["faults"] = []
	json.dump(c, open(sys.argv[1], "w"), indent=1)
	PY
}

D=$TMP/sim-nvdaod
say "making a second simulated system: NVDAOD opaque data, driver 620.12, VBIOS RIM with minSvn 1 for FSP_UCODE_SVN..."
if ! env_line=$(SIM_OPAQUE_LAYOUT=nvdaod sim/make-sim-env.sh "$D" 8 0 2>"$TMP/make.log"); then
	sed 's/^/SIMULATED | /' "$TMP/make.log"
	say "could not build the simulated NVDAOD system"
	exit 1
fi
eval "$env_line"
nv_config '{"fsp_ucode_svn": 1}'
run_verify "NVDAOD 1/4: versioned opaque data, FSP_UCODE_SVN 1 = the RIM's minimum 1: expect exit 0"
expect_case "NVDAOD at the minimum SVN" 0 "opaque-data reference value(s) met"
nv_config '{"fsp_ucode_svn": 0}'
run_verify "NVDAOD 2/4: FSP_UCODE_SVN 0, below the RIM's minimum 1: expect exit 1 naming the field"
expect_case "NVDAOD below the minimum SVN" 1 "FSP_UCODE_SVN (opaque id 37"
nv_config '{"fsp_ucode_svn": 1, "unknown_opaque_id": 4242}'
run_verify "NVDAOD 3/4: an opaque id no verifier knows (4242): expect exit 0, and inspect shows it"
expect_case "NVDAOD with an unknown id" 0 "VERIFICATION SUCCESSFUL"
"$CLI" collect --nvml-lib "$SIMLIB" -o "$TMP/nvdaod.json" >/dev/null 2>&1
out=$("$CLI" inspect "$TMP/nvdaod.json" 2>&1 | grep -B1 -A6 'id: 4242' | head -n 8)
rc=$?
printf '%s\n' "$out" | sed 's/^/SIMULATED | inspect: /'
expect_case "inspect shows the unknown id" 0 "name: TYPE_4242"
nv_config '{"opaque_version": 3}'
run_verify "NVDAOD 4/4: opaque-data version 3, above the maximum 2: expect exit 3, said"
expect_case "NVDAOD version above the maximum" 3 "opaque data version 3 is newer than this verifier supports (max 2)"

rule
status=$nv_status
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
