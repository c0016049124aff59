# Helpers for the verifier service's tests (sourced after lib.sh and
# servers.sh): `gpuattest serve` started as a child of the test shell on
# 127.0.0.1, stopped by servers.sh's EXIT trap.
#   start_serve NAME ARGS...   sets SURL_<NAME>, SPID_<NAME>; must not run in $(...)
#   launch_serve / wait_serve  the same in two steps (replicas starting together)
#   http METHOD URL [CURL ARGS...]   sets $out (body), $code (status), $hdr (headers)
#   nras_client ARGS...        tests/servers/nras_client.py; sets $out and $rc
#   azure_rims                 $TMP/rims with the Azure H100 vector's two RIMs
AZ=$V/gpu/hopper_595.71.05_azure
AZ_EVIDENCE=$AZ/gpu-evidence.json
AZ_AT=2026-11-28T00:00:00Z
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
NRAS_CLIENT=$SRV/nras_client.py

start_serve() { launch_serve "$@" && wait_serve "$1"; }
# launch_serve NAME ARGS...; wait_serve NAME: the same in two steps, so that
# several replicas can start at once.
launch_serve() {
	local name=$1 pid
	shift
	rm -f "$TMP/serve-$name.port"
	"$GPUATTEST" serve --port 0 --port-file "$TMP/serve-$name.port" "$@" >"$TMP/serve-$name.log" 2>&1 &
	pid=$!
	SERVER_PIDS+=("$pid")
	printf -v "SPID_$name" '%s' "$pid"
}
wait_serve() {
	local name=$1 i pidvar=SPID_$1
	for ((i = 0; i < 150; i++)); do
		[ -s "$TMP/serve-$name.port" ] && break
		kill -0 "${!pidvar}" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$TMP/serve-$name.port" ]; then
		out=$(cat "$TMP/serve-$name.log") rc=1
		bad "gpuattest serve ($name) did not start"
		return 1
	fi
	printf -v "SURL_$name" 'http://127.0.0.1:%s' "$(tr -d '\n' <"$TMP/serve-$name.port")"
}

http() {
	local method=$1 url=$2
	shift 2
	code=$(curl -s -o "$TMP/http.body" -D "$TMP/http.hdr" -w '%{http_code}' --max-time 30 \
	    -X "$method" "$@" "$url" 2>/dev/null)
	out=$(cat "$TMP/http.body" 2>/dev/null)
	hdr=$(cat "$TMP/http.hdr" 2>/dev/null)
}
expect_code() { if [ "$code" = "$1" ]; then ok; else bad "$2: HTTP $code, expected $1"; fi; }

# The client needs python3-jwt, a Debian package: the system interpreter has it.
PY=/usr/bin/python3
have_pyjwt() { [ -x "$PY" ] && "$PY" -c 'import jwt, cryptography' 2>/dev/null; }
nras_client() { out=$("$PY" "$NRAS_CLIENT" "$@" 2>&1); rc=$?; }

azure_rims() {
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" \
	    "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
}

# A copy of the Azure evidence with one byte of the report's signature changed.
azure_tampered() {
	python3 - "$AZ_EVIDENCE" "$1" <<-'EOF'
	import base64, json, sys
	d = json.load(open(sys.argv[1]))
	r = bytearray(base64.b64decode(d["evidence_list"][0]["evidence"]))
	r[-5] ^= 1
	d["evidence_list"][0]["evidence"] = base64.b64encode(bytes(r)).decode()
	json.dump(d, open(sys.argv[2], "w"))
	EOF
}

# stop_serve_clean NAME: SIGTERM; the process must stop within 20 s with
# exit 0 and a log free of sanitizer reports (under make SAN=1 an error or a
# leak found at shutdown shows here, not only a crash).
stop_serve_clean() {
	local pidvar=SPID_$1 st i
	kill "${!pidvar}" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "${!pidvar}" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "${!pidvar}" 2>/dev/null && kill -9 "${!pidvar}"
	wait "${!pidvar}"
	st=$?
	out=$(cat "$TMP/serve-$1.log")
	[ "$st" = 0 ] && ok || bad "gpuattest serve ($1) exited $st after SIGTERM"
	expect_no_out "Sanitizer" "gpuattest serve ($1): no sanitizer report"
}
