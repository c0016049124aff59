#!/usr/bin/env bash
# Acceptance of 'gpuattest verify' against loopback network services:
# revocation (OCSP) and RIM fetching, end to end, with every fault the
# services can show, the cache, and offline collateral bundles.
#
# The evidence comes from the SIMULATED GPUs (sim/, libnvidia-ml-sim.so of
# the same build dir as $GPUATTEST) and chains to a test PKI made at run time
# in $TMP, so every case trusts only that PKI's roots (--no-pinned-anchors
# --trust-anchor ...). The services are tests/servers/rimsvc.py (the sim's
# signed RIMs in NVIDIA's JSON shape) and tests/servers/ocspd.py (one URL for
# all six issuing CAs of the sim PKI, routed by issuer key hash; every
# answer comes from the real `openssl ocsp` responder over the CA's
# `openssl ca` database). Revocations are made with `openssl ca -revoke` in
# those databases and undone from a pristine copy after each case.
#
# Owns: nothing outside $TMP. Never: listens anywhere but 127.0.0.1, leaves
# a server running (EXIT trap, and the servers watch their parent), or waits
# without a bound.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

# ---- cases ----------------------------------------------------------------

end_to_end() {
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$TMP/e2e-cache"
	expect_rc 0 "online"
	expect_out "VERIFICATION SUCCESSFUL" "online: verdict"
	expect_count "device certificate not revoked (OCSP good, fresh answer)" "$NGPUS" "online: device OCSP"
	expect_count "RIM $DRV not revoked (OCSP good, fresh answer)" "$NGPUS" "online: driver RIM OCSP"
	expect_count "RIM $VB not revoked (OCSP good, fresh answer)" "$NGPUS" "online: VBIOS RIM OCSP"

	online --format json
	expect_rc 0 "online json"
	json_check 'd["result"] == "pass" and d["revocation_checked"] is True' "online json: result"
	json_check "len($CHAINS) == 3 * $NGPUS" "online json: 3 chains per GPU"
	json_check "all(c['x-nvidia-cert-ocsp-status'] == 'good' for c in $CHAINS)" "online json: all good"
	json_check "all(c['x-nvidia-cert-ocsp-nonce-matches'] is True for c in $CHAINS)" "online json: nonces"
	json_check "all(c['x-nvidia-cert-ocsp-response-valid'] is True for c in $CHAINS)" "online json: valid"
	json_check "all(c['x-nvidia-cert-revocation-reason'] is None for c in $CHAINS)" "online json: no reason"
}

device_revoked() {
	revoke prov-gh100 "$D/gpu0/brom.crt" -crl_reason keyCompromise
	online
	expect_rc 1 "GPU 0 BROM revoked"
	expect_out "GPU 0: device certificate REVOKED (reason: keyCompromise)" "BROM revoked: message"
	expect_no_out "GPU 1: device certificate REVOKED" "BROM revoked: GPU 1 unaffected"
	expect_count "device certificate REVOKED" 2 "BROM revoked: one check + one summary line"
	online --format json
	json_check 'd["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"] == "revoked"' \
	    "BROM revoked: json status"
	json_check 'd["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-revocation-reason"] == "keyCompromise"' \
	    "BROM revoked: json reason"
	json_check 'd["claims"][1]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"] == "good"' \
	    "BROM revoked: GPU 1 json good"
	restore_databases

	revoke identity "$D/ca/prov-gh100/ca.crt" -crl_reason cACompromise
	online
	expect_rc 1 "provisioner ICA revoked"
	expect_count "device certificate REVOKED (reason: cACompromise)" $((2 * NGPUS)) "ICA revoked: every GPU"
	restore_databases

	# A device certificate on hold is never accepted, whatever the option says.
	revoke prov-gh100 "$D/gpu1/brom.crt" -crl_hold holdInstructionReject
	online --allow-hold-cert
	expect_rc 1 "device cert on hold + --allow-hold-cert"
	expect_out "GPU 1: device certificate REVOKED (reason: certificateHold)" "device hold: message"
	expect_no_out "ON HOLD" "device hold: not accepted"
	restore_databases
}

