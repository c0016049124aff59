#!/usr/bin/env bash
# Acceptance of the collateral rules of 'gpuattest verify' (issue 10):
# revocation asked for the path validation built, whatever the input
# carried; a cache that cannot be poisoned (a cached RIM or OCSP answer that
# does not verify now is dropped, named, and fetched again; only what
# verified is stored); RIM sources named (text, JSON, -v); one network
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

# ---- 4. a cache that cannot be poisoned ----------------------------------

# cache_put_rim CACHE ID FILE: FILE stored as the cache's copy of RIM ID
# (the cache's own layout: rims/<sha256>.xml and rims/by-id/ID); prints the
# document's path.
cache_put_rim() {
	local sha
	sha=$(sha256sum "$3" | cut -c1-64)
	mkdir -p "$1/rims/by-id"
	cp "$3" "$1/rims/$sha.xml"
	printf '%s' "$sha" >"$1/rims/by-id/$2"
	echo "$1/rims/$sha.xml"
}

# poisoned_rim CACHE BADFILE WHY: the cache holds BADFILE as the driver RIM;
# the run still passes with the RIM service's copy, says which cached file
# it dropped, and the cache no longer has it.
poisoned_rim() {
	local C=$1 bad why=$3
	bad=$(cache_put_rim "$C" "$DRV" "$2")
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C"
	expect_rc 0 "$why in the cache, the service has the good one"
	expect_out "NOTE: RIM $DRV: the cached copy $bad does not verify now" "$why: the note names the file"
	expect_out "removed from the cache; used instead: RIM service $URL_rim/v1/rim/$DRV" "$why: the note says what was used"
	expect_count "driver RIM $DRV signature verified (from RIM service $URL_rim/v1/rim/$DRV)" "$NGPUS" \
		"$why: the RIM names its source"
	if [ -e "$bad" ]; then bad "$why: $bad is still in the cache"; else ok; fi
	if [ "$(cat "$C/rims/by-id/$DRV")" = "$(sha256sum "$D/rims/$DRV.xml" | cut -c1-64)" ]; then ok; else
		bad "$why: the cache does not hold the verified copy now"; fi
	# JSON: the discarded copy and every RIM's source.
	bad=$(cache_put_rim "$C" "$DRV" "$2")
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C" --format json
	json_check "[u['source'] for u in d['collateral'] if u['kind'] == 'RIM' and u['name'] == '$DRV'] == ['service'] and any('$bad' in u.get('discarded', '') for u in d['collateral'])" \
		"$why: json collateral"
	json_check "d['devices'][0]['driver_rim_source'] == 'RIM service $URL_rim/v1/rim/$DRV' and d['devices'][0]['vbios_rim_source'].startswith('cache $C/rims/')" \
		"$why: json RIM sources"
}

