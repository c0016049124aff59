#!/usr/bin/env bash
# Acceptance of the collateral rules of 'gpuattest verify' (issue 10):
# revocation asked for the path validation built, whatever the input
# carried; a cache that cannot be poisoned; RIM sources named; one network
# deadline; a waiting line only on a terminal.
#
# Same setup as test_net_cli.sh (netlib.sh): the simulated GPUs' evidence,
# the sim's test PKI, the real `openssl ocsp` responder and the RIM service
# on 127.0.0.1. Owns: nothing outside $TMP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

# drop_last_pem IN OUT: the evidence with each device chain's last
# certificate (the root) left out.
drop_last_pem() {
	python3 - "$1" "$2" <<-'EOF'
	import base64, json, sys
	d = json.load(open(sys.argv[1]))
	for it in d:
	    pem = base64.b64decode(it["certificate"]).decode()
	    blocks = [b for b in pem.split("-----END CERTIFICATE-----") if "BEGIN" in b]
	    kept = "".join(b + "-----END CERTIFICATE-----" for b in blocks[:-1]) + "\n"
	    it["certificate"] = base64.b64encode(kept.lstrip("\n").encode()).decode()
	json.dump(d, open(sys.argv[2], "w"))
	EOF
}

# drop_last_keyinfo_cert IN OUT: the RIM with the last X509Certificate of
# its (unsigned) KeyInfo removed.
drop_last_keyinfo_cert() {
	python3 - "$1" "$2" <<-'EOF'
	import re, sys
	x = open(sys.argv[1]).read()
	certs = list(re.finditer(r"\s*<ds:X509Certificate>[^<]*</ds:X509Certificate>", x))
	last = certs[-1]
	open(sys.argv[2], "w").write(x[:last.start()] + x[last.end():])
	EOF
}

# ---- 1. revocation on the validated path ----------------------------------

device_chain_without_root() {
	drop_last_pem "$TMP/ev.json" "$TMP/ev-noroot.json"
	run_cli verify --evidence "$TMP/ev-noroot.json" --nonce "$NONCE" "${TRUST[@]}" --no-color \
		--ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --no-cache
	expect_rc 0 "device chains without their root, nothing revoked"

	# The CA just under the root, revoked in the root's database.
	revoke root "$D/ca/identity/ca.crt" -crl_reason cACompromise
	run_cli verify --evidence "$TMP/ev-noroot.json" --nonce "$NONCE" "${TRUST[@]}" --no-color \
		--ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --no-cache
	expect_rc 1 "root left out, CA under the root revoked"
	expect_count "device certificate REVOKED (reason: cACompromise)" $((2 * NGPUS)) \
		"root left out: every GPU's chain revoked"
	expect_no_out "VERIFICATION SUCCESSFUL" "root left out: verdict"
	run_cli verify --evidence "$TMP/ev-noroot.json" --nonce "$NONCE" "${TRUST[@]}" --no-color \
		--ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --no-cache --format json
	json_check 'd["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"] == "revoked"' \
		"root left out: json status"
	# The full chain says the same.
	online
	expect_rc 1 "full chain, CA under the root revoked"
	restore_databases
}

rim_keyinfo_without_root() {
	local f
	mkdir -p "$TMP/noroot-rims"
	for f in "$D/rims/"*.xml; do drop_last_keyinfo_cert "$f" "$TMP/noroot-rims/$(basename "$f")"; done
	online --rim-dir "$TMP/noroot-rims"
	expect_rc 0 "RIMs without the root in KeyInfo, nothing revoked"

	revoke rim-root "$D/ca/rim-ca/ca.crt" -crl_reason cACompromise
	online --rim-dir "$TMP/noroot-rims"
	expect_rc 1 "RIM root left out of KeyInfo, RIM CA revoked"
	expect_out "RIM $DRV REVOKED (reason: cACompromise)" "RIM root left out: driver RIM revoked"
	expect_out "RIM $VB REVOKED (reason: cACompromise)" "RIM root left out: VBIOS RIM revoked"
	expect_no_out "VERIFICATION SUCCESSFUL" "RIM root left out: verdict"
	online --rim-dir "$TMP/noroot-rims" --format json
	json_check 'd["claims"][0]["x-nvidia-gpu-driver-rim-cert-chain"]["x-nvidia-cert-ocsp-status"] == "revoked"' \
		"RIM root left out: json status"
	restore_databases
}

if need_tools; then
	if setup; then
		device_chain_without_root
		rim_keyinfo_without_root
	fi
fi
stop_all
finish
