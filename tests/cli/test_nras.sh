#!/usr/bin/env bash
# Remote verification against the loopback NRAS emulator (tests/servers/nras.py:
# its own ES384 key and JWKS, NRAS's request and answer shapes) and its
# faults; verify-token on NRAS answers and on our EARs; --verifier both
# naming the claim the two verifiers disagree on. Every fault gives its exit
# code and a message naming the cause.
. "$(dirname "$0")/lib.sh"

SRV=$(cd "$(dirname "$0")/../servers" && pwd)
N=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
AZ=$V/gpu/hopper_595.71.05_azure
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004
export GPUATTEST_CACHE_DIR=$TMP/cache
# Fast retries, so the 429/5xx cases take well under a second.
export GPUATTEST_HTTP_RETRIES=3 GPUATTEST_HTTP_TIMEOUT_MS=5000
unset GPUATTEST_NRAS_URL GPUATTEST_SERVICE_KEY

have_tools() { python3 -c 'import cryptography' 2>/dev/null && command -v openssl >/dev/null; }

# start_emu NAME ARGS...: the emulator, its base URL in $EMU_NAME.
start_emu() {
	local name=$1; shift
	python3 "$SRV/nras.py" --port-file "$TMP/$name.port" --lifetime 600 "$@" >"$TMP/$name.log" 2>&1 &
	for _ in $(seq 50); do [ -s "$TMP/$name.port" ] && break; sleep 0.1; done
	printf -v "EMU_$name" 'http://127.0.0.1:%s' "$(cat "$TMP/$name.port")"
}

setup() {
	# Synthetic evidence: NRAS's shape with a real PEM chain; the emulator
	# checks the encodings, not the report.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -keyout "$TMP/dev.key" \
	    -subj /CN=dev -days 3 -out "$TMP/dev.pem" 2>/dev/null
	python3 - "$TMP/dev.pem" "$TMP/ev.json" "$TMP/ev2.json" "$TMP/sw.json" "$N" <<-'EOF'
	import base64, json, sys
	pem = open(sys.argv[1], "rb").read()
	item = lambda arch, r: {"arch": arch, "nonce": sys.argv[5], "evidence": base64.b64encode(r).decode(),
	                        "certificate": base64.b64encode(pem).decode()}
	json.dump([item("HOPPER", b"\x11report-0")], open(sys.argv[2], "w"))
	json.dump([item("HOPPER", b"\x11report-0"), item("HOPPER", b"\x11report-1")], open(sys.argv[3], "w"))
	json.dump([item("LS10", b"\x11switch-0")], open(sys.argv[4], "w"))
	EOF
	openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/emu.pem" 2>/dev/null
	start_emu main --key "$TMP/emu.pem" --kid emu-kid-1
	start_emu x5c --x5c --kid emu-x5c
}

nras() { run_cli verify --evidence "$TMP/ev.json" --verifier nras --nras-url "$EMU_main$1" "${@:2}"; }

good_and_shapes() {
	nras ""
	expect_rc 0 "nras good"
	expect_out "GPU-0      pass" "nras good: the device"
	expect_out "VERIFICATION SUCCESSFUL (NRAS)" "nras good: verdict"
	run_cli verify --evidence "$TMP/ev2.json" --switch-evidence "$TMP/sw.json" --verifier nras \
	    --nras-url "$EMU_main/" --format json
	expect_rc 0 "nras GPUs and a switch, trailing /"
	expect_json 'sorted(d["gpu"]["claims"]["submods"])' "['GPU-0', 'GPU-1']" "nras: two GPUs"
	expect_json 'list(d["switch"]["claims"]["submods"])' "['SWITCH-0']" "nras: the switch"
	expect_json 'd["gpu"]["claims"]["overall"]["iss"]' "$EMU_main" "nras: iss is the URL without /"
	GPUATTEST_NRAS_URL=$EMU_main run_cli verify --evidence "$TMP/ev.json" --verifier nras
	expect_rc 0 "GPUATTEST_NRAS_URL"
	run_cli verify --evidence "$TMP/ev.json" --verifier nras --nras-url "$EMU_x5c"
	expect_rc 0 "nras with an x5c JWKS"
	run_cli verify --evidence "$TMP/ev.json" --verifier nras --nras-url http://192.0.2.1:1
	expect_rc 2 "nras over plain http to a non-loopback host"
	expect_out "https" "plain http: says https"
	run_cli verify --evidence "$TMP/ev.json" --verifier remote
	expect_rc 2 "--verifier remote"
	run_cli verify --evidence "$TMP/ev.json" --verifier nras --nras-url "$EMU_main" --sign-key "$TMP/emu.pem" \
	    --result-token "$TMP/x.jwt"
	expect_rc 2 "--verifier nras with --result-token"
}

