#!/usr/bin/env bash
# gpuattest serve with its embedded SQLite audit store: NVIDIA-shaped
# clients get tokens that verify, every answered verdict is in the audit
# trail, and hostile input at every endpoint gets a JSON error (never a
# crash): bad JSON, huge bodies, slow clients, wrong keys, rate limits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/serve_lib.sh"

export GPUATTEST_STATE_DIR=$TMP/state GPUATTEST_CACHE_DIR=$TMP/cache
DB=sqlite:$TMP/state/audit.db

start_main() {
	"$GPUATTEST" serve --add-key alice --api-keys "$TMP/keys" >"$TMP/alice.key" 2>"$TMP/addkey.log"
	KEY=$(cat "$TMP/alice.key")
	start_serve main --api-keys "$TMP/keys" --rim-dir "$TMP/rims" --no-ocsp --at "$AZ_AT" \
	    --conn-timeout 2 --request-timeout 2 --max-body 200000
}

nvidia_client_gets_valid_tokens() {
	have_pyjwt || { skip "python3-jwt not installed (bootstrap installs it): the NRAS client is not run"; return; }
	nras_client "$SURL_main" "$AZ_EVIDENCE" --key "$KEY"
	expect_rc 0 "NRAS client: tokens verify (ES384, kid, x5c, iss, nonce, digests)"
	expect_json 'd["overall"]' True "NRAS client: the Azure H100 evidence verifies"
	expect_json 'd["submods"]' "['GPU-0']" "NRAS client: one GPU submodule"
	RID_PASS=$(json_get 'd["request_id"]')
	nras_client "$SURL_main" "$AZ_EVIDENCE" --key "$KEY" --ear
	expect_rc 0 "EAR client: the EAR verifies"
	expect_json 'd["ear_status"]' affirming "EAR: affirming"
	expect_json 'd["verdict"]' pass "EAR: verdict pass"
	# Tokens from this service are accepted by our own token verifier.
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	printf '%s' "$out" >"$TMP/eat.json"
	RID_CURL=$(sed -n 's/^X-Request-Id: \([0-9a-f]*\).*/\1/ip' <<<"$hdr")
	http GET "$SURL_main/.well-known/jwks.json"
	printf '%s' "$out" >"$TMP/jwks.json"
	expect_json 'len(d["keys"][0]["x5c"])' 1 "JWKS: x5c carries the signing certificate"
	expect_no_out '"d"' "JWKS: never the private key"
	# This service runs with --no-ocsp: its tokens say so per device
	# (x-nvidia-cert-ocsp-status "not-checked"), and verify-token, which
	# applies NVIDIA's per-device policy, refuses them although the
	# signature, kid, iss and nonce are good.
	run_cli verify-token --jwks "$TMP/jwks.json" --issuer "$SURL_main" --nonce "$AZ_NONCE" "$TMP/eat.json"
	expect_rc 1 "verify-token: a --no-ocsp service's detached EAT is not accepted"
	expect_out 'ocsp-status is "not-checked"' "verify-token: names the unchecked revocation"
	expect_no_out 'signature' "verify-token: the signature itself was good"
}

failures_are_signed_and_recorded() {
	have_pyjwt || return
	azure_tampered "$TMP/tampered.json"
	nras_client "$SURL_main" "$TMP/tampered.json" --key "$KEY"
	expect_rc 0 "tampered report: the tokens still verify"
	expect_json 'd["overall"]' False "tampered report: overall false"
	RID_FAIL=$(json_get 'd["request_id"]')
	# A nonce the evidence was not made for fails (it is the relying party's).
	nras_client "$SURL_main" "$AZ_EVIDENCE" --key "$KEY" --nonce "$(printf '%064d' 7)"
	expect_json 'd["overall"]' False "another nonce: overall false"
}

wrong_keys_are_refused() {
	http POST "$SURL_main/v4/attest/gpu" --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "no key"
	expect_json 'd["error"]' unauthorized "no key: JSON error"
	expect_out '"request_id"' "no key: the error has a request id"
	grep -qi '^WWW-Authenticate: Bearer' <<<"$hdr" && ok || bad "401 without WWW-Authenticate"
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer ${KEY}x" --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "a wrong key"
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Basic YTpi" --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "Basic instead of Bearer"
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer $(head -c 5000 /dev/zero | tr '\0' a)" \
	    --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "a 5000-byte key"
}

