#!/usr/bin/env bash
# gpuattest serve with revocation checked: simulated GPUs (sim/make-sim-env.sh,
# its own PKI, trusted alone), the loopback OCSP responder
# (tests/servers/ocspd.py over the PKI's CA databases). A client that uses
# only NVIDIA's request shape (attestation-formats.md §12; nras_client.py)
# gets a detached EAT that our own 'gpuattest verify-token' accepts (exit 0:
# every device's chain OCSP-good), 'verify --verifier nras' pointed at the
# service passes, and a revoked device certificate is refused by both.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/serve_lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIMLIB=$(dirname "$GPUATTEST")/sim/libnvidia-ml-sim.so
D=$TMP/sim
export GPUATTEST_STATE_DIR=$TMP/state GPUATTEST_CACHE_DIR=$TMP/cache
mkdir -p "$TMP/state"

setup() {
	[ -f "$SIMLIB" ] || { skip "simulator not built: $SIMLIB"; return 1; }
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh failed"
		return 1
	fi
	eval "$out"
	run_cli collect -o "$TMP/ev.json" --nvml-lib "$SIMLIB"
	expect_rc 0 "collect from the simulator"
	NONCE=$(sed -n 's/.*(nonce \([0-9a-f]\{64\}\)).*/\1/p' <<<"$out")
	[ -n "$NONCE" ] || { bad "collect printed no nonce"; return 1; }
	start_ocspd || return 1
	# --ocsp-ttl 1: a good OCSP result serves other requests for 1 s only, so
	# the revocation below is seen after a short wait.
	start_serve ocsp --db "sqlite:$TMP/state/audit.db" --no-pinned-anchors --trust-anchor "$D/root.pem" \
	    --trust-anchor "$D/rim/root.pem" --rim-dir "$D/rims" --ocsp-url "$URL_ocsp" --ocsp-ttl 1 || return 1
	http GET "$SURL_ocsp/.well-known/jwks.json"
	printf '%s' "$out" >"$TMP/jwks.json"
}

nvidia_shaped_client_token_accepted() {
	have_pyjwt || { skip "python3-jwt not installed (bootstrap installs it): the NRAS client is not run"; return; }
	nras_client "$SURL_ocsp" "$TMP/ev.json" --save "$TMP/eat.json"
	expect_rc 0 "NRAS-shaped client: the tokens verify"
	expect_json 'd["overall"]' True "NRAS-shaped client: the simulated GPUs verify with OCSP"
	expect_json 'd["submods"]' "['GPU-0', 'GPU-1']" "NRAS-shaped client: one submodule per GPU"
	run_cli verify-token --jwks "$TMP/jwks.json" --issuer "$SURL_ocsp" --nonce "$NONCE" "$TMP/eat.json"
	expect_rc 0 "verify-token accepts the service's detached EAT (revocation checked)"
	# The same token for another nonce is refused: the nonce is the relying party's.
	run_cli verify-token --jwks "$TMP/jwks.json" --issuer "$SURL_ocsp" --nonce "$(printf '%064d' 5)" \
	    "$TMP/eat.json"
	expect_rc 1 "verify-token: another nonce"
	# And under another issuer (the URL the client did not call).
	run_cli verify-token --jwks "$TMP/jwks.json" --issuer "http://127.0.0.1:1" --nonce "$NONCE" "$TMP/eat.json"
	expect_rc 1 "verify-token: another issuer"
}

our_nras_verifier_passes() {
	run_cli verify --evidence "$TMP/ev.json" --nonce "$NONCE" --verifier nras --nras-url "$SURL_ocsp"
	expect_rc 0 "verify --verifier nras against the service"
	expect_out "VERIFICATION SUCCESSFUL" "verify --verifier nras: successful"
	run_cli verify --evidence "$TMP/ev.json" --nonce "$NONCE" --verifier both --nras-url "$SURL_ocsp" \
	    --no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem" --rim-dir "$D/rims" \
	    --ocsp-url "$URL_ocsp"
	expect_rc 0 "verify --verifier both: the local verifier and the service agree"
}

revoked_device_refused() {
	revoke prov-gh100 "$D/gpu0/brom.crt"
	sleep 1.5
	have_pyjwt && {
		nras_client "$SURL_ocsp" "$TMP/ev.json" --save "$TMP/eat-revoked.json"
		expect_rc 0 "revoked: the tokens still verify"
		expect_json 'd["overall"]' False "revoked: overall false"
		run_cli verify-token --jwks "$TMP/jwks.json" --issuer "$SURL_ocsp" --nonce "$NONCE" "$TMP/eat-revoked.json"
		expect_rc 1 "verify-token refuses the EAT of a revoked device"
	}
	run_cli verify --evidence "$TMP/ev.json" --nonce "$NONCE" --verifier nras --nras-url "$SURL_ocsp"
	expect_rc 1 "verify --verifier nras: a revoked device fails"
	restore_databases
}

if setup; then
	nvidia_shaped_client_token_accepted
	our_nras_verifier_passes
	revoked_device_refused
	stop_serve_clean ocsp
fi
finish
