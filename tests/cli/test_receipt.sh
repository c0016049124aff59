#!/usr/bin/env bash
# Audit receipts: `verify --receipt FILE` writes one, `verify --check-receipt
# FILE` re-verifies it offline at its recorded time. NVIDIA's real Azure
# evidence with its RIMs makes a receipt that reproduces; every kind of
# tampering (one byte, the evidence, a RIM, an OCSP answer, the verdict,
# each also with the digest recomputed) is caught; an old or foreign format
# is refused; a receipt never brings its own trust anchor. The simulated
# system (live, through NVML) with a loopback OCSP responder makes receipts
# that carry OCSP answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIMLIB=${GPUATTEST_SIM_LIB:-$(dirname "$GPUATTEST")/sim/libnvidia-ml-sim.so}
D=$TMP/sim
AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
AT=2026-11-28T00:00:00Z
URL_ocsp=""

# mutate IN OUT PYTHON [redigest]: OUT is IN with PYTHON applied to its
# document d (helpers b64flip(s) and flip_rim()); with "redigest" the
# integrity digest is recomputed the way gpuattest computes it, so only
# re-verification can notice.
mutate() {
	python3 - "$1" "$2" "$3" "${4:-}" <<-'PY'
	import base64, hashlib, json, sys
	d = json.load(open(sys.argv[1]))
	def b64flip(s, at=200):
	    b = bytearray(base64.b64decode(s)); b[at % len(b)] ^= 1
	    return base64.b64encode(bytes(b)).decode()
	exec(sys.argv[3])
	if sys.argv[4] == "redigest":
	    c = dict(d); del c["integrity"]
	    d["integrity"]["value"] = hashlib.sha256(json.dumps(c, sort_keys=True, separators=(",", ":"),
	        ensure_ascii=True).encode()).hexdigest()
	open(sys.argv[2], "w").write(json.dumps(d, sort_keys=True, indent=1, ensure_ascii=True))
	PY
}
check() { run_cli verify --check-receipt "$@"; }

azure() {
	need_shared || return 0
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	R=$TMP/azure.receipt
	run_cli verify --evidence "$AZ/gpu-evidence.json" --nonce "$AZ_NONCE" --rim-dir "$TMP/rims" --no-ocsp \
	    --at "$AT" --receipt "$R"
	expect_rc 0 "Azure evidence verifies"
	expect_out "receipt written to $R" "receipt: said"
	out=$(cat "$R") rc=0
	expect_json 'd["format"], d["version"]' "('gpuattest-receipt', 1)" "receipt: format and version"
	expect_json 'sorted(d["collateral"]["rims"])' "['NV_GPU_DRIVER_GH100_595.71.05', 'NV_GPU_VBIOS_1010_0210_886_96009F0004']" \
	    "receipt: both RIMs carried"
	expect_json 'd["verified_at"], d["nonce"]' "('$AT', '$AZ_NONCE')" "receipt: time and nonce"
	expect_json 'd["options"]["no_ocsp"], d["options"]["pinned_anchors"]' "(True, True)" "receipt: options"
	expect_json '[w["id"] for w in d["weakened"]] == [w["id"] for w in d["result"]["weakened"]] and len(d["weakened"]) > 0' \
	    True "receipt: weakenings in force"
	expect_json 'd["result"]["result"]' pass "receipt: the verdict"
	rm -rf "$TMP/rims"		# re-verification needs nothing but the receipt

	check "$R"
	expect_rc 0 "the receipt re-verifies offline"
	expect_out "RECEIPT VERIFIED: the recorded verdict (verified, exit 0) is reproduced." "reproduced: said"
	check "$R" --format json
	expect_json 'd["reproduced"], d["differences"]' "(True, [])" "json: reproduced"

	python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); i = b.index(b"\"evidence\": \"") + 200; b[i] = ord("A") if b[i] != ord("A") else ord("B"); open(sys.argv[2], "wb").write(b)' "$R" "$TMP/byte"
	check "$TMP/byte"
	expect_rc 1 "one byte changed"
	expect_out "was changed after it was written" "one byte: said"
	{ cat "$R"; echo; } >"$TMP/ws"
	check "$TMP/ws"
	expect_rc 1 "one whitespace byte added"
	expect_out "its bytes are not those gpuattest wrote" "whitespace: said"

	mutate "$R" "$TMP/ev" 'd["evidence"][0]["evidence"] = b64flip(d["evidence"][0]["evidence"], 3000)' redigest
	check "$TMP/ev"
	expect_rc 1 "evidence changed, digest recomputed"
	expect_out "RECEIPT NOT REPRODUCED" "evidence: not reproduced"
	expect_out "report-signature was pass, now fail" "evidence: the check named"
	mutate "$R" "$TMP/rim" 'k = "NV_GPU_DRIVER_GH100_595.71.05"; d["collateral"]["rims"][k] = base64.b64encode(base64.b64decode(d["collateral"]["rims"][k]).replace(b"Hash0=\"", b"Hash0=\"0", 1).replace(b"Hash0=\"0", b"Hash0=\"", 1).replace(b"SHA384", b"SHA385", 1)).decode()' redigest
	check "$TMP/rim"
	expect_rc 1 "a RIM changed, digest recomputed"
	expect_out "RECEIPT NOT REPRODUCED" "RIM: not reproduced"
	mutate "$R" "$TMP/verdict" 'd["result"]["result"] = "fail"; d["result"]["exit_code"] = 1' redigest
	check "$TMP/verdict"
	expect_rc 1 "the verdict changed, digest recomputed"
	expect_out "verdict: recorded fail, re-verified pass" "verdict: named"

	mutate "$R" "$TMP/old" 'd["version"] = 0' redigest
	check "$TMP/old"
	expect_rc 2 "an old-format receipt"
	expect_out "receipt format version 0 is not supported: this gpuattest reads version 1" "old format: said"
	check "$AZ/gpu-evidence.json"
	expect_rc 2 "not a receipt"
	expect_out "is not a gpuattest receipt" "not a receipt: said"
	run_cli verify --check-receipt "$R" --evidence "$AZ/gpu-evidence.json"
	expect_rc 2 "--check-receipt with evidence is bad usage"
}