rim_signer_hold() {
	revoke rim-l3 "$D/rim/signer.crt" -crl_hold holdInstructionReject
	online
	expect_rc 1 "RIM signer on hold"
	expect_out "RIM $DRV REVOKED (reason: certificateHold); --allow-hold-cert accepts a held RIM signing certificate" \
	    "RIM hold: message"
	online --allow-hold-cert
	expect_rc 0 "RIM signer on hold + --allow-hold-cert"
	expect_count "RIM $DRV is ON HOLD (certificateHold), accepted because --allow-hold-cert was given" "$NGPUS" \
	    "RIM hold accepted: driver"
	expect_count "RIM $VB is ON HOLD (certificateHold), accepted because --allow-hold-cert was given" "$NGPUS" \
	    "RIM hold accepted: VBIOS"
	online --allow-hold-cert --format json
	json_check 'd["claims"][0]["x-nvidia-gpu-driver-rim-cert-chain"]["x-nvidia-cert-revocation-reason"] == "certificateHold"' \
	    "RIM hold accepted: json reason"
	restore_databases
	# Revoked for good: the option does not help.
	revoke rim-l3 "$D/rim/signer.crt" -crl_reason keyCompromise
	online --allow-hold-cert
	expect_rc 1 "RIM signer revoked + --allow-hold-cert"
	expect_out "RIM $DRV REVOKED (reason: keyCompromise)" "RIM revoked: message"
	restore_databases
}

unknown_cert() {
	forget prov-gh100 "$D/gpu0/brom.crt"
	online
	expect_rc 1 "BROM unknown to the responder"
	expect_out "GPU 0: device certificate: the OCSP responder does not know this certificate" "unknown: message"
	online --format json
	json_check 'd["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"] == "unknown"' \
	    "unknown: json"
	restore_databases
}

bad_responders() {
	v --ocsp-url "$URL_ocsp/signer=rogue" --rim-url "$URL_rim" --no-cache
	expect_rc 1 "answers signed by the root's responder for the ICA's certificates"
	expect_out "device certificate OCSP response INVALID" "rogue signer: device"
	expect_out "RIM $DRV OCSP response INVALID" "rogue signer: RIM"

	v --ocsp-url "$URL_ocsp/signer=selfsigned" --rim-url "$URL_rim" --no-cache
	expect_rc 1 "answers signed by a self-signed responder"
	expect_out "device certificate OCSP response INVALID" "self-signed signer"

	v --ocsp-url "$URL_ocsp/badsig" --rim-url "$URL_rim" --no-cache --format json
	expect_rc 1 "corrupted response signature"
	json_check "all(c['x-nvidia-cert-ocsp-response-valid'] is False for c in $CHAINS)" "badsig: json not valid"
	json_check "all(c['x-nvidia-cert-ocsp-status'] != 'good' for c in $CHAINS)" "badsig: json not good"

	v --ocsp-url "$URL_ocsp/garbage" --rim-url "$URL_rim" --no-cache
	expect_rc 3 "responder answers bytes that are not DER"
	expect_out "revocation could not be checked" "garbage: message"

	v --ocsp-url "$URL_ocsp/ctype=text_html" --rim-url "$URL_rim" --no-cache --retries 0
	expect_rc 3 "responder answers the wrong Content-Type"
}

stale_response() {
	# nextUpdate = now + 1 min, verified as of now + 20 min (past the 300 s skew).
	v --ocsp-url "$URL_ocsp/nmin=1" --rim-url "$URL_rim" --no-cache --at "$(now_plus '+20 min')" --format json
	expect_rc 3 "stale response (past nextUpdate)"
	json_check "all(c['x-nvidia-cert-ocsp-status'] == 'error' for c in $CHAINS)" "stale: json status error"
	json_check "all(c['x-nvidia-cert-ocsp-response-valid'] is False for c in $CHAINS)" "stale: json not valid"
	v --ocsp-url "$URL_ocsp/nmin=1" --rim-url "$URL_rim" --no-cache --at "$(now_plus '+20 min')"
	expect_out "response expired: nextUpdate" "stale: message"
	expect_out "revocation could not be checked" "stale: not done"
	expect_no_out "not revoked" "stale: nothing good"
	# Still inside nextUpdate + skew: fine.
	v --ocsp-url "$URL_ocsp/nmin=1" --rim-url "$URL_rim" --no-cache --at "$(now_plus '+3 min')"
	expect_rc 0 "response inside nextUpdate + skew"
}

