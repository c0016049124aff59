# Shared setup of the CLI tests against loopback network services (sourced
# after lib.sh): the simulated GPUs' evidence ($TMP/ev.json, $NONCE) chained to
# a test PKI made in $D, the OCSP responder (tests/servers/ocspd.py over the
# PKI's `openssl ca` databases: $URL_ocsp), two RIM services ($URL_rim with the
# sim's RIMs, $URL_alt over $TMP/altrims), revoke/forget/restore_databases,
# v / online (verify trusting only the test PKI) and json/count helpers.
# Call need_tools && setup, then the cases, then stop_all and finish.
# Used by test_net_cli.sh and test_collateral.sh.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIMLIB=${GPUATTEST_SIM_LIB:-$(dirname "$GPUATTEST")/sim/libnvidia-ml-sim.so}
D=$TMP/sim
NGPUS=2
NONCE=""
URL_ocsp="" URL_rim="" URL_alt=""  # set by start_server
# The servers, the PKI's databases, a clean network environment.
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

start_services() {
	start_ocspd --signer "rogue=$D/ca/root/ocsp.crt,$D/ca/root/ocsp.key" \
		--signer "selfsigned=$TMP/selfsigned.pem,$TMP/selfsigned.key" &&
		start_server rim rimsvc.py --dir "$D/rims" &&
		start_server alt rimsvc.py --dir "$TMP/altrims"
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