sim() {
	if [ ! -f "$SIMLIB" ]; then bad "simulator not built: $SIMLIB"; return; fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then rc=1; bad "make-sim-env.sh failed"; return; fi
	eval "$out"
	start_ocspd || return
	local T=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem")
	local L=(--nvml-lib "$SIMLIB" --rim-dir "$D/rims" --ocsp-url "$URL_ocsp" --no-cache)
	openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/sign.pem" 2>/dev/null
	run_cli verify "${L[@]}" "${T[@]}" --receipt "$TMP/live.receipt" --sign-key "$TMP/sign.pem" \
	    --result-token "$TMP/live.jwt"
	expect_rc 0 "live simulated system with OCSP"
	out=$(cat "$TMP/live.receipt") rc=0
	expect_json 'len(d["collateral"]["ocsp"]) > 0, d["system"] is not None' "(True, True)" \
	    "live receipt: OCSP answers and the driver's answers carried"
	expect_json 'd["token"] == open("'"$TMP/live.jwt"'").read().strip()' True "live receipt: the signed token carried"
	check "$TMP/live.receipt" "${T[@]}"
	expect_rc 0 "a live receipt re-verifies offline, OCSP answers included"
	check "$TMP/live.receipt"
	expect_rc 3 "the test anchors not named: cannot re-verify"
	expect_out "an anchor you did not name" "anchor: a receipt brings no trust of its own"
	mutate "$TMP/live.receipt" "$TMP/ocsp" 'k = sorted(d["collateral"]["ocsp"])[0]; d["collateral"]["ocsp"][k] = b64flip(d["collateral"]["ocsp"][k], -20)' redigest
	check "$TMP/ocsp" "${T[@]}"
	expect_rc 1 "an OCSP answer changed, digest recomputed"
	expect_out "RECEIPT NOT REPRODUCED" "OCSP answer: not reproduced"

	fault bad '{"kind": "tampered_measurement", "index": 22, "gpu": 1}'
	run_cli verify "${L[@]}" "${T[@]}" --receipt "$TMP/fail.receipt"
	expect_rc 1 "a failing live run"
	check "$TMP/fail.receipt" "${T[@]}"
	expect_rc 0 "a failure's receipt reproduces too"
	expect_out "the recorded verdict (failed, exit 1) is reproduced" "failure reproduced: said"
}

azure
sim
finish