cache_cannot_be_poisoned() {
	local C=$TMP/poison f n
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C"
	expect_rc 0 "filling the cache"
	expect_count "signature verified (from RIM service $URL_rim/v1/rim/" $((2 * NGPUS)) "first run: RIMs from the service"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C"
	expect_count "signature verified (from cache $C/rims/" $((2 * NGPUS)) "second run: RIMs from the cache, named"

	# A RIM whose signature is broken (altered after signing).
	sed 's/revision="r1"/revision="r2"/' "$D/rims/$DRV.xml" >"$TMP/drv-altered.xml"
	poisoned_rim "$C" "$TMP/drv-altered.xml" "RIM with a broken signature"
	# The same RIM signed under another PKI (a stale cache from another site).
	if (out=$("$ROOT/sim/make-sim-env.sh" "$TMP/other" "$NGPUS" 0 2>&1)) && [ -f "$TMP/other/rims/$DRV.xml" ]; then
		poisoned_rim "$C" "$TMP/other/rims/$DRV.xml" "RIM signed under another PKI"
	else
		bad "making a second PKI failed"
	fi
	# A document damaged on disk (bytes no longer hashing to their name).
	f=$C/rims/$(cat "$C/rims/by-id/$DRV").xml
	printf 'garbage' >"$f"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C"
	expect_rc 0 "damaged cache file"
	expect_out "NOTE: RIM $DRV: the cached copy $f was damaged" "damaged cache file: note"

	# OCSP answers whose signature does not verify (--ocsp-cache-ok: the
	# cache is read). Each is dropped, asked again, and the fresh one kept.
	n=$(find "$C/ocsp" -name '*.der' | wc -l)
	for f in "$C/ocsp/"*.der; do
		python3 - "$f" <<-'EOF'
		import sys
		from cryptography.x509 import ocsp
		der = bytearray(open(sys.argv[1], "rb").read())
		sig = ocsp.load_der_ocsp_response(bytes(der)).signature
		i = bytes(der).find(sig) + len(sig) - 1
		der[i] ^= 1
		open(sys.argv[1], "wb").write(der)
		EOF
		cp "$f" "$f.bad"
	done
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C" --ocsp-cache-ok
	expect_rc 0 "cached OCSP answers with broken signatures, the responder has good ones"
	expect_count "NOTE: OCSP CN=" "$n" "broken OCSP answers: one note per cached answer"
	expect_out "does not verify now" "broken OCSP answers: why"
	expect_out "used instead: OCSP responder $URL_ocsp" "broken OCSP answers: what was used"
	expect_count "not revoked (OCSP good, fresh answer)" $((3 * NGPUS)) "broken OCSP answers: fresh answers judged"
	for f in "$C/ocsp/"*.der; do
		if cmp -s "$f" "$f.bad"; then bad "the broken answer $f is still in the cache"; else ok; fi
	done
	rm -f "$C/ocsp/"*.bad
	# Two answers swapped between certificates: each is for another one.
	set -- "$C/ocsp/"*.der
	mv "$1" "$TMP/swap.der" && mv "$2" "$1" && mv "$TMP/swap.der" "$2"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C" --ocsp-cache-ok --format json
	expect_rc 0 "cached OCSP answers for other certificates"
	json_check "sum(1 for u in d['collateral'] if u['kind'] == 'OCSP' and 'is not an OCSP response for this certificate' in u.get('discarded', '')) == 2" \
		"swapped OCSP answers: both named in json"
	json_check "all(u['source'] in ('cache', 'responder') and u['where'] for u in d['collateral'] if u['kind'] == 'OCSP')" \
		"swapped OCSP answers: every answer's source"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C" --ocsp-cache-ok
	expect_rc 0 "after the swap"
	expect_no_out "NOTE:" "after the swap: nothing bad is left in the cache"

	# -v says where each RIM and OCSP answer came from.
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --cache-dir "$C" --verbose
	expect_out "gpuattest: RIM $DRV: from cache $C/rims/" "-v: the RIM's cache file"
	expect_count "gpuattest: OCSP CN=" $((NGPUS + 5)) "-v: one line per OCSP answer"
	expect_out ": from OCSP responder $URL_ocsp" "-v: the responder's URL"
}

# A RIM service answer that does not verify is never written to the cache.
service_answer_not_cached() {
	local C=$TMP/poison2
	rm -f "$TMP/altrims"/*
	sed 's/revision="r1"/revision="r2"/' "$D/rims/$DRV.xml" >"$TMP/altrims/$DRV.xml"
	cp "$D/rims/$VB.xml" "$TMP/altrims/"
	v --ocsp-url "$URL_ocsp" --rim-url "$URL_alt" --cache-dir "$C" -v
	expect_rc 1 "the service's RIM does not verify"
	expect_out "gpuattest: RIM $DRV: from RIM service $URL_alt/v1/rim/$DRV" "-v: the service URL"
	expect_out "driver RIM $DRV signature INVALID" "bad service answer: reported"
	if [ -e "$C/rims/by-id/$DRV" ]; then bad "the bad service answer was cached"; else ok; fi
	if [ -e "$C/rims/by-id/$VB" ]; then ok; else bad "the good service answer was not cached"; fi
	rm -f "$TMP/altrims"/*
}

if need_tools; then
	if setup; then
		device_chain_without_root
		rim_keyinfo_without_root
		cache_cannot_be_poisoned
		service_answer_not_cached
	fi
fi
stop_all
finish