nonce_faults() {
	v --ocsp-url "$URL_ocsp/stripnonce" --rim-url "$URL_rim" --no-cache
	expect_rc 1 "responder does not echo the nonce"
	expect_out "device certificate OCSP response does not carry our nonce" "stripnonce: device"
	expect_out "RIM $DRV OCSP response does not carry our nonce" "stripnonce: RIM"

	v --ocsp-url "$URL_ocsp/replay" --rim-url "$URL_rim" --no-cache
	expect_rc 0 "replaying responder: first answers are fresh"
	v --ocsp-url "$URL_ocsp/replay" --rim-url "$URL_rim" --no-cache --format json
	expect_rc 1 "replaying responder: second run"
	json_check "all(c['x-nvidia-cert-ocsp-nonce-matches'] is False for c in $CHAINS)" "replay: json nonce"
	v --ocsp-url "$URL_ocsp/replay" --rim-url "$URL_rim" --no-cache
	expect_out "does not carry our nonce" "replay: message"
}

transport_faults() {
	local t0 ms port
	port=$(closed_port)
	v --ocsp-url "http://127.0.0.1:$port" --rim-url "$URL_rim" --no-cache --retries 1
	expect_rc 3 "responder down"
	expect_out "device certificate revocation could not be checked" "down: message"
	expect_out "Couldn't connect" "down: reason"

	t0=$(date +%s%N)
	v --ocsp-url "$URL_ocsp/hang" --rim-url "$URL_rim" --no-cache --timeout 1000 --retries 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_rc 3 "responder never answers"
	expect_out "revocation could not be checked" "hang: message"
	expect_out "after 2 attempts" "hang: one retry"
	echo "  (hanging responder, --timeout 1000 --retries 1: verify took $ms ms)"
	if [ "$ms" -lt 15000 ]; then ok; else bad "hang: took $ms ms, expected < 15000"; fi

	online_url() { v --ocsp-url "$1" --rim-url "$2" --no-cache "${@:3}"; }
	online_url "$URL_ocsp/fail=1" "$URL_rim/fail=1"
	expect_rc 0 "500 then success (both services): retried"
	online_url "$URL_ocsp/fail=5" "$URL_rim" --retries 1
	expect_rc 3 "500 more often than retries allow"
	expect_out "revocation could not be checked" "500 x5: message"
	online_url "$URL_ocsp" "$URL_rim/hang" --timeout 1000 --retries 0
	expect_rc 3 "RIM service never answers"
	expect_out "is not available" "RIM hang: message"
}