bad_requests_get_json_errors() {
	local b
	for b in '' '{' '[1,2]' 'null' '{"nonce": 1}' "{\"nonce\": \"$AZ_NONCE\", \"arch\": \"HOPPER\"}" \
	    "{\"nonce\": \"$AZ_NONCE\", \"arch\": \"HOPPER\", \"evidence_list\": [{\"evidence\": \"@@\", \"certificate\": \"\"}]}" \
	    $'\xff\xfe{"nonce"}' "{\"nonce\": \"$AZ_NONCE\", \"arch\": \"HOPPER\", \"evidence_list\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}"; do
		http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary "$b"
		expect_code 400 "malformed body '${b:0:40}'"
		expect_json 'd["error"]' bad-request "malformed body '${b:0:40}': JSON error"
	done
	http POST "$SURL_main/v4/attest/switch" -H "Authorization: Bearer $KEY" --data-binary @"$AZ_EVIDENCE"
	expect_code 400 "GPU evidence at the switch endpoint"
	expect_out 'LS10' "switch endpoint: says which arch it takes"
	http GET "$SURL_main/v4/attest/gpu"
	expect_code 405 "GET on a POST endpoint"
	http POST "$SURL_main/health"
	expect_code 405 "POST on /health"
	http GET "$SURL_main/v3/attest/gpu"
	expect_code 404 "unknown path"
	expect_json 'd["error"]' not-found "unknown path: JSON error"
	http GET "$SURL_main/$(head -c 3000 /dev/zero | tr '\0' a)"
	[ "$code" = 404 ] || [ "$code" = 414 ] || [ "$code" = 431 ] && ok || bad "a 3000-byte path: HTTP $code"
}

