# Loopback servers for CLI tests (sourced after lib.sh): tests/servers/*.py
# started as children of the test shell on 127.0.0.1, each stopped by the
# EXIT trap set here (and watching its parent, so none outlives the test).
#   start_server NAME SCRIPT ARGS...   sets URL_<NAME>; must not run in $(...)
#   stop_all                           stops every server started so far
#   closed_port                        a port nothing listens on
#   start_ocspd [ARGS]                 one responder for the sim PKI's six CAs ($D/ca/*),
#                                      ARGS passed to ocspd.py (e.g. --signer)
#   revoke CA CERT [ARGS]              openssl ca -revoke in that CA's database
#   forget CA CERT                     removes CERT from CA's database (answer: unknown)
#   restore_databases                  undoes revoke and forget
# Used by test_net_cli.sh and test_collateral.sh (through netlib.sh),
# test_preflight.sh, test_receipt.sh and the serve tests.
SRV=$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)
SERVER_PIDS=()
unset GPUATTEST_OCSP_URL GPUATTEST_RIM_URL GPUATTEST_SERVICE_KEY GPUATTEST_HTTP_RETRIES \
    GPUATTEST_HTTP_TIMEOUT_MS GPUATTEST_HTTP_CONNECT_TIMEOUT_MS http_proxy https_proxy HTTP_PROXY \
    HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

stop_server() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
stop_all() {
	local p
	for p in "${SERVER_PIDS[@]}"; do stop_server "$p"; done
	SERVER_PIDS=()
}
trap 'stop_all; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

start_server() {
	local name=$1 script=$2 pid i
	shift 2
	rm -f "$TMP/$name.port"
	python3 "$SRV/$script" --port-file "$TMP/$name.port" --lifetime 600 "$@" >"$TMP/$name.log" 2>&1 &
	pid=$!
	SERVER_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMP/$name.port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$TMP/$name.port" ]; then
		out=$(cat "$TMP/$name.log") rc=1
		bad "server $script did not start"
		return 1
	fi
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$(tr -d '\n' <"$TMP/$name.port")"
}

closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# issuerKeyHash: SHA-1 of the subjectPublicKey bits; P-384 points are the
# last 97 bytes of the SPKI (as tests/servers/mkpki.sh).
keyhash() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 97 |
		openssl dgst -sha1 -r | cut -d' ' -f1
}

# The CAs that issue the checked certificates: device chain 1..3 (BROM by
# prov-gh100, provisioner ICA by identity, identity by root) and RIM chain
# 0..2 (signer by rim-l3, L3 by rim-ca, CA by rim-root).
CAS=(prov-gh100 identity root rim-l3 rim-ca rim-root)

# start_ocspd [ARGS]: the first call keeps a pristine copy of each database.
start_ocspd() {
	local ca d routes=()
	for ca in "${CAS[@]}"; do
		d=$D/ca/$ca
		[ -f "$d/index.pristine" ] || cp "$d/index.txt" "$d/index.pristine"
		routes+=(--route "$(keyhash "$d/ca.crt")=$d/index.txt,$d/ca.crt,$d/ocsp.crt,$d/ocsp.key")
	done
	start_server ocsp ocspd.py "${routes[@]}" "$@"
}

# ---- the PKI's databases --------------------------------------------------

# revoke CA CERT OPENSSL_CA_ARGS...: marks CERT revoked in CA's database.
revoke() {
	local ca=$1 cert=$2
	shift 2
	GPA_CADIR=$D/ca/$ca GPA_FWID_DER=00 openssl ca -config "$D/openssl.cnf" -revoke "$cert" "$@" \
		>/dev/null 2>&1 || { out="" rc=1; bad "openssl ca -revoke $cert failed"; }
}
# forget CA CERT: removes CERT from CA's database (the responder says unknown).
forget() {
	local serial
	serial=$(openssl x509 -in "$2" -noout -serial | cut -d= -f2)
	awk -F'\t' -v s="$serial" '$4 != s' "$D/ca/$1/index.pristine" >"$D/ca/$1/index.txt"
}
restore_databases() {
	local ca
	for ca in "${CAS[@]}"; do cp "$D/ca/$ca/index.pristine" "$D/ca/$ca/index.txt"; done
}
