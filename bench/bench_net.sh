#!/usr/bin/env bash
# bench_net.sh [RUNS]: 'gpuattest verify' of 8 SIMULATED GPUs' recorded
# evidence against the loopback RIM service (tests/servers/rimsvc.py) and
# OCSP responder (tests/servers/ocspd.py), each adding 50 ms to every
# request (their delay=50 URL mode), everything checked: 2 RIMs fetched, 13
# distinct certificates' revocation (8 BROMs, provisioner ICA, identity CA,
# 3 RIM chain certificates).
#
#   cold: an empty --cache-dir: every RIM and OCSP answer over the network.
#   warm: the same --cache-dir again, with --ocsp-cache-ok, so the RIMs
#         (re-verified) AND the OCSP answers come from the cache and no
#         request is made. Without --ocsp-cache-ok a warm run still asks the
#         responder (a cached answer cannot carry this run's nonce), so it
#         would cost about what a cold OCSP round does.
# Each of RUNS rounds (default 5) uses a fresh cache dir; it prints each
# round, then the minimum and mean, in the line
#   bench_net: 8 GPUs, loopback services +50 ms/request: cold X ms, warm Y ms (targets 500 / 50)
# with X, Y the minimum over the rounds (means on the next line).
# Note: every OCSP request runs an `openssl ocsp` process inside the test
# responder, so cold times include the test server's own work.
#
# Owns: a temporary directory (bench/lib.sh, which also holds the preamble
# the benchmarks share) and the two servers it starts (127.0.0.1 only;
# stopped by the EXIT trap, and they exit by themselves when this script
# dies). Never fails on a missed target; exits non-zero when a run does not
# verify (then the numbers would mean nothing).
#
#   BUILD=build bash bench/bench_net.sh [RUNS]
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=bench/lib.sh
. bench/lib.sh bench_net
RUNS=${1:-${BENCH_RUNS:-5}}
DELAY_MS=50

bench_count RUNS "$RUNS"
bench_need_build "$SIMLIB"
for t in python3 openssl xmlsec1; do bench_need "$t"; done
bench_loopback_servers
URL_ocsp="" URL_rim=""  # set by start
bench_tmp
trap 'exit 130' INT TERM

# start NAME SCRIPT ARGS...: a server of tests/servers, port within 10 s; sets URL_<NAME>.
start() {
	local name=$1 script=$2 i
	shift 2
	python3 "tests/servers/$script" --port-file "$TMP/$name.port" --lifetime 900 "$@" \
		>"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMP/$name.port" ] && break
		sleep 0.1
	done
	[ -s "$TMP/$name.port" ] || { echo "bench_net: $script did not start" >&2; cat "$TMP/$name.log" >&2; exit 1; }
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$(tr -d '\n' <"$TMP/$name.port")"
}
keyhash() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 97 |
		openssl dgst -sha1 -r | cut -d' ' -f1
}

bench_sim_env 8 0
if ! "$CLI" collect -o "$TMP/ev.json" --nvml-lib "$SIMLIB" 2>"$TMP/collect.log"; then
	cat "$TMP/collect.log" >&2
	exit 1
fi
NONCE=$(sed -n 's/.*(nonce \([0-9a-f]\{64\}\)).*/\1/p' "$TMP/collect.log")

routes=()
for ca in prov-gh100 identity root rim-l3 rim-ca rim-root; do
	d=$D/ca/$ca
	routes+=(--route "$(keyhash "$d/ca.crt")=$d/index.txt,$d/ca.crt,$d/ocsp.crt,$d/ocsp.key")
done
start ocsp ocspd.py "${routes[@]}"
start rim rimsvc.py --dir "$D/rims"

# The machine's speed right now, for reading the figures: a warm run is
# bound by 50 P-384 verifications (8 reports, 18 device certificates, 2 RIM
# signatures and 3 RIM certificates, 13 OCSP answers and 6 responder
# certificates): 48 by Nettle (x509/p384.c), the 2 RIM XML signatures by
# OpenSSL inside xmlsec1. Shared VMs drift by tens of per cent within minutes.
if [ -x "$BDIR/bench/bench_p384" ] && line=$("$BDIR/bench/bench_p384" 1) &&
    ossl=$(sed -n 's/.*openssl \([0-9]*\)\/s.*/\1/p' <<<"$line") &&
    nettle=$(sed -n 's/.*nettle \([0-9]*\)\/s.*/\1/p' <<<"$line") &&
    [ -n "$ossl" ] && [ -n "$nettle" ]; then
	echo "bench_net: this machine now: P-384 verifications/s on one core: Nettle $nettle, OpenSSL $ossl" \
	    "(bench_p384); a warm run's 48 + 2 of them on $(nproc) cores take at least" \
	    "$(awk -v n="$nettle" -v o="$ossl" -v c="$(nproc)" \
	    'BEGIN { printf "%.0f", (48000 / n + 2000 / o) / (c < 1 ? 1 : c) }') ms"
fi

python3 - "$RUNS" "$TMP" "$DELAY_MS" "$CLI" verify --evidence "$TMP/ev.json" --nonce "$NONCE" \
    --no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem" --no-color \
    --ocsp-url "$URL_ocsp/delay=$DELAY_MS" --rim-url "$URL_rim/delay=$DELAY_MS" <<'EOF'
import os, resource, subprocess, sys, time

runs, tmp, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
base = sys.argv[4:]

def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000.0

# Wall time, and the CPU time of the gpuattest process alone (user + sys,
# from its rusage: a load-independent figure on a busy machine).
def run(extra, want_in, forbid=None):
    c = cpu_ms()
    t = time.perf_counter()
    p = subprocess.run(base + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ms = (time.perf_counter() - t) * 1000.0
    cpu.append(cpu_ms() - c)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 or want_in not in out or (forbid and forbid in out):
        sys.stderr.write("bench_net: run %s exited %d (expected 0, '%s' and not '%s'):\n%s\n"
                         % (" ".join(extra), p.returncode, want_in, forbid, out[-3000:]))
        sys.exit(1)
    return ms

cpu = []
# Warm-up (binary and libraries into the page cache), not counted.
run(["--no-cache"], "VERIFICATION SUCCESSFUL")
cold, warm = [], []
for i in range(runs):
    cache = os.path.join(tmp, "cache%d" % i)
    cold.append(run(["--cache-dir", cache], "OCSP good, fresh answer"))
    # No answer from the responder: everything came from the cache.
    warm.append(run(["--cache-dir", cache, "--ocsp-cache-ok"], "answer(s) from cache", "fresh answer"))
    print("bench_net: round %d: cold %.1f ms (gpuattest cpu %.0f ms), warm %.1f ms (cpu %.0f ms)"
          % (i + 1, cold[-1], cpu[-2], warm[-1], cpu[-1]))
mean = lambda v: sum(v) / len(v)
print("bench_net: 8 GPUs, loopback services +%d ms/request: cold %.0f ms, warm %.0f ms (targets 500 / 50)"
      % (delay, min(cold), min(warm)))
print("bench_net: over %d rounds: cold min %.1f / mean %.1f ms, warm min %.1f / mean %.1f ms "
      "(warm: RIMs and OCSP answers from the cache, --ocsp-cache-ok)"
      % (runs, min(cold), mean(cold), min(warm), mean(warm)))
EOF