huge_and_slow_bodies() {
	head -c 300000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer $KEY" --data-binary @"$TMP/big.json"
	expect_code 413 "a body over --max-body (Content-Length)"
	expect_json 'd["error"]' too-large "413: JSON error"
	http POST "$SURL_main/v4/attest/gpu" -H "Authorization: Bearer $KEY" -H "Transfer-Encoding: chunked" \
	    --data-binary @"$TMP/big.json"
	# curl may still be sending when the answer comes: the body tells.
	expect_json 'd["error"]' too-large "a chunked body over --max-body: 413"
	# A declared 100 MB body is refused before a byte of it is read.
	out=$(python3 - "${SURL_main##*:}" "$KEY" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
	s.sendall(("POST /v4/attest/gpu HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	           "Content-Length: 100000000\r\n\r\n" % sys.argv[2]).encode())
	print(s.recv(200).decode(errors="replace").split("\r\n")[0])
	EOF
	)
	expect_out "413" "a declared 100 MB body: 413 at once"
	# A client that stops sending is cut off (--conn-timeout 2), and so is
	# one that dribbles its body past --request-timeout 2 (libmicrohttpd
	# cannot answer in the middle of a body).
	out=$(python3 - "${SURL_main##*:}" "$KEY" <<-'EOF'
	import socket, sys, time
	port, key = int(sys.argv[1]), sys.argv[2]
	s = socket.create_connection(("127.0.0.1", port), timeout=20)
	s.sendall(b"POST /v4/attest/gpu HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n")
	t = time.time()
	r = s.recv(100)
	print("stalled: closed after %.0f s %r" % (time.time() - t, r[:12]))
	s = socket.create_connection(("127.0.0.1", port), timeout=20)
	s.sendall(("POST /v4/attest/gpu HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	           "Content-Length: 1000\r\n\r\n" % key).encode())
	t = time.time()
	try:
	    for i in range(40):
	        s.sendall(b" ")
	        time.sleep(0.25)
	    print("dribbled: still open after 10 s")
	except OSError:
	    print("dribbled: cut off after %.0f s" % (time.time() - t))
	EOF
	)
	expect_out "stalled: closed after" "a stalled client is disconnected"
	grep -qE 'closed after [2-9] s' <<<"$out" && ok || bad "stalled client: not cut off after about 2 s"
	grep -qE 'dribbled: cut off after [2-5] s' <<<"$out" && ok || bad "a body dribbled past --request-timeout is not cut off"
}

still_healthy() {
	http GET "$SURL_main/health"
	expect_code 200 "health after the hostile requests"
	expect_json 'd["store"]' ok "health: store ok"
	expect_json 'd["signing"]' ok "health: signing ok"
	kill -0 "$SPID_main" 2>/dev/null && ok || bad "the service died"
	grep -qE 'AddressSanitizer|runtime error' "$TMP/serve-main.log" && bad "sanitizer report in the service log" || ok
}

metrics_count_what_happened() {
	http GET "$SURL_main/metrics"
	expect_code 200 "metrics"
	grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$hdr" && ok || bad "metrics content type"
	expect_out 'gpuattest_verdicts_total{verdict="pass"} 3' "metrics: three passes"
	expect_out 'gpuattest_verdicts_total{verdict="fail"} 2' "metrics: two failures"
	expect_out 'gpuattest_requests_total{endpoint="gpu",code="401"} 4' "metrics: four 401s"
	expect_out 'gpuattest_request_duration_seconds_bucket{endpoint="gpu",le="+Inf"}' "metrics: latency histogram"
	expect_out 'gpuattest_errors_total{kind="auth"} 4' "metrics: auth errors"
	expect_out 'gpuattest_errors_total{kind="parse"}' "metrics: parse errors"
	expect_out 'gpuattest_collateral_cache_total{kind="rim"' "metrics: collateral memory"
}

audit_has_every_verdict() {
	run_cli_stdout audit export --db "$DB"
	expect_rc 0 "audit export"
	local n
	n=$(grep -c . <<<"$out")
	[ "$n" = 5 ] && ok || bad "audit export: $n rows, expected the 5 verdicts answered"
	run_cli_stdout audit show "$RID_PASS" --db "$DB"
	expect_rc 0 "audit show"
	expect_json 'd["verdict"]' pass "audit show: verdict"
	expect_json 'd["client"]' key:alice "audit show: the client is the key's name"
	expect_json 'd["endpoint"]' gpu "audit show: endpoint"
	expect_json 'd["devices"][0]["ueid"]' 670675190330701367605337753580860420643006460535 "audit show: device identity"
	expect_json 'd["token"][:8]' '[["JWT",' "audit show: the token handed out"
	run_cli_stdout audit show "$RID_CURL" --db "$DB"
	expect_json 'd["evidence_sha256"]' "$(sha256sum "$AZ_EVIDENCE" | cut -c1-64)" "audit show: the hash of the body as sent"
	expect_json 'd["token"]' "$(cat "$TMP/eat.json")" "audit show: exactly the token the client got"
	expect_json 'd["claims"]["result"]' pass "audit show: the claims"
	run_cli_stdout audit export --db "$DB" --verdict fail
	[ "$(grep -c . <<<"$out")" = 2 ] && ok || bad "audit --verdict fail: $(grep -c . <<<"$out") rows"
	grep -q "$RID_FAIL" <<<"$out" && ok || bad "audit --verdict fail lacks the tampered request"
	run_cli_stdout audit list --db "$DB" --device 6706751903307013676 --since 2020-01-01 --limit 3
	[ "$(grep -c . <<<"$out")" = 3 ] && ok || bad "audit list --device --limit 3"
	run_cli_stdout audit list --db "$DB" --until 2020-01-01
	[ -z "$out" ] && ok || bad "audit --until 2020: rows before the service existed"
	run_cli audit show nope --db "$DB"
	expect_rc 2 "audit show of an unknown id"
	run_cli audit list --verdict maybe --db "$DB"
	expect_rc 2 "audit --verdict maybe"
	run_cli audit list --db "sqlite:$TMP/none/x.db"
	expect_rc 3 "audit of a store that cannot be opened"
}

rate_limits() {
	start_serve rl --rim-dir "$TMP/rims" --no-ocsp --at "$AZ_AT" --rate 0.5 --burst 2 || return
	local codes=() i
	for i in 1 2 3; do
		http POST "$SURL_rl/v4/attest/gpu" --data-binary @"$AZ_EVIDENCE"
		codes+=("$code")
	done
	[ "${codes[*]}" = "200 200 429" ] && ok || bad "rate 0.5/s burst 2: codes ${codes[*]}"
	grep -qi '^Retry-After: [1-9]' <<<"$hdr" && ok || bad "429 without Retry-After"
	expect_json 'd["error"]' rate-limited "429: JSON error"
	http GET "$SURL_rl/health"
	expect_code 200 "health is not rate-limited"
}

startup_rules() {
	run_cli serve --listen 0.0.0.0 --port 0
	expect_rc 2 "a non-loopback address without API keys"
	expect_out "--api-keys" "non-loopback: names the option"
	run_cli serve --listen nowhere
	expect_rc 2 "--listen not an address"
	run_cli serve --tls-cert "$TMP/x.pem"
	expect_rc 2 "--tls-cert without --tls-key"
	run_cli serve --rate 0
	expect_rc 2 "--rate 0"
	run_cli serve --max-body 12
	expect_rc 2 "--max-body below 1024"
	run_cli serve --db "sqlite:$TMP/no/such/dir.db" --port 0
	expect_rc 3 "an audit store that cannot be opened"
	expect_out "no/such/dir.db" "names the store"
	run_cli serve --api-keys "$TMP/nokeys" --port 0
	expect_rc 2 "a missing key file"
	run_cli help serve
	expect_rc 0 "help serve"
	expect_out "/v4/attest/gpu" "help serve: the endpoints"
}

no_signing_key_no_tokens() {
	start_serve nosign --signing-key "$TMP/missing.pem" --rim-dir "$TMP/rims" --no-ocsp --at "$AZ_AT" \
	    --db "sqlite:$TMP/nosign.db" || return
	http POST "$SURL_nosign/v4/attest/gpu" --data-binary @"$AZ_EVIDENCE"
	expect_code 503 "no signing key: 503"
	expect_json 'd["error"]' signing-unavailable "no signing key: says so"
	http GET "$SURL_nosign/.well-known/jwks.json"
	expect_code 503 "no signing key: no JWKS"
	http GET "$SURL_nosign/health"
	expect_code 503 "no signing key: health 503"
	run_cli_stdout audit export --db "sqlite:$TMP/nosign.db"
	[ -z "$out" ] && ok || bad "no signing key: a verdict was recorded without a token"
}

default_start() {
	# No options at all: loopback, SQLite and a key under the state directory.
	if python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 8080))' 2>/dev/null; then
		GPUATTEST_STATE_DIR=$TMP/default "$GPUATTEST" serve >"$TMP/default.log" 2>&1 &
		local pid=$! i
		SERVER_PIDS+=("$pid")
		for ((i = 0; i < 50; i++)); do
			curl -s -o /dev/null http://127.0.0.1:8080/health && break
			sleep 0.1
		done
		http GET http://127.0.0.1:8080/health
		expect_code 200 "'gpuattest serve' with no options answers on 127.0.0.1:8080"
		[ -f "$TMP/default/audit.db" ] && [ -f "$TMP/default/signing-key.pem" ] && ok ||
			bad "no options: no audit.db or signing key under the state directory"
		[ "$(stat -c %a "$TMP/default/signing-key.pem")" = 600 ] && ok || bad "the generated key is not 0600"
		stop_server "$pid"
	else
		skip "port 8080 is in use: 'serve' with no options not tried"
	fi
}

tls() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/tls.key" \
	    -out "$TMP/tls.crt" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	start_serve tls --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" --rim-dir "$TMP/rims" --no-ocsp \
	    --at "$AZ_AT" --db "sqlite:$TMP/tls.db" || return
	local port=${SURL_tls##*:}
	http GET "https://127.0.0.1:$port/health" --cacert "$TMP/tls.crt"
	expect_code 200 "HTTPS: health over TLS"
	http POST "https://127.0.0.1:$port/v4/attest/gpu" --cacert "$TMP/tls.crt" --data-binary @"$AZ_EVIDENCE"
	expect_code 200 "HTTPS: a verification"
	printf '%s' "$out" >"$TMP/tls-eat.json"
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e[0][0])' "$TMP/tls-eat.json" | grep -q JWT &&
		ok || bad "HTTPS: no detached EAT"
}

# mkcert NAME CA EKU: a P-256 client certificate NAME.crt/.key for CN=NAME,
# issued by CA (CA.crt/CA.key) with extended key usage EKU.
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/$1.key" \
	    -out "$TMP/$1.csr" -subj "/O=gpuattest test/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$2.crt" -CAkey "$TMP/$2.key" -CAcreateserial \
	    -days 2 -out "$TMP/$1.crt" -extfile <(printf 'extendedKeyUsage=%s\n' "$3") 2>/dev/null
}