# fault MODE RC "WORDS" [MORE ARGS]
fault() {
	nras "/$1" "${@:4}"
	expect_rc "$2" "fault $1"
	expect_out "$3" "fault $1: names the cause"
}

faults() {
	fault badsig 1 "bad signature"
	fault alg=none 1 'alg "none" refused'
	fault alg=HS256 1 'alg "HS256" refused'
	fault nokid 1 'no "kid"'
	fault kid=not-there 1 'unknown kid "not-there"'
	fault expired 1 "expired"
	fault notyet 1 "not yet valid"
	fault iss=https:__evil.example 1 "wrong issuer"
	fault nonce=wrong 1 "nonce not echoed"
	fault digest 1 "GPU-0: submod digest does not match"
	fault devfail 1 'although the overall result says true; GPU-0: measres is "fail"'
	fault overallfalse 1 "overall result is false"
	fault fail=2 0 "VERIFICATION SUCCESSFUL"
	fault fail=2/status=429 0 "VERIFICATION SUCCESSFUL"
	fault status=500 3 "HTTP 500 after 4 attempt(s)"
	fault status=401 3 "service key"
	fault auth=sekrit 3 "service key"
	fault auth=sekrit 0 "VERIFICATION SUCCESSFUL" --service-key sekrit
	fault big=2000000 3 "response body larger than"
	fault jwks=302 3 "a redirect: not followed"
	fault jwks=500 3 "JWKS"
	local t0=$SECONDS
	fault hang 3 "no answer" --timeout 1500 --retries 0
	if [ $((SECONDS - t0)) -lt 10 ]; then ok; else bad "hang: took $((SECONDS - t0)) s with a 1.5 s timeout"; fi
}

# The JWKS is kept in the cache; a token with a new kid makes one fetch.
jwks_cache_and_rotation() {
	local stats
	rm -rf "$GPUATTEST_CACHE_DIR/jwks"
	nras "/rotate"
	expect_rc 0 "rotation, first answer (old key)"
	nras "/rotate"
	expect_rc 0 "rotation, answer signed by the rotated key (fetched again)"
	nras "/rotate"
	expect_rc 0 "rotation, third answer (cached set has both keys)"
	out=$(curl -s "$EMU_main/stats")
	expect_json 'd["jwks"] >= 2' True "rotation: the set was fetched again"
	stats=$(json_get 'd["jwks"]')
	nras ""
	nras ""
	out=$(curl -s "$EMU_main/stats")
	expect_json "d['jwks'] - $stats" 1 "JWKS cached between runs (one fetch for two runs on a new URL)"
	run_cli verify --evidence "$TMP/ev.json" --verifier nras --nras-url "$EMU_main" --no-cache
	expect_rc 0 "nras --no-cache"
}

