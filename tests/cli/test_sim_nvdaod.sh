#!/usr/bin/env bash
# Versioned opaque data end to end (issue 11 point 5): the SIMULATED GPUs
# send NVDAOD reports (driver 620.12, FSP_UCODE_SVN id 37 with value type
# 0x87, an unknown id 38) and the simulator's signed VBIOS RIM carries the
# opaque-data reference value minSvn (ns3). Through a real dlopen of the
# simulated NVML, trusting only the test PKI made here:
#   SVN at the minimum: passes, claims 4.0 show it;
#   SVN below the minimum: fails, the field and both values named, a record
#     in x-nvidia-mismatch-opaque-data-records;
#   an unknown id: passes, and inspect shows it;
#   a header version above 2: could not complete, said;
#   a conflict between driver and VBIOS RIM records: fails;
#   the legacy layout still verifies (the simulator's default).
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so
D=$TMP/sim
trust() { echo --no-pinned-anchors --trust-anchor "$1/root.pem" --trust-anchor "$1/rim/root.pem" --rim-dir "$1/rims" --no-ocsp; }
# shellcheck disable=SC2046 # trust's words split on purpose
live() { run_cli verify --nvml-lib "$SIMLIB" $(trust "$D") "$@"; }

setup() {
	if [ ! -f "$SIMLIB" ]; then
		out="" rc=1
		bad "simulator not built: $SIMLIB (make BUILD=$BUILD)"
		return 1
	fi
	if ! out=$(SIM_OPAQUE_LAYOUT=nvdaod "$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh (nvdaod) failed"
		return 1
	fi
	eval "$out"
}

svn_at_minimum_passes() {
	cfg pass '{}'
	live --format json
	expect_rc 0 "NVDAOD reports, SVN 1 = minimum 1"
	expect_json 'd["devices"][0]["claims"]["x-nvidia-gpu-claims-version"]' 4.0 "claims 4.0"
	expect_json 'd["devices"][0]["claims"]["x-nvidia-gpu-driver-version"]' 620.12 "driver 620.12"
	expect_json 'd["devices"][0]["claims"]["x-nvidia-attester-claims"]' "{'fsp_ucode_svn': 1}" "attester claims"
	expect_json 'd["devices"][0]["claims"]["x-nvidia-mismatch-opaque-data-records"]' None "no mismatch records"
	expect_json 'd["devices"][0]["claims"]["measres"]' success "measres"
	expect_json '[c["outcome"] for c in d["devices"][1]["checks"] if c["check"] == "opaque-data"]' "['pass']" \
		"the opaque-data check passed"
	expect_json '[c["detail"] for c in d["devices"][0]["checks"] if c["check"] == "report-parse"][0].endswith("bytes of NVDAOD opaque data version 2")' \
		True "report-parse names the layout and version"
	cfg above '{"fsp_ucode_svn": 7}'
	live
	expect_rc 0 "SVN above the minimum"
}

svn_below_fails() {
	cfg below '{"fsp_ucode_svn": 0}'
	live
	expect_rc 1 "SVN 0 below minimum 1"
	expect_out 'FSP_UCODE_SVN (opaque id 37, VBIOS RIM record "fsp_ucode_svn"): SVN 0 is below the minimum 1' \
		"the field, the record and both values named"
	expect_out "VERIFICATION FAILED" "below: verdict"
	live --format json
	expect_json 'd["claims"][0]["x-nvidia-mismatch-opaque-data-records"]' \
		"[{'id': 37, 'name': 'fsp_ucode_svn', 'goldenType': 'MIN_SVN', 'goldenValue': 1, 'runtimeType': 'MIN_SVN', 'runtimeValue': 0}]" \
		"NVIDIA's record shape"
	expect_json 'd["claims"][0]["measres"]' fail "measres fails"
	expect_json 'd["claims"][0]["x-nvidia-mismatch-measurement-records"]' None "no hash mismatch"
	expect_json 'd["claims"][0]["x-nvidia-attester-claims"]' "{'fsp_ucode_svn': 0}" "the runtime value still shown"
	live --format json --claims-version 3
	expect_rc 1 "claims 3: same verdict"
	expect_json 'd["claims"][0]["measres"]' fail "claims 3: measres fails too"
}

unknown_id_shown() {
	cfg unknown '{"unknown_opaque_id": 4242}'
	live
	expect_rc 0 "an unknown id passes"
	run_cli collect --nvml-lib "$SIMLIB" -o "$TMP/ev.json"
	expect_rc 0 "collect NVDAOD evidence"
	run_cli inspect "$TMP/ev.json" --format json
	expect_rc 0 "inspect the collected evidence"
	expect_json '[(e["name"], e["value_type"], e["value"]) for e in d["devices"][0]["response"]["OpaqueDataEntries"] if e["id"] == 4242]' \
		"[('TYPE_4242', '0x85', 'aa00')]" "inspect shows the unknown id with its value type"
	expect_json 'd["devices"][0]["response"]["OpaqueDataLayout"]' NVDAOD "inspect: layout"
	expect_json '[e["svn"] for e in d["devices"][0]["response"]["OpaqueDataEntries"] if e["id"] == 37]' "[1]" "inspect: the SVN"
}

newer_version_said() {
	cfg v3 '{"opaque_version": 3}'
	live
	expect_rc 3 "opaque data version 3: could not complete"
	expect_out "opaque data version 3 is newer than this verifier supports (max 2)" "version 3 said"
	expect_no_out "VERIFICATION SUCCESSFUL" "version 3: no pass"
	# A forged report is still a failure, whatever its version says.
	cfg v3bad '{"opaque_version": 3, "faults": [{"kind": "bad_signature"}]}'
	live
	expect_rc 1 "version 3 with a bad signature fails"
}

rim_conflict_fails() {
	local C=$TMP/conflict
	cfg conflict '{}'
	cp -r "$D" "$C"
	rm -f "$C"/rims/*
	if ! SIM_DRIVER_OPAQUE="37:0:driver_svn" SIM_VBIOS_OPAQUE="37:1:fsp_ucode_svn" "$ROOT/sim/make-rims.sh" "$C" 620.12 96.00.9F.00.04 1010 0210 886 >/dev/null 2>&1; then
		bad "make-rims.sh with records in both RIMs failed"
		return
	fi
	run_cli verify --nvml-lib "$SIMLIB" --no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem" \
		--rim-dir "$C/rims" --no-ocsp
	expect_rc 1 "the same id in the driver and the VBIOS RIM"
	expect_out 'opaque-data reference values conflict: driver RIM record "driver_svn" (opaque id 37) and VBIOS RIM record "fsp_ucode_svn" (opaque id 37) name the same id' \
		"the conflict named"
}

legacy_still_verifies() {
	cfg legacy '{"opaque_layout": "legacy"}'
	live --format json
	# Legacy data has no value types: the RIM's SVN floor cannot be met.
	expect_rc 1 "legacy report against a RIM with an SVN floor"
	expect_json 'd["claims"][0]["x-nvidia-mismatch-opaque-data-records"]' \
		"[{'id': 37, 'name': 'fsp_ucode_svn', 'goldenType': 'MIN_SVN', 'goldenValue': 1}]" "a record without runtime values"
}

# Rubin: a simulated GR100 chain (test PKI) with NVDAOD reports. Chain,
# signature and FWID are checked as for Blackwell; there is no SWID RIM id
# for Rubin, so the reference values cannot be compared: exit 3, said.
rubin_not_done() {
	local R=$TMP/rubin nonce=5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e
	if ! out=$(SIM_GPU_CHIP=GR100 SIM_OPAQUE_LAYOUT=nvdaod "$ROOT/sim/make-sim-env.sh" "$R" 1 0 2>&1); then
		rc=1
		bad "make-sim-env.sh for a Rubin GPU failed"
		return
	fi
	eval "$out"
	run_cli collect --nvml-lib "$SIMLIB" --nonce "$nonce" -o "$TMP/rubin.json"
	expect_rc 0 "collect from the simulated Rubin GPU"
	python3 - "$TMP/rubin.json" <<-'PY'
	import json, sys
	e = json.load(open(sys.argv[1]))
	for i, x in enumerate(e):
	    x["arch"] = "rubin" if i == 0 else "RUBIN"
	json.dump(e, open(sys.argv[1], "w"))
	PY
	# shellcheck disable=SC2046 # trust's words split on purpose
	run_cli verify --evidence "$TMP/rubin.json" --nonce "$nonce" $(trust "$R") --format json
	expect_rc 3 "Rubin: could not complete"
	expect_json '[c["outcome"] for c in d["devices"][0]["checks"] if c["check"] == "arch"]' "['pass']" \
		"arch \"rubin\" accepted (any case) for a GR100 chain"
	expect_json '[c["detail"] for c in d["devices"][0]["checks"] if c["check"] == "arch"][0]' "RUBIN (GR100 A01 GSP BROM)" "arch named"
	expect_json '[c["outcome"] for c in d["devices"][0]["checks"] if c["check"] in ("report-signature", "fwid", "device-cert-chain", "nonce")]' \
		"['pass', 'pass', 'pass', 'pass']" "Rubin: signature, chain, nonce and FWID checked"
	expect_json '[c["outcome"] for c in d["devices"][0]["checks"] if c["check"] == "rim-fetch"]' "['not-done']" "no RIM fetched"
	expect_json '"no reference manifest scheme for Rubin in this version" in [c["detail"] for c in d["devices"][0]["checks"] if c["check"] == "rim-fetch"][0]' \
		True "the missing scheme said"
	expect_json 'd["claims"][0]["hwmodel"]' "GR100 A01 GSP BROM" "hwmodel"
	run_cli inspect "$TMP/rubin.json" --format json
	expect_json 'd["devices"][0]["derived"]["arch"]' RUBIN "inspect: arch"
	expect_json 'd["devices"][0]["derived"]["rim_id_error"]' "no reference manifest scheme for Rubin in this version" \
		"inspect: no RIM id, said"
	# A Rubin chain in evidence that says HOPPER is a failure, as for any other mismatch.
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); e[0]["arch"]="HOPPER"; json.dump(e, open(sys.argv[1],"w"))' "$TMP/rubin.json"
	# shellcheck disable=SC2046
	run_cli verify --evidence "$TMP/rubin.json" --nonce "$nonce" $(trust "$R")
	expect_rc 1 "Rubin chain, HOPPER evidence"
	expect_out 'evidence says arch "HOPPER" but the certificate chain is RUBIN' "the mismatch said"
}

main() {
	setup || return 0
	rubin_not_done
	svn_at_minimum_passes
	svn_below_fails
	unknown_id_shown
	newer_version_said
	rim_conflict_fails
	legacy_still_verifies
}
main
finish
