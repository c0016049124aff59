# Shared setup of the CLI tests against loopback network services (sourced
# after lib.sh): the simulated GPUs' evidence ($TMP/ev.json, $NONCE) chained to
# a test PKI made in $D, the OCSP responder (tests/servers/ocspd.py over the
# PKI's `openssl ca` databases: $URL_ocsp), two RIM services ($URL_rim with the
# sim's RIMs, $URL_alt over $TMP/altrims), revoke/forget/restore_databases,
# v / online (verify trusting only the test PKI) and json/count helpers.
# Call need_tools && setup, then the cases, then stop_all and finish.
# Used by test_net_cli.sh and test_collateral.sh.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRV=$ROOT/tests/servers
SIMLIB=${GPUATTEST_SIM_LIB:-$(dirname "$GPUATTEST")/sim/libnvidia-ml-sim.so}
D=$TMP/sim
NGPUS=2
NONCE=""
SERVER_PIDS=()
URL_ocsp="" URL_rim="" URL_alt=""  # set by start_server

# The environment must not redirect the services or the cache behind our back.
unset GPUATTEST_OCSP_URL GPUATTEST_RIM_URL GPUATTEST_SERVICE_KEY GPUATTEST_HTTP_RETRIES \
    GPUATTEST_HTTP_TIMEOUT_MS GPUATTEST_HTTP_CONNECT_TIMEOUT_MS http_proxy https_proxy HTTP_PROXY \
    HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

# ---- servers -------------------------------------------------------------

# stop_server PID: TERM, up to 5 s, then KILL.
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

# start_server NAME SCRIPT ARGS...: runs tests/servers/SCRIPT in the
# background (a child of this shell, so it exits with us) and waits at most
# 10 s for its port; sets URL_<NAME>. Must not run in $(...).
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

# A port on 127.0.0.1 that nothing listens on (bound, then closed).
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

start_ocspd() {
	local ca d routes=()
	for ca in "${CAS[@]}"; do
		d=$D/ca/$ca
		routes+=(--route "$(keyhash "$d/ca.crt")=$d/index.txt,$d/ca.crt,$d/ocsp.crt,$d/ocsp.key")
	done
	start_server ocsp ocspd.py "${routes[@]}" \
		--signer "rogue=$D/ca/root/ocsp.crt,$D/ca/root/ocsp.key" \
		--signer "selfsigned=$TMP/selfsigned.pem,$TMP/selfsigned.key"
}
start_services() {
	start_ocspd && start_server rim rimsvc.py --dir "$D/rims" &&
		start_server alt rimsvc.py --dir "$TMP/altrims"
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

# ---- running the verifier -------------------------------------------------

TRUST=()
# v ARGS...: verify the recorded evidence with our nonce, trusting only the test PKI.
v() { run_cli verify --evidence "$TMP/ev.json" --nonce "$NONCE" "${TRUST[@]}" --no-color "$@"; }
# online ARGS...: v against the running services, no cache.
online() { v --ocsp-url "$URL_ocsp" --rim-url "$URL_rim" --no-cache "$@"; }

# json_check PYTHON_EXPR WHAT: the expression over d (the JSON in $out) must be True.
json_check() {
	local got
	got=$(python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); print(bool(eval(sys.argv[1])))' \
		"$1" <<<"$out" 2>&1)
	if [ "$got" = True ]; then ok; else bad "$2: $1 is $got"; fi
}
# The cert-chain claim objects of every device.
CHAINS='[v for c in d["claims"] for v in c.values() if isinstance(v, dict) and "x-nvidia-cert-ocsp-status" in v]'

# count_lines TEXT: how many lines of $out contain TEXT.
count_lines() { grep -cF -- "$1" <<<"$out"; }
expect_count() {
	local n
	n=$(count_lines "$1")
	if [ "$n" -eq "$2" ]; then ok; else bad "$3: '$1' on $n line(s), expected $2"; fi
}

now_plus() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# ---- setup ----------------------------------------------------------------

need_tools() {
	local t
	for t in python3 xmlsec1 openssl; do
		if ! command -v "$t" >/dev/null 2>&1; then
			skip "$t not installed"
			return 1
		fi
	done
	if [ ! -f "$SIMLIB" ]; then
		skip "simulator not built: $SIMLIB"
		return 1
	fi
	return 0
}

setup() {
	local ca
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" "$NGPUS" 0 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh failed"
		return 1
	fi
	eval "$out"
	run_cli collect -o "$TMP/ev.json" --nvml-lib "$SIMLIB"
	expect_rc 0 "collect from the simulator"
	NONCE=$(sed -n 's/.*(nonce \([0-9a-f]\{64\}\)).*/\1/p' <<<"$out")
	if [ -z "$NONCE" ]; then
		bad "collect printed no nonce"
		return 1
	fi
	for ca in "${CAS[@]}"; do cp "$D/ca/$ca/index.txt" "$D/ca/$ca/index.pristine"; done
	# A responder that chains to nothing we trust.
	openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 3650 \
		-subj "/CN=gpuattest test self-signed OCSP responder" -addext extendedKeyUsage=OCSPSigning \
		-keyout "$TMP/selfsigned.key" -out "$TMP/selfsigned.pem" >/dev/null 2>&1 ||
		{ rc=1 out=""; bad "making the self-signed responder failed"; return 1; }
	mkdir -p "$TMP/altrims"
	TRUST=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem")
	DRV=NV_GPU_DRIVER_GH100_595.71.05
	VB=NV_GPU_VBIOS_1010_0210_886_96009F0004
	if [ ! -f "$D/rims/$DRV.xml" ] || [ ! -f "$D/rims/$VB.xml" ]; then
		rc=1 out=$(ls "$D/rims")
		bad "the sim's RIMs are not named as expected"
		return 1
	fi
	start_services
}

