#!/usr/bin/env bash
# bench_live.sh [N]: end-to-end time of the live path on SIMULATED GPUs.
# 'gpuattest verify' without --evidence loads the simulated NVML
# ($BUILD/sim/libnvidia-ml-sim.so), collects a report and chain from every
# GPU over one fresh nonce, and verifies them: certificate chains, report
# signatures, RIMs read from a directory (--rim-dir, looked in before the
# RIM cache: this is the RIM-from-disk cost), measurements, system checks. No
# OCSP (--no-ocsp), no network. Each case runs once to warm up, then N
# times (default 20); it reports the mean and minimum wall time and the
# peak resident set of the gpuattest process. Target: under 100 ms for 8
# GPUs. 'collect -o -' alone is timed too, to show the split.
#
# Owns: a temporary directory, removed on exit (bench/lib.sh, which also
# holds the preamble the benchmarks share). Never fails on a missed target (a
# benchmark, not a test); exits non-zero only when a run does not give the
# expected exit code, because then the numbers would mean nothing.
#
#   BUILD=build bash bench/bench_live.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=bench/lib.sh
. bench/lib.sh bench_live
N=${1:-${BENCH_N:-20}}
TARGET_MS=100

bench_count N "$N"
bench_need_build "$SIMLIB"
bench_need python3 "timing and peak RSS"
bench_tmp
# Never the user's cache (bench_live reads RIMs from --rim-dir only).
export GPUATTEST_CACHE_DIR=$TMP/cache
bench_sim_env 8 0

# measure LABEL EXPECTED_RC CMD...: one warm-up, then N timed runs. Wall
# time per run from perf_counter around fork+exec+wait; peak RSS is the
# largest ru_maxrss of the runs (each run is its own child, waited alone).
measure() {
	python3 - "$N" "$@" <<-'EOF'
	import os, subprocess, sys, time
	n, label, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
	cmd = sys.argv[4:]
	def warm_up():
	    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	    return p.returncode, p.stderr
	# Forks and waits itself: wait4 gives this one child's peak RSS.
	def run_rss():
	    t = time.perf_counter()
	    pid = os.fork()
	    if pid == 0:
	        fd = os.open(os.devnull, os.O_WRONLY)
	        os.dup2(fd, 1); os.dup2(fd, 2)
	        try:
	            os.execv(cmd[0], cmd)
	        finally:
	            os._exit(127)
	    _, status, ru = os.wait4(pid, 0)
	    return time.perf_counter() - t, os.waitstatus_to_exitcode(status), ru.ru_maxrss
	rc, err = warm_up()
	if rc != want:
	    sys.stderr.write("bench_live: %s: exit %d, expected %d\n%s" % (label, rc, want, err.decode(errors="replace")))
	    sys.exit(1)
	times, peak = [], 0
	for _ in range(n):
	    dt, rc, rss = run_rss()
	    if rc != want:
	        sys.stderr.write("bench_live: %s: exit %d, expected %d\n" % (label, rc, want))
	        sys.exit(1)
	    times.append(dt * 1000.0)
	    peak = max(peak, rss)
	mean = sum(times) / len(times)
	print("bench_live: %s: mean %.1f ms, min %.1f ms, peak RSS %.1f MB (%d runs)"
	      % (label, mean, min(times), peak / 1024.0, n))
	print("MEAN_MS=%.1f" % mean, file=sys.stderr)
	EOF
}

VERIFY=(verify --quiet --nvml-lib "$SIMLIB" --no-pinned-anchors --trust-anchor "$D/root.pem"
	--trust-anchor "$D/rim/root.pem" --rim-dir "$D/rims" --no-ocsp)
echo "bench_live: SIMULATED GPUs (test PKI), RIMs from --rim-dir, no OCSP, $N runs after 1 warm-up"
echo "bench_live: $CLI"
status=0
for g in 8 1; do
	sed -E "s/\"gpus\": [0-9]+/\"gpus\": $g/" "$D/config.json" >"$D/bench-$g.json"
	export GPUATTEST_SIM_CONFIG=$D/bench-$g.json
	plural=$([ "$g" -eq 1 ] && echo GPU || echo GPUs)
	mean=$(measure "$g simulated $plural, collect+verify" 0 "$CLI" "${VERIFY[@]}" 2>"$TMP/err") || {
		cat "$TMP/err" >&2; status=1; continue; }
	echo "$mean"
	ms=$(sed -n 's/^MEAN_MS=//p' "$TMP/err")
	if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < $TARGET_MS else 1)" "$ms"; then
		echo "bench_live:   target < $TARGET_MS ms: met"
	else
		echo "bench_live:   target < $TARGET_MS ms: NOT met"
	fi
	measure "$g simulated $plural, collect only (collect -o -)" 0 "$CLI" collect -o - --nvml-lib "$SIMLIB" \
	    2>"$TMP/err" || { cat "$TMP/err" >&2; status=1; }
done
exit $status
