#!/usr/bin/env bash
# Signed results: verify --result-token / --format ear with --sign-key,
# --sign-kid, --sign-issuer; 'gpuattest jwks'. Every EAR is checked by two
# JOSE implementations that are not ours (python3-jwt and latchset's `jose`
# CLI) and fails with both when one byte of it changes.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
# python3-jwt is a Debian package: the system interpreter has it.
PY=/usr/bin/python3
have_pyjwt() { [ -x "$PY" ] && "$PY" -c 'import jwt, cryptography' 2>/dev/null; }

setup() {
	openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/ear.pem" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/p256.pem" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.pem" 2>/dev/null
	if need_shared; then
		mkdir -p "$TMP/rims"
		cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	fi
}

# pyjwt_check TOKEN_FILE JWKS_FILE ISSUER: prints the EAR's ear_status, or an error.
pyjwt_check() {
	"$PY" - "$1" "$2" "$3" <<-'EOF' 2>&1
	import json, sys, jwt
	tok = open(sys.argv[1]).read()
	keys = jwt.PyJWKSet.from_json(open(sys.argv[2]).read())
	kid = jwt.get_unverified_header(tok)["kid"]
	key = [k for k in keys.keys if k.key_id == kid][0]
	d = jwt.decode(tok, key.key, algorithms=["ES384"], issuer=sys.argv[3])
	print("status", d["ear_status"], ",".join(sorted(d["submods"])), d["eat_nonce"])
	EOF
}

jwks_command() {
	run_cli jwks --key "$TMP/ear.pem"
	expect_rc 0 "jwks"
	expect_out '"kty": "EC"' "jwks: an EC key"
	expect_out '"crv": "P-384"' "jwks: P-384"
	expect_out '"alg": "ES384"' "jwks: alg"
	expect_no_out '"d":' "jwks: never the private part"
	run_cli_stdout jwks --key "$TMP/ear.pem" --kid my-key
	expect_json 'd["keys"][0]["kid"]' my-key "jwks --kid"
	run_cli jwks --key "$TMP/p256.pem"
	expect_rc 2 "jwks with a P-256 key"
	expect_out "P-384" "jwks P-256: says what is needed"
	expect_out "p256.pem" "jwks P-256: names the file"
	run_cli jwks --key "$TMP/rsa.pem"
	expect_rc 2 "jwks with an RSA key"
	run_cli jwks --key "$TMP/missing.pem"
	expect_rc 2 "jwks with no such file"
	expect_out "missing.pem" "jwks missing: names the file"
	run_cli jwks
	expect_rc 2 "jwks without --key"
	run_cli help jwks
	expect_rc 0 "help jwks"
	expect_out "--cert" "help jwks: --cert"
	# x5c: a self-signed certificate of the key, and one of another key.
	openssl req -x509 -new -key "$TMP/ear.pem" -subj /CN=ear -days 30 -out "$TMP/ear.crt" 2>/dev/null
	openssl req -x509 -new -key "$TMP/p256.pem" -subj /CN=other -days 30 -out "$TMP/other.crt" 2>/dev/null
	run_cli_stdout jwks --key "$TMP/ear.pem" --cert "$TMP/ear.crt"
	expect_rc 0 "jwks --cert"
	expect_json 'len(d["keys"][0]["x5c"])' 1 "jwks --cert: x5c"
	run_cli jwks --key "$TMP/ear.pem" --cert "$TMP/other.crt"
	expect_rc 2 "jwks --cert of another key"
	expect_out "does not hold the signing key" "jwks --cert of another key: says so"
}

sign_usage() {
	need_shared || return
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --result-token "$TMP/x.jwt"
	expect_rc 2 "--result-token without --sign-key"
	expect_out "--sign-key" "--result-token without key: names --sign-key"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --format ear
	expect_rc 2 "--format ear without --sign-key"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --sign-key "$TMP/ear.pem"
	expect_rc 2 "--sign-key alone"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --format ear \
	    --sign-key "$TMP/p256.pem"
	expect_rc 2 "--sign-key P-256"
	expect_out "P-384" "--sign-key P-256: says P-384"
	run_safe verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --format ear \
	    --sign-key "$TMP/ear.pem" --sign-kid ""
	expect_rc 2 "--sign-kid empty"
}

