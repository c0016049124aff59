#!/usr/bin/env bash
# verify --policy FILE (and --relying-party-policy, NVIDIA's name) on the
# recorded NVIDIA vectors: the policy decides the verdict, the output names
# it (file, SHA-256) and every failed check it accepted (WARNING block,
# "weakened" and "policy" in JSON); what it may never accept stays failed;
# a policy that does not load or evaluate is exit 2. Issue 13.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
OLD=$V/gpu/hopper_545.00_2023
EXP=$V/gpu/hopper_570.124.03

azure() { run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/az" --no-ocsp --nonce "$AZ_NONCE" "$@"; }
old() {
	run_cli verify --report "$OLD/attestation_report.hex.txt" --cert-chain "$OLD/cert_chain.pem.txt" \
	    --rim-dir "$TMP/old" --no-ocsp --insecure-accept-evidence-nonce "$@"
}

# Test policies of our own: what they relax is what each case is about.
write_policies() {
	cat >"$TMP/no-ocsp.rego" <<'P'
package policy
import rego.v1
default nv_match := false
# Offline (--no-ocsp): every check of NVIDIA's default but revocation.
nv_match if {
	count(input) > 0
	every c in input {
		c.measres == "success"
		every k in ["x-nvidia-gpu-attestation-report-cert-chain", "x-nvidia-gpu-driver-rim-cert-chain",
		    "x-nvidia-gpu-vbios-rim-cert-chain"] {
			c[k]["x-nvidia-cert-status"] == "valid"
		}
	}
}
P
	cat >"$TMP/expired-ok.rego" <<'P'
package policy
import future.keywords.every
import future.keywords.in
default nv_match = false
nv_match {
	every c in input {
		c.measres == "success"
		c["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-status"] == "valid"
		c["x-nvidia-gpu-driver-rim-cert-chain"]["x-nvidia-cert-status"] in {"valid", "expired"}
		c["x-nvidia-gpu-vbios-rim-cert-chain"]["x-nvidia-cert-status"] in {"valid", "expired"}
	}
}
P
	printf 'package policy\nnv_match := true\n' >"$TMP/anything.rego"
	printf 'package policy\nnv_match := x\nx := 1 { true }\nx := 2 { true }\n' >"$TMP/conflict.rego"
	printf 'package policy\nnv_match { input[0].measres with input as [] }\n' >"$TMP/with.rego"
	printf '{"authorization-rules": {"type": "JWT", "overall-claims": {"x-nvidia-overall-att-result": true},\n "detached-claims": {"x-nvidia-gpu-driver-version": "%s", "x-nvidia-gpu-attestation-report-cert-chain": {"x-nvidia-cert-status": "valid"}}}}\n' \
	    595.71.05 >"$TMP/driver.json"
	sed 's/595.71.05/600.10/' "$TMP/driver.json" >"$TMP/driver600.json"
}

policy_decides() {
	azure --policy "$TMP/no-ocsp.rego"
	expect_rc 0 "a policy that holds"
	expect_out "verdict by policy $TMP/no-ocsp.rego (sha256 $(sha256sum "$TMP/no-ocsp.rego" | cut -c1-64))" "names file and sha256"
	expect_out "VERIFICATION SUCCESSFUL" "success"
	azure --policy "$TMP/no-ocsp.rego" --format json
	expect_json 'd["policy"]["decision"], d["policy"]["language"], len(d["policy"]["accepted"])' "(True, 'rego', 0)" "json: policy"
	# NVIDIA's default wants OCSP "good": not checked here, so no match.
	azure --relying-party-policy policies/nvidia-default.rego
	expect_rc 1 "NVIDIA's default without revocation"
	expect_out "data.policy.nv_match is false" "says the decision"
	expect_out "VERIFICATION FAILED" "failed"
	azure --policy "$V/../nvidia-2.0/policies/allow_gpu_measurement_mismatch_index_7.rego" --format json
	expect_rc 1 "NVIDIA's index-7 example without revocation"
	expect_json 'd["policy"]["decision"]' "False" "json: decision false"
}

policy_accepts_expired() {
	old --at 2026-11-28T00:00:00Z
	expect_rc 1 "built-in: RIM certificates expired"
	old --at 2026-11-28T00:00:00Z --policy "$TMP/expired-ok.rego"
	expect_rc 0 "the policy accepts the expired RIM certificates"
	expect_out "WARNING: this verification was WEAKENED" "WARNING block"
	expect_out "driver RIM certificate expired: accepted by policy $TMP/expired-ok.rego" "driver RIM named"
	expect_out "VBIOS RIM certificate expired: accepted by policy" "VBIOS RIM named"
	old --at 2026-11-28T00:00:00Z --policy "$TMP/expired-ok.rego" --format json
	expect_json '[a["check"] for a in d["policy"]["accepted"]]' "['rim-cert-chain', 'rim-cert-chain']" "json: accepted"
	expect_json '[w["id"] for w in d["weakened"]].count("policy-override")' 2 "json: weakened"
	expect_json 'd["devices"][0]["verdict"], d["genuine_gpus"]' "('pass', 1)" "json: device verdict"
}

policy_cannot_accept() {
	# The altered driver RIM: its signature does not verify. No policy
	# turns that into a pass, nor the mismatches it would excuse.
	run_cli verify --report "$EXP/attestation_report.hex.txt" --cert-chain "$EXP/cert_chain.pem.txt" \
	    --rim-dir "$TMP/exp" --no-ocsp --insecure-accept-evidence-nonce --policy "$TMP/anything.rego" --format json
	expect_rc 1 "a bad RIM signature stays failed"
	expect_json '[c["outcome"] for c in d["devices"][0]["checks"] if c["check"] == "rim-signature"][0]' fail "rim-signature fail"
	expect_json 'd["policy"]["decision"]' True "the policy said yes"
	# A wrong nonce neither.
	azure --policy "$TMP/anything.rego" --nonce "00${AZ_NONCE:2}"
	expect_rc 1 "a wrong nonce stays failed"
}

policy_errors() {
	azure --policy "$TMP/with.rego"
	expect_rc 2 "outside the subset"
	expect_out "$TMP/with.rego:2:" "file:line:col"
	expect_out "'with' (replacing input or data) is not supported" "construct named"
	azure --policy "$TMP/missing.rego"
	expect_rc 2 "no such file"
	expect_out "missing.rego" "names the file"
	azure --policy "$TMP/conflict.rego"
	expect_rc 2 "evaluation error"
	expect_out "could not be evaluated" "says so"
	azure --policy "$TMP/conflict.rego" --format json
	expect_rc 2 "evaluation error, json"
	expect_json 'd["policy"]["decision"] is None and "two different values" in d["policy"]["error"]' True "json: error"
}

json_policy() {
	azure --policy "$TMP/driver.json"
	expect_rc 0 "JSON policy that matches"
	expect_out "its authorization-rules match the claims" "JSON decision"
	azure --policy "$TMP/driver600.json" --format json
	expect_rc 1 "JSON policy: another driver"
	expect_json 'd["policy"]["language"], d["policy"]["decision"]' "('json', False)" "json: language, decision"
	run_cli help verify
	expect_out "--relying-party-policy" "help names NVIDIA's option name"
	azure --policy "$TMP/no-ocsp.rego" --verifier nras
	expect_rc 2 "--policy with NRAS alone is refused, never ignored"
	expect_out "--policy decides on the local verifier's claims" "says why"
}

main() {
	need_shared || return 0
	mkdir -p "$TMP/az" "$TMP/old" "$TMP/exp"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/az/"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag" "$TMP/old/NV_GPU_DRIVER_GH100_545.00.xml"
	cp "$V/rim/vbios/1010_0200_882_96005E0001_test_no_gpu.swidtag" "$TMP/old/NV_GPU_VBIOS_1010_0200_882_96005E0001.xml"
	cp "$V/rim/negative/NV_GPU_DRIVER_GH100_570.124.03_expired.xml" "$TMP/exp/NV_GPU_DRIVER_GH100_570.124.03.xml"
	cp "$V/rim/vbios/1010_0205_862_96005E0004_PROD.swidtag" "$TMP/exp/NV_GPU_VBIOS_1010_0205_862_96005E0004.xml"
	write_policies
	policy_decides
	policy_accepts_expired
	policy_cannot_accept
	policy_errors
	json_policy
}

main
finish
