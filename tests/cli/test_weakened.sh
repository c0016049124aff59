#!/usr/bin/env bash
# Every weakening in force is listed before the verdict (text: a WARNING
# block) and in JSON ("weakened": [{id, detail}], always present), on the
# recorded NVIDIA vectors. Issue 10 points 3, 6, 7.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004

azure() { run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" "$@"; }

# weakened_ids: the ids of "weakened", comma-separated, in order.
weakened_ids() { json_get '",".join(w["id"] for w in d["weakened"])'; }

weakenings_listed() {
	azure --no-ocsp --nonce "$AZ_NONCE" --format json
	expect_rc 0 "--no-ocsp, json"
	expect_json '",".join(w["id"] for w in d["weakened"])' "no-ocsp" "--no-ocsp: weakened lists no-ocsp"
	expect_json '"revocation" in d["weakened"][0]["detail"]' True "--no-ocsp: the detail says what"

	azure --no-ocsp --nonce "$AZ_NONCE" --at 2026-06-01T00:00:00Z --format json
	expect_json '",".join(w["id"] for w in d["weakened"])' "no-ocsp,at" "--at: weakened lists at"
	expect_json '"2026-06-01T00:00:00Z" in d["weakened"][1]["detail"]' True "--at: the time named"

	azure --no-ocsp --nonce "$AZ_NONCE"
	expect_rc 0 "--no-ocsp, text"
	expect_out "WARNING: this verification was WEAKENED" "text: WARNING block"
	expect_out "[no-ocsp]" "text: the no-ocsp entry"
	# The block comes before the verdict.
	if [ "$(grep -n 'WEAKENED' <<<"$out" | cut -d: -f1)" -lt "$(grep -n 'VERIFICATION SUCCESSFUL' <<<"$out" | cut -d: -f1)" ]; then
		ok
	else
		bad "the WARNING block is not before the verdict"
	fi
}

recorded_needs_nonce() {
	azure --no-ocsp
	expect_rc 3 "recorded evidence without --nonce"
	expect_out "freshness not proven" "without --nonce: says why"
	expect_no_out "VERIFICATION SUCCESSFUL" "without --nonce: no success"
	azure --no-ocsp --insecure-accept-evidence-nonce --format json
	expect_rc 0 "--insecure-accept-evidence-nonce"
	expect_json '",".join(w["id"] for w in d["weakened"])' "no-ocsp,evidence-nonce" \
	    "--insecure-accept-evidence-nonce: listed as a weakening"
	azure --no-ocsp --nonce "$AZ_NONCE" --insecure-accept-evidence-nonce --format json
	expect_rc 0 "--nonce and the opt-in"
	expect_json '",".join(w["id"] for w in d["weakened"])' "no-ocsp" "with --nonce the opt-in weakens nothing"
	azure --no-ocsp --nonce "00${AZ_NONCE:2}" --insecure-accept-evidence-nonce
	expect_rc 1 "the opt-in does not excuse a wrong --nonce"
	run_cli help verify
	expect_out "--insecure-accept-evidence-nonce" "help verify documents the opt-in"
	expect_out "replayed" "help verify: says what it accepts"
}

main() {
	need_shared || return 0
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	weakenings_listed
	recorded_needs_nonce
}

main
finish
