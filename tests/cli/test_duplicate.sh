#!/usr/bin/env bash
# "One device twice" is found by the device's stable identity, the PDI its
# BROM certificate names (issue 10.8), not by the leaf certificate, which
# NVIDIA re-issues with every firmware:
#   - NVIDIA's evidence twice under two indices fails as a duplicate, naming
#     both devices and the PDI;
#   - two reports of the SAME physical GPU under different firmware (NVIDIA's
#     570.124.03 and 580.159.03 samples: one BROM PDI, two leaf serials) fail
#     as a duplicate, although their leaf certificates differ;
#   - two different GPUs (NVIDIA's 590.12 evidence and its other-GPU twin)
#     are not duplicates;
#   - two SIMULATED GPUs given the same PDI but each its own leaf (and leaf
#     serial) fail as a duplicate on the live path.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so
G=$V/gpu

# evidence OUT ITEM...: an evidence list of ITEMs, each a recorded evidence
# JSON (its first entry) or a "report.hex.txt:chain.pem" pair.
evidence() {
	python3 - "$@" <<-'EOF'
	import base64, json, sys
	out, items = sys.argv[1], []
	for it in sys.argv[2:]:
	    if it.endswith(".json"):
	        items.append(json.load(open(it))[0])
	        continue
	    rep, chain = it.split(":")
	    raw = bytes.fromhex(open(rep).read().strip())
	    items.append({"arch": "HOPPER", "certificate": base64.b64encode(open(chain, "rb").read()).decode(),
	                  "evidence": base64.b64encode(raw).decode()})
	json.dump(items, open(out, "w"))
	EOF
}

recorded() {
	need_shared || return 0
	local e=$G/hopper_590.12/evidence.json
	evidence "$TMP/twice.json" "$e" "$e"
	run_cli verify --evidence "$TMP/twice.json" --insecure-accept-evidence-nonce --offline
	expect_rc 1 "the same evidence twice"
	expect_out "[FAIL] the same device as GPU 0 (device identity PDI 2921CE551E4EEDA3, from the BROM certificate's serialNumber)" \
		"the same evidence twice: both devices and the PDI named"
	expect_out "GPU 1: the same device as GPU 0" "the same evidence twice: GPU 1 is the one that fails"

	evidence "$TMP/fw.json" "$G/hopper_570.124.03/attestation_report.hex.txt:$G/hopper_570.124.03/cert_chain.pem.txt" \
		"$G/hopper_580.159.03/attestation_report.hex.txt:$G/hopper_580.159.03/cert_chain.pem.txt"
	run_cli verify --evidence "$TMP/fw.json" --insecure-accept-evidence-nonce --offline
	expect_rc 1 "one GPU under two firmwares"
	expect_out "the same device as GPU 0 (device identity PDI E23D711E1C4FBFAC, from the BROM certificate's serialNumber; their leaf certificates differ" \
		"one GPU under two firmwares: found by its PDI although the leaves differ"

	evidence "$TMP/two.json" "$e" "$G/hopper_590.12/evidence_other_gpu.json"
	run_cli verify --evidence "$TMP/two.json" --insecure-accept-evidence-nonce --offline
	expect_no_out "the same device" "two different GPUs are not duplicates"
	expect_no_out "[FAIL]" "two different GPUs: nothing fails"
}

simulated() {
	local d=$TMP/sim
	if [ ! -f "$SIMLIB" ]; then
		skip "simulator not built: $SIMLIB"
		return 0
	fi
	# GPU 1 gets GPU 0's PDI before the PKI issues its BROM certificate;
	# its keys, leaf and leaf serial are its own.
	mkdir -p "$d/gpu1"
	if ! out=$("$ROOT/sim/make-pki.sh" "$d" 1 0 2>&1) || ! cp "$d/gpu0/pdi" "$d/gpu1/pdi" ||
		! out=$("$ROOT/sim/make-sim-env.sh" "$d" 2 0 2>&1); then
		rc=1; bad "simulator PKI"; return 0
	fi
	eval "$out"
	local pdi s0 s1
	pdi=$(cat "$d/gpu0/pdi")
	s0=$(openssl x509 -in "$d/gpu0/leaf.crt" -noout -serial) s1=$(openssl x509 -in "$d/gpu1/leaf.crt" -noout -serial)
	if [ "$s0" != "$s1" ]; then ok; else bad "simulated GPUs: leaf serials should differ"; fi
	run_cli verify --nvml-lib "$SIMLIB" --no-pinned-anchors --device-anchor "$d/root.pem" \
		--rim-anchor "$d/rim/root.pem" --rim-dir "$d/rims" --no-ocsp
	expect_rc 1 "two simulated GPUs with one PDI"
	expect_out "the same device as GPU 0 (device identity PDI $pdi" "two simulated GPUs with one PDI: the PDI named"
	run_cli verify --nvml-lib "$SIMLIB" --no-pinned-anchors --device-anchor "$d/root.pem" \
		--rim-anchor "$d/rim/root.pem" --rim-dir "$d/rims" --no-ocsp --gpu 0
	expect_rc 0 "either simulated GPU alone passes"
}

recorded
simulated
finish