# NRAS's answer, saved, judged by verify-token.
verify_token_nras() {
	python3 - "$TMP/ev.json" "$N" >"$TMP/req.json" <<-'EOF'
	import json, sys
	ev = json.load(open(sys.argv[1]))
	print(json.dumps({"nonce": sys.argv[2], "arch": "HOPPER", "claims_version": "4.0",
	                  "evidence_list": [{"evidence": e["evidence"], "certificate": e["certificate"]} for e in ev]}))
	EOF
	curl -s -H 'Content-Type: application/json' --data-binary @"$TMP/req.json" "$EMU_main/v4/attest/gpu" >"$TMP/eat.json"
	run_cli verify-token --nras-url "$EMU_main" --nonce "$N" "$TMP/eat.json"
	expect_rc 0 "verify-token NRAS answer"
	expect_out "TOKEN VERIFIED" "verify-token: verdict"
	run_cli_stdout verify-token --nras-url "$EMU_main" --format json <"$TMP/eat.json"
	expect_rc 0 "verify-token from stdin"
	expect_json 'd["claims"]["submods"]["GPU-0"]["measres"]' success "verify-token json: the verified claims"
	expect_json 'd["type"]' detached-eat "verify-token json: type"
	run_cli verify-token --nras-url "$EMU_main" --nonce "00$N" "$TMP/eat.json"
	expect_rc 1 "verify-token wrong --nonce"
	expect_out "nonce not echoed" "verify-token wrong nonce: says so"
	run_cli verify-token --nras-url "$EMU_main/" --issuer https://other.example "$TMP/eat.json"
	expect_rc 1 "verify-token --issuer other"
	expect_out "wrong issuer" "verify-token --issuer: says so"
	run_cli verify-token --nras-url "$EMU_main" --at 2020-01-01T00:00:00Z "$TMP/eat.json"
	expect_rc 1 "verify-token --at before nbf"
	run_cli verify-token --nras-url "$EMU_main" --at "$(date -u -d '+1 hour +30 seconds' +%Y-%m-%dT%H:%M:%SZ)" \
	    --leeway 120 "$TMP/eat.json"
	expect_rc 0 "verify-token --leeway covers 30 s past exp"
	run_cli verify-token --nras-url "$EMU_main" --at "$(date -u -d '+1 hour +30 seconds' +%Y-%m-%dT%H:%M:%SZ)" \
	    --clock-skew-leeway-seconds 0 "$TMP/eat.json"
	expect_rc 1 "verify-token leeway 0: 30 s past exp"
	run_cli verify-token --nras-url "$EMU_x5c" "$TMP/eat.json"
	expect_rc 1 "verify-token against another NRAS's keys"
	expect_out 'unknown kid "emu-kid-1"' "verify-token other keys: unknown kid"
	printf '[["JWT", "x"], 5]' >"$TMP/junk.json"
	run_cli verify-token --nras-url "$EMU_main" "$TMP/junk.json"
	expect_rc 2 "verify-token on something that is no detached EAT"
	run_cli verify-token --nras-url http://127.0.0.1:1 --retries 0 "$TMP/eat.json"
	expect_rc 3 "verify-token, JWKS unreachable"
	run_cli verify-token --type ear "$TMP/eat.json"
	expect_rc 2 "verify-token --type ear without keys"
	run_cli verify-token --jwks-url "$EMU_main/.well-known/jwks.json" --cache-dir "$TMP/c2" --connect-timeout 2000 \
	    "$TMP/eat.json" --issuer "$EMU_main" --quiet
	expect_rc 0 "verify-token --jwks-url --cache-dir --issuer --quiet"
	if [ -z "$out" ]; then ok; else bad "--quiet printed something"; fi
	run_cli help verify-token
	expect_rc 0 "help verify-token"
	expect_out "--leeway" "help verify-token: --leeway"
}