rim_faults() {
	# Only the VBIOS RIM is published.
	rm -f "$TMP/altrims"/*
	cp "$D/rims/$VB.xml" "$TMP/altrims/"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_alt" --no-cache
	expect_rc 3 "driver RIM not published (404)"
	expect_out "NVIDIA has not published a RIM for driver 595.71.05 ($DRV)" "404: driver message"
	expect_no_out "NVIDIA has not published a RIM for VBIOS" "404: VBIOS found"
	expect_out "RIM $VB signature verified" "404: VBIOS verified"

	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim/status=404" --no-cache
	expect_rc 3 "no RIM published (404)"
	expect_out "NVIDIA has not published a RIM for VBIOS 96.00.9F.00.04 ($VB)" "404: VBIOS message"

	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim/badsha" --no-cache
	expect_rc 3 "RIM answer with a wrong sha256"
	expect_out "the RIM's SHA-256 does not match" "badsha: message"
	expect_no_out "RIM $DRV signature verified" "badsha: not used"

	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim/corrupt" --no-cache
	expect_rc 3 "RIM answer that is not base64"
	expect_out "not valid base64" "corrupt: message"

	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim/badid" --no-cache
	expect_rc 3 "RIM answer for another id"
	expect_out "not the one asked for" "badid: message"

	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim/big=$((8 << 20))" --no-cache
	expect_rc 3 "oversized RIM service body"
	expect_out "response body larger than" "big: message"
	expect_no_out "RIM $DRV signature verified" "big: not used"

	# A self-consistent answer (sha256 of what it carries) whose RIM was
	# altered after signing: the RIM layer's signature check catches it.
	python3 - "$D/rims/$DRV.xml" "$TMP/altrims/$DRV.json" "$DRV" <<-'EOF'
	import base64, hashlib, json, sys
	xml = open(sys.argv[1], "rb").read()
	assert b'revision="r1"' in xml
	xml = xml.replace(b'revision="r1"', b'revision="r2"', 1)
	json.dump({"id": sys.argv[3], "rim": base64.b64encode(xml).decode(),
	           "sha256": hashlib.sha256(xml).hexdigest()}, open(sys.argv[2], "w"))
	EOF
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_alt" --no-cache
	expect_rc 1 "RIM altered after signing, served with a matching sha256"
	expect_out "driver RIM $DRV signature INVALID" "altered RIM: message"
	rm -f "$TMP/altrims"/*
}

cache_cases() {
	local C=$TMP/cache port
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C"
	expect_rc 0 "online run filling the cache"
	run_cli cache list --cache-dir "$C"
	expect_rc 0 "cache list"
	expect_count "RIM   NV_GPU_" 2 "cache list: both RIMs"
	# 2 per-GPU BROMs + ICA + identity + 3 RIM chain certificates.
	expect_count "OCSP  " $((NGPUS + 5)) "cache list: one OCSP answer per distinct certificate"
	expect_out "cache $C: $((NGPUS + 7)) entries" "cache list: header"

	# Services gone: RIMs come from the cache (re-verified), OCSP cannot be had.
	port=$(closed_port)
	v --ocsp-url "http://127.0.0.1:$port" --rim-url "http://127.0.0.1:$port" --cache-dir "$C" --retries 0
	expect_rc 3 "services down, cache without --ocsp-cache-ok"
	expect_count "RIM $DRV signature verified" "$NGPUS" "services down: RIM from the cache"
	expect_out "device certificate revocation could not be checked" "services down: OCSP not done"
	expect_no_out "not revoked" "services down: nothing taken from the OCSP cache"

	v --ocsp-url "http://127.0.0.1:$port" --rim-url "http://127.0.0.1:$port" --cache-dir "$C" --retries 0 \
	    --ocsp-cache-ok
	expect_rc 0 "services down, --ocsp-cache-ok"
	expect_out "device certificate not revoked (OCSP good; 3 answer(s) from cache" \
	    "--ocsp-cache-ok: source"
	expect_out "earlier answer accepted by --ocsp-cache-ok" "--ocsp-cache-ok: says so"
	v --ocsp-url "http://127.0.0.1:$port" --rim-url "http://127.0.0.1:$port" --cache-dir "$C" --retries 0 \
	    --ocsp-cache-ok --format json
	json_check "all(c['x-nvidia-cert-ocsp-nonce-matches'] is False for c in $CHAINS)" "--ocsp-cache-ok: json nonce false"
	json_check "all(c['x-nvidia-cert-ocsp-status'] == 'good' for c in $CHAINS)" "--ocsp-cache-ok: json good"

	# A cached answer carries no nonce of ours: without the option, a
	# responder that answers replays would not be rescued by the cache either.
	v --ocsp-url "$URL_ocsp/stripnonce" --rim-url "$URL_rim" --cache-dir "$C"
	expect_rc 1 "cache present, responder without nonce, no --ocsp-cache-ok"

	run_cli cache clear --cache-dir "$C"
	expect_rc 0 "cache clear"
	run_cli cache list --cache-dir "$C"
	expect_out "cache $C: 0 entries" "cache cleared"
	v --ocsp-url "http://127.0.0.1:$port" --rim-url "http://127.0.0.1:$port" --cache-dir "$C" --retries 0 \
	    --ocsp-cache-ok
	expect_rc 3 "cleared cache, services down"
	expect_out "is not available" "cleared cache: no RIM"
}

offline_cases() {
	local B=$TMP/bundle.json late
	run_cli fetch-collateral --evidence "$TMP/ev.json" --nonce "$NONCE" "${TRUST[@]}" \
	    --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --no-cache -o "$B"
	expect_rc 0 "fetch-collateral"
	expect_out "2 RIM(s), $((NGPUS + 5)) OCSP answer(s)" "fetch-collateral: counts"

	stop_all # nothing listens from here on
	v --collateral "$B" --offline --no-cache
	expect_rc 0 "offline with the bundle"
	expect_out "VERIFICATION SUCCESSFUL" "offline: verdict"
	expect_out "answer(s) from bundle, oldest" "offline: source"
	expect_out " s old" "offline: age reported"
	expect_out "earlier answer accepted by --collateral/--offline" "offline: says so"

	# After the answers' nextUpdate (openssl ocsp -ndays 1).
	late=$(now_plus '+2 days')
	v --collateral "$B" --offline --no-cache --at "$late"
	expect_rc 3 "offline, after nextUpdate"
	expect_out "response expired: nextUpdate" "offline late: message"
	v --collateral "$B" --offline --no-cache --at "$late" --max-ocsp-age 3600
	expect_rc 3 "offline, after nextUpdate, --max-ocsp-age too small"
	v --collateral "$B" --offline --no-cache --at "$late" --max-ocsp-age 1000000
	expect_rc 0 "offline, after nextUpdate, --max-ocsp-age large enough"

	# Tampered bundles.
	python3 - "$B" "$TMP" <<-'EOF'
	import base64, json, sys
	src, tmp = sys.argv[1], sys.argv[2]
	def load():
	    return json.load(open(src))
	# one base64 character of one RIM changed
	d = load(); k = sorted(d["rims"])[0]; s = d["rims"][k]; i = len(s) // 2
	d["rims"][k] = s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
	json.dump(d, open(tmp + "/b-flip.json", "w"))
	# one RIM altered after signing (still well-formed XML)
	d = load(); k = sorted(d["rims"])[0]
	x = base64.b64decode(d["rims"][k]).replace(b'revision="r1"', b'revision="r2"', 1)
	d["rims"][k] = base64.b64encode(x).decode()
	json.dump(d, open(tmp + "/b-altered.json", "w"))
	# two OCSP answers swapped between certificates
	d = load(); a, b = sorted(d["ocsp"])[:2]
	d["ocsp"][a], d["ocsp"][b] = d["ocsp"][b], d["ocsp"][a]
	json.dump(d, open(tmp + "/b-swap.json", "w"))
	# every OCSP answer replaced by the same one (another certificate's)
	d = load(); first = d["ocsp"][sorted(d["ocsp"])[0]]
	d["ocsp"] = {k: first for k in d["ocsp"]}
	json.dump(d, open(tmp + "/b-same.json", "w"))
	EOF
	v --collateral "$TMP/b-flip.json" --offline --no-cache
	if [ "$rc" -ne 0 ]; then ok; else bad "bundle with a RIM character flipped: exit 0"; fi
	expect_no_out "VERIFICATION SUCCESSFUL" "flipped RIM: verdict"
	v --collateral "$TMP/b-altered.json" --offline --no-cache
	expect_rc 1 "bundle with a RIM altered after signing"
	expect_out "signature INVALID" "altered RIM in bundle: message"
	v --collateral "$TMP/b-swap.json" --offline --no-cache
	if [ "$rc" -ne 0 ]; then ok; else bad "bundle with two OCSP answers swapped: exit 0"; fi
	expect_out "the response has no answer for this certificate" "swapped OCSP: message"
	v --collateral "$TMP/b-same.json" --offline --no-cache
	if [ "$rc" -ne 0 ]; then ok; else bad "bundle with one OCSP answer for all: exit 0"; fi

	printf 'not json\n' >"$TMP/b-text.json"
	v --collateral "$TMP/b-text.json" --offline --no-cache
	expect_rc 2 "bundle that is not JSON"
	printf '{"format": "gpuattest-collateral", "version": 1, "rims": {}, "ocsp": {}, "x": 1}\n' >"$TMP/b-key.json"
	v --collateral "$TMP/b-key.json" --offline --no-cache
	expect_rc 2 "bundle with an unknown key"
	v --collateral "$TMP/nonexistent.json" --offline --no-cache
	expect_rc 2 "bundle that does not exist"

	# Offline without a bundle: nothing to check revocation with.
	v --offline --no-cache --rim-dir "$D/rims"
	expect_rc 3 "offline without collateral"
	expect_out "revocation could not be checked" "offline, no bundle: message"
}

if need_tools; then
	if setup; then
		end_to_end
		device_revoked
		rim_signer_hold
		unknown_cert
		bad_responders
		stale_response
		nonce_faults
		transport_faults
		rim_faults
		cache_cases
		offline_cases
	fi
fi
stop_all
finish