# Mutual TLS (--client-ca) instead of API keys: only a certificate from
# that CA, allowed for client authentication, gets a verification, and the
# audit trail names the client by it.
mtls() {
	local ca=(-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/clientca.key" \
	    -out "$TMP/clientca.crt" -days 2 -subj "/CN=gpuattest test client CA" "${ca[@]}" 2>/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/otherca.key" \
	    -out "$TMP/otherca.crt" -days 2 -subj "/CN=gpuattest test client CA" "${ca[@]}" 2>/dev/null
	mkcert fleet-a clientca clientAuth && mkcert rogue otherca clientAuth &&
	    mkcert server-only clientca serverAuth || { out="" rc=1; bad "openssl could not make the client certificates"; return; }
	run_cli serve --port 0 --client-ca "$TMP/clientca.crt"
	expect_rc 2 "--client-ca without TLS"
	expect_out "needs --tls-cert" "--client-ca without TLS: says why"
	run_cli serve --port 0 --client-ca "$TMP/clientca.crt" --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" \
	    --api-keys "$TMP/keys"
	expect_rc 2 "--client-ca with --api-keys"
	start_serve mtls --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" --client-ca "$TMP/clientca.crt" \
	    --rim-dir "$TMP/rims" --no-ocsp --at "$AZ_AT" --db "sqlite:$TMP/mtls.db" || return
	local port=${SURL_mtls##*:} u
	u=https://127.0.0.1:$port
	http POST "$u/v1/attest/gpu" --cacert "$TMP/tls.crt" --cert "$TMP/fleet-a.crt" --key "$TMP/fleet-a.key" \
	    --data-binary @"$AZ_EVIDENCE"
	expect_code 200 "mTLS: a client certificate from the CA"
	expect_json 'd["verdict"]' pass "mTLS: the verification itself"
	http POST "$u/v1/attest/gpu" --cacert "$TMP/tls.crt" --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "mTLS: no client certificate"
	expect_out "none was presented" "mTLS: no client certificate: says so"
	http POST "$u/v1/attest/gpu" --cacert "$TMP/tls.crt" --cert "$TMP/rogue.crt" --key "$TMP/rogue.key" \
	    --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "mTLS: a certificate of another CA with the same name"
	expect_out "not valid" "mTLS: another CA: not valid"
	http POST "$u/v1/attest/gpu" --cacert "$TMP/tls.crt" --cert "$TMP/server-only.crt" \
	    --key "$TMP/server-only.key" --data-binary @"$AZ_EVIDENCE"
	expect_code 401 "mTLS: a certificate of the CA not for client authentication"
	http GET "$u/health" --cacert "$TMP/tls.crt"
	expect_code 200 "mTLS: /health needs no certificate (load balancers)"
	run_cli audit export --db "sqlite:$TMP/mtls.db"
	expect_out '"client":"cert:CN=fleet-a,O=gpuattest test sha256:' "mTLS: the audit trail names the certificate"
	[ "$(grep -c . <<<"$out")" = 1 ] && ok || bad "mTLS: only the authenticated request is on record"
	stop_serve_clean mtls
}

if need_shared; then
	azure_rims
	if start_main; then
		nvidia_client_gets_valid_tokens
		failures_are_signed_and_recorded
		wrong_keys_are_refused
		bad_requests_get_json_errors
		huge_and_slow_bodies
		still_healthy
		metrics_count_what_happened
		audit_has_every_verdict
		stop_serve_clean main
	fi
	rate_limits
	no_signing_key_no_tokens
	tls
	mtls
fi
startup_rules
default_start
finish