signed_ear_verifies_elsewhere() {
	need_shared || return
	run_cli_stdout jwks --key "$TMP/ear.pem" --kid k-1
	printf '%s\n' "$out" >"$TMP/jwks.json"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --nonce "$AZ_NONCE" \
	    --result-token "$TMP/ear.jwt" --sign-key "$TMP/ear.pem" --sign-kid k-1 --sign-issuer https://verifier.example
	expect_rc 0 "verify --result-token"
	expect_out "VERIFICATION SUCCESSFUL" "verify --result-token: the report is still printed"
	if [ -s "$TMP/ear.jwt" ] && [ "$(tr -cd . <"$TMP/ear.jwt")" = ".." ]; then ok; else bad "--result-token: no compact JWS written"; fi
	if [ "$(tail -c 1 "$TMP/ear.jwt" | od -An -c | tr -d ' ')" != '\n' ]; then ok; else bad "--result-token: the file ends with a line end"; fi
	if jose jws ver -i "$TMP/ear.jwt" -k "$TMP/jwks.json" -O /dev/null 2>/dev/null; then ok; else
		bad "jose CLI does not verify our EAR"; fi
	# One byte changed (the 40th of the payload, turned into another base64url character).
	"$PY" - "$TMP/ear.jwt" "$TMP/ear-bad.jwt" <<-'EOF'
	import sys
	t = open(sys.argv[1]).read()
	i = t.index(".") + 40
	open(sys.argv[2], "w").write(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])
	EOF
	if jose jws ver -i "$TMP/ear-bad.jwt" -k "$TMP/jwks.json" -O /dev/null 2>/dev/null; then
		bad "jose CLI accepts our EAR with one byte changed"; else ok; fi
	if have_pyjwt; then
		out=$(pyjwt_check "$TMP/ear.jwt" "$TMP/jwks.json" https://verifier.example)
		expect_out "status affirming GPU-0 aQu1G5BDUeKBAKBhD-YGJCVcJtfTjFP7EoXs_tHKsXo" "python3-jwt verifies our EAR"
		out=$(pyjwt_check "$TMP/ear-bad.jwt" "$TMP/jwks.json" https://verifier.example)
		expect_no_out "status" "python3-jwt refuses our EAR with one byte changed"
		out=$(pyjwt_check "$TMP/ear.jwt" "$TMP/jwks.json" https://someone-else.example)
		expect_out "Invalid issuer" "python3-jwt: the issuer is --sign-issuer"
	else
		skip "python3-jwt not installed for $PY"
	fi
}

format_ear_prints_token() {
	need_shared || return
	run_cli_stdout verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp --format ear \
	    --sign-key "$TMP/ear.pem" --nonce "$AZ_NONCE"
	expect_rc 0 "--format ear"
	printf '%s' "$out" >"$TMP/ear2.jwt"
	if [ "$(printf '%s' "$out" | tr -cd .)" = ".." ] && ! grep -q "VERIFICATION" <<<"$out"; then ok; else
		bad "--format ear: stdout is not just the token"; fi
	run_cli_stdout jwks --key "$TMP/ear.pem"
	printf '%s\n' "$out" >"$TMP/jwks-thp.json"
	if have_pyjwt; then
		out=$(pyjwt_check "$TMP/ear2.jwt" "$TMP/jwks-thp.json" gpuattest)
		expect_out "status affirming GPU-0" "--format ear: default kid (thumbprint) and issuer"
	fi
	# A failing verification is signed too, as contraindicated: here the
	# VBIOS RIM is missing, so the result is "could not complete".
	mkdir -p "$TMP/rims-drv"
	cp "$V/rim/driver/$DRV_ID.xml" "$TMP/rims-drv/"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims-drv" --no-ocsp --offline \
	    --result-token "$TMP/ear3.jwt" --sign-key "$TMP/ear.pem"
	expect_rc 3 "--result-token on an incomplete run"
	if have_pyjwt; then
		out=$(pyjwt_check "$TMP/ear3.jwt" "$TMP/jwks-thp.json" gpuattest)
		expect_out "status none GPU-0" "an incomplete run is signed with ear_status none"
	fi
}

setup
jwks_command
sign_usage
signed_ear_verifies_elsewhere
format_ear_prints_token
finish
