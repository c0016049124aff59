#!/usr/bin/env bash
# bench_serve.sh [SECONDS]: `gpuattest serve` under load on loopback, warm
# collateral, everything checked (RIMs from --rim-dir, revocation from the
# loopback OCSP responder tests/servers/ocspd.py, answers reused for
# --ocsp-ttl): the bounded client build/bench/bench_serve keeps CONNS
# keep-alive connections busy for SECONDS (default 10) per case with one
# body, first the evidence of ONE simulated GPU, then of EIGHT. Per case:
#
#   bench_serve: 1 GPU, 8 conns, 10 s: N verifications/s, p50 X ms, p99 Y ms,
#       server CPU Z ms/verification, peak RSS R MiB (target 400/s for 1 GPU)
#
# Server CPU is the serve process's own user + system time over the run
# (/proc/PID/stat) divided by the verifications answered: a figure that
# does not depend on what else the machine is doing. Peak RSS is its VmHWM.
# The signature is the detached EAT of every answer; the client counts only
# HTTP 200 answers and the run fails if any request got anything else.
#
# BENCH_SERVE_OPTS adds options to serve's command line (e.g. --threads 2).
# BENCH_SERVE_PERF=FILE records a perf profile (perf record -g) of the
# server during the 1-GPU case into FILE.
#
# Owns: a temporary directory (bench/lib.sh: the simulated system, the
# state directory, the SQLite audit store and the cache all live there),
# the servers it starts (127.0.0.1 only, stopped by the EXIT trap). Never
# fails on a missed target; exits non-zero when a request did not succeed
# or a verification did not pass (the figures would mean nothing).
#
#   BUILD=build bash bench/bench_serve.sh [SECONDS]
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=bench/lib.sh
. bench/lib.sh bench_serve
SECS=${1:-${BENCH_SERVE_SECONDS:-10}}
CONNS=${BENCH_SERVE_CONNS:-8}

bench_count SECONDS "$SECS"
LOADER=$BDIR/bench/bench_serve
bench_need_build "$SIMLIB" "$LOADER"
for t in python3 openssl curl; do bench_need "$t"; done
bench_loopback_servers
bench_tmp
trap 'exit 130' INT TERM

# wait_port NAME: the port file $TMP/NAME.port within 15 s, else exit 1.
wait_port() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ -s "$TMP/$1.port" ] && return 0
		sleep 0.1
	done
	echo "bench_serve: $1 did not start" >&2
	cat "$TMP/$1.log" >&2
	exit 1
}
keyhash() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 97 |
		openssl dgst -sha1 -r | cut -d' ' -f1
}

bench_sim_env 8 0
if ! "$CLI" collect -o "$TMP/ev8.json" --nvml-lib "$SIMLIB" 2>"$TMP/collect.log"; then
	cat "$TMP/collect.log" >&2
	exit 1
fi
# NRAS request bodies (attestation-formats.md §12.2): all 8 GPUs, and the first.
python3 - "$TMP" <<'EOF' || exit 1
import json, sys
tmp = sys.argv[1]
items = json.load(open(tmp + "/ev8.json"))
for name, sel in (("body1", items[:1]), ("body8", items)):
    json.dump({"nonce": sel[0]["nonce"], "arch": sel[0]["arch"], "claims_version": "3.0",
               "evidence_list": [{"evidence": i["evidence"], "certificate": i["certificate"]} for i in sel]},
              open("%s/%s.json" % (tmp, name), "w"))
EOF

routes=()
for ca in prov-gh100 identity root rim-l3 rim-ca rim-root; do
	d=$D/ca/$ca
	routes+=(--route "$(keyhash "$d/ca.crt")=$d/index.txt,$d/ca.crt,$d/ocsp.crt,$d/ocsp.key")
done
python3 tests/servers/ocspd.py --port-file "$TMP/ocsp.port" --lifetime 900 "${routes[@]}" \
	>"$TMP/ocsp.log" 2>&1 &
PIDS+=($!)
wait_port ocsp

mkdir -p "$TMP/state"
GPUATTEST_STATE_DIR=$TMP/state "$CLI" serve --port 0 --port-file "$TMP/serve.port" \
	--db "sqlite:$TMP/state/audit.db" --cache-dir "$TMP/cache" \
	--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem" \
	--rim-dir "$D/rims" --ocsp-url "http://127.0.0.1:$(cat "$TMP/ocsp.port")" --ocsp-ttl 3600 \
	${BENCH_SERVE_OPTS:-} >"$TMP/serve.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_port serve
PORT=$(tr -d '\n' <"$TMP/serve.port")

# Both bodies must verify (the collateral is warm after this).
for b in body1 body8; do
	out=$(curl -s --max-time 60 -X POST --data-binary @"$TMP/$b.json" \
	    "http://127.0.0.1:$PORT/v1/attest/gpu")
	if ! grep -q '"verdict": *"pass"' <<<"$out"; then
		echo "bench_serve: $b does not verify: ${out:0:600}" >&2
		tail -n 20 "$TMP/serve.log" >&2
		exit 1
	fi
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SPID/stat"; }
hz=$(getconf CLK_TCK)
rc=0
echo "bench_serve: $(nproc) CPUs; server: gpuattest serve --threads default, SQLite WAL audit store" \
    "(one row per verification), OCSP answers reused up to --ocsp-ttl"
for n in 1 8; do
	# BENCH_SERVE_PERF=FILE: a perf profile of the server in the 1-GPU run.
	perf_pid=""
	if [ -n "${BENCH_SERVE_PERF:-}" ] && [ "$n" = 1 ]; then
		perf record -q -F 499 -g -p "$SPID" -o "$BENCH_SERVE_PERF" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	c0=$(cpu_ticks)
	if ! line=$("$LOADER" "$PORT" /v4/attest/gpu "$TMP/body$n.json" "$CONNS" 1000000 "$SECS"); then
		echo "bench_serve: $n GPU(s): requests failed: $line" >&2
		rc=1
	fi
	c1=$(cpu_ticks)
	[ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid"
	rss=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SPID/status")
	okn=$(sed -n 's/.* ok \([0-9]*\) .*/\1/p' <<<"$line")
	rate=$(sed -n 's/.*: \([0-9]*\)\/s,.*/\1/p' <<<"$line")
	p50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' <<<"$line")
	p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' <<<"$line")
	cpu=$(awk -v ok="${okn:-0}" -v t=$((c1 - c0)) -v hz="$hz" \
	    'BEGIN { printf "%.2f", (ok > 0) ? (t * 1000.0 / hz / ok) : 0 }')
	# What the cores could do if the server had them to itself: on a shared
	# machine the measured rate is only the share the server got.
	cap=$(awk -v c="$cpu" -v n="$(nproc)" 'BEGIN { printf "%.0f", (c > 0) ? (n * 1000 / c) : 0 }')
	echo "bench_serve: $n GPU(s), $CONNS conns, $SECS s: ${rate:-?} verifications/s," \
	    "p50 ${p50:-?} ms, p99 ${p99:-?} ms, server CPU $cpu ms/verification" \
	    "(at most $cap/s on $(nproc) idle cores), peak RSS $rss MiB$([ "$n" = 1 ] && echo " (target 400/s)")"
	echo "bench_serve:   client: $line"
done
exit $rc