# Our EAR, judged by verify-token, by key, JWKS file and one byte changed.
verify_token_ear() {
	need_shared || return
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/ear.pem" 2>/dev/null
	openssl ec -in "$TMP/ear.pem" -pubout -out "$TMP/ear.pub" 2>/dev/null
	run_cli_stdout jwks --key "$TMP/ear.pem" --kid ear-1
	printf '%s\n' "$out" >"$TMP/ear-jwks.json"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --sign-key "$TMP/ear.pem" --sign-kid ear-1 --sign-issuer https://v.example --result-token "$TMP/ear.jwt"
	expect_rc 0 "signed EAR made"
	run_cli verify-token --type ear --jwks "$TMP/ear-jwks.json" --issuer https://v.example --nonce "$N" "$TMP/ear.jwt"
	expect_rc 0 "verify-token EAR with its JWKS"
	expect_out "GPU-0      ear_status affirming" "verify-token EAR: the device"
	run_cli verify-token --jwks "$TMP/ear-jwks.json" --issuer https://v.example "$TMP/ear.jwt"
	expect_rc 0 "verify-token EAR detected without --type"
	run_cli verify-token --type ear --key "$TMP/ear.pub" --kid ear-1 --issuer https://v.example "$TMP/ear.jwt"
	expect_rc 0 "verify-token EAR with --key --kid"
	run_cli verify-token --type ear --key "$TMP/ear.pub" --issuer https://v.example "$TMP/ear.jwt"
	expect_rc 1 "verify-token EAR with --key under its thumbprint, token kid ear-1"
	expect_out 'unknown kid "ear-1"' "--key without --kid: the kid is named"
	run_cli verify-token --type ear --jwks "$TMP/ear-jwks.json" "$TMP/ear.jwt"
	expect_rc 1 "verify-token EAR, default issuer gpuattest"
	expect_out "wrong issuer" "EAR default issuer: says so"
	run_cli verify-token --type ear --jwks "$TMP/ear-jwks.json" --issuer https://v.example --nonce "11$N" "$TMP/ear.jwt"
	expect_rc 1 "verify-token EAR wrong nonce"
	python3 - "$TMP/ear.jwt" "$TMP/ear-bad.jwt" <<-'EOF'
	import sys
	t = open(sys.argv[1]).read()
	i = t.index(".") + 60
	open(sys.argv[2], "w").write(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])
	EOF
	run_cli verify-token --type ear --jwks "$TMP/ear-jwks.json" --issuer https://v.example "$TMP/ear-bad.jwt"
	if [ "$rc" -ne 0 ]; then ok; else bad "verify-token accepts an EAR with one byte changed"; fi
	run_cli verify-token --type ear --key "$TMP/dev.pem" --issuer https://v.example "$TMP/ear.jwt"
	expect_rc 1 "verify-token EAR with another key"
}

# --verifier both: the emulator answers with the local claims (revocation
# marked good, as NRAS checks it), then with one claim changed.
both() {
	need_shared || return
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	run_cli_stdout verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" --format json
	python3 -c '
import json, sys
claims = json.loads(sys.stdin.read())["claims"]
def fix(o):
    for k, v in o.items():
        if isinstance(v, dict):
            if "x-nvidia-cert-ocsp-status" in v:
                v.update({"x-nvidia-cert-ocsp-status": "good", "x-nvidia-cert-ocsp-nonce-matches": True,
                          "x-nvidia-cert-ocsp-response-valid": True})
            fix(v)
for c in claims: fix(c)
json.dump(claims, open(sys.argv[1], "w"))' "$TMP/claims.json" <<<"$out"
	start_emu same --claims "$TMP/claims.json"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --verifier both --nras-url "$EMU_same"
	expect_rc 0 "both: local and NRAS agree"
	expect_out "local and NRAS agree on every device's verdict" "both agree: says so"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --verifier both --nras-url "$EMU_same/claim=x-nvidia-gpu-driver-version:595.71.99"
	expect_rc 1 "both: NRAS disagrees on one claim"
	expect_out 'GPU-0: x-nvidia-gpu-driver-version: local "595.71.05", NRAS "595.71.99"' "both: the claim and both values"
	run_cli_stdout verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --verifier both --nras-url "$EMU_same/claim=hwmodel:GH100_A01_XXX" --format json
	expect_rc 1 "both json: disagreement"
	expect_json '[(x["device"], x["claim"], x["local"], x["nras"]) for x in d["disagreements"]]' \
	    "[('GPU-0', 'hwmodel', 'GH100 A01 GSP BROM', 'GH100_A01_XXX')]" "both json: the one disagreement"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --verifier both --nras-url "$EMU_same/devfail"
	expect_rc 1 "both: NRAS fails the device"
	expect_out 'GPU-0: verdict: local "pass"' "both devfail: the verdicts"
	expect_out 'GPU-0: measres: local "success", NRAS "fail"' "both devfail: the claim"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$N" \
	    --verifier local --verifier both --nras-url "$EMU_same/hang" --timeout 1000 --retries 0
	expect_rc 3 "both: NRAS never answers"
	expect_out "Cross-check NOT DONE" "both hang: says the cross-check was not done"
}

if ! have_tools; then
	skip "python3 with cryptography, or openssl, missing"
	finish
	exit
fi
setup
good_and_shapes
faults
jwks_cache_and_rotation
verify_token_nras
verify_token_ear
both
finish
