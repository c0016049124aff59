#!/usr/bin/env bash
# bench_ppcie.sh [N]: end-to-end time of attesting a SIMULATED Protected PCIe
# system of 8 GPUs and 4 NVSwitches. One 'gpuattest verify' without
# --evidence loads the simulated NVML and NSCQ libraries
# ($BUILD/sim/libnvidia-ml-sim.so, libnvidia-nscq-sim.so), collects a report
# and a chain from every GPU and every switch over one fresh nonce, and
# verifies them all: chains, signatures, RIMs read from a directory
# (--rim-dir), measurements, system checks and the NVLink topology. No OCSP
# (--no-ocsp), no network. One warm-up run, then N timed runs (default 20);
# it prints the mean and minimum wall time and the peak resident set of the
# gpuattest process. The split (collect -o alone, offline verify of what it
# wrote) is timed the same way, for context.
#
# Peak RSS: /usr/bin/time -v ("Maximum resident set size") when present, wall
# time then bash's $EPOCHREALTIME around it (time's own fork+exec, about a
# millisecond, is inside). Else a tiny python3 wrapper forks, execs and reads
# the child's ru_maxrss from wait4 (the kernel's high-water mark of its
# resident set, what /proc/PID/status calls VmHWM; that file is gone once the
# process has exited), and times fork to wait itself, so that python's own
# start-up is not counted.
#
# Owns: a temporary directory, removed on exit (bench/lib.sh, which also
# holds the preamble the benchmarks share). Installs nothing. Never fails on
# a slow run (a benchmark, not a test); exits non-zero only when a run does
# not give the expected exit code, because then the numbers would mean
# nothing.
#
#   BUILD=build bash bench/bench_ppcie.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=bench/lib.sh
. bench/lib.sh bench_ppcie
N=${1:-${BENCH_N:-20}}
NVML=$SIMLIB
NSCQ=$SIMDIR/libnvidia-nscq-sim.so

bench_count N "$N"
bench_need_build "$NVML" "$NSCQ"
if [ -z "${EPOCHREALTIME:-}" ]; then
	echo "bench_ppcie: needs bash 5 (\$EPOCHREALTIME)" >&2
	exit 2
fi
# BENCH_RSS=python3 forces the fallback (to check it where /usr/bin/time exists).
if [ "${BENCH_RSS:-}" != python3 ] && [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
	RSS_TOOL="time"
elif command -v python3 >/dev/null; then
	RSS_TOOL=python3
else
	echo "bench_ppcie: needs /usr/bin/time (GNU, -v) or python3 to read the peak RSS" >&2
	exit 2
fi

bench_tmp
bench_sim_env 8 4 1
export GPUATTEST_CACHE_DIR=$TMP/cache

# Writes "PEAK_KB WALL_USEC" of the child to argv[1]; exits with its code.
PEAK_PY='import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
dt = time.perf_counter() - t
open(sys.argv[1], "w").write("%d %d\n" % (ru.ru_maxrss, dt * 1e6))
sys.exit(os.waitstatus_to_exitcode(status))'

# usec: $EPOCHREALTIME ("s.micro") as integer microseconds.
usec() { local s=${1%[.,]*} f=${1#*[.,]}; echo $((10#$s * 1000000 + 10#$f)); }

# One run of a command: "PEAK_KB WALL_USEC" to $TMP/run; its exit code is
# returned, its output kept in $TMP/err.
run_peak() {
	local rc t0 t1
	if [ "$RSS_TOOL" = time ]; then
		t0=$EPOCHREALTIME
		/usr/bin/time -v -o "$TMP/time.txt" "$@" >/dev/null 2>"$TMP/err"
		rc=$?
		t1=$EPOCHREALTIME
		echo "$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$TMP/time.txt") \
$(($(usec "$t1") - $(usec "$t0")))" >"$TMP/run"
	else
		python3 -c "$PEAK_PY" "$TMP/run" "$@" >/dev/null 2>"$TMP/err"
		rc=$?
	fi
	return $rc
}

# measure LABEL EXPECTED_RC CMD...: one warm-up, then N timed runs; prints
# "mean X ms, min Y ms, peak RSS Z MB" or fails if a run's exit code differs.
measure() {
	local label=$1 want=$2 rc dt total=0 min="" peak=0 kb i
	shift 2
	run_peak "$@"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "bench_ppcie: $label: warm-up exit $rc, expected $want" >&2
		cat "$TMP/err" >&2
		return 1
	fi
	for ((i = 0; i < N; i++)); do
		run_peak "$@"
		rc=$?
		if [ "$rc" -ne "$want" ]; then
			echo "bench_ppcie: $label: run $i exit $rc, expected $want" >&2
			cat "$TMP/err" >&2
			return 1
		fi
		read -r kb dt <"$TMP/run"
		case "$kb$dt" in '' | *[!0-9]*) echo "bench_ppcie: $label: no measurement" >&2; return 1 ;; esac
		total=$((total + dt))
		if [ -z "$min" ] || [ "$dt" -lt "$min" ]; then min=$dt; fi
		if [ "$kb" -gt "$peak" ]; then peak=$kb; fi
	done
	awk -v t="$total" -v n="$N" -v m="$min" -v p="$peak" \
	    'BEGIN { printf "mean %.1f ms, min %.1f ms, peak RSS %.1f MB", t / n / 1000, m / 1000, p / 1024 }'
}

TRUST=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem"
	--rim-dir "$D/rims" --no-ocsp)
echo "bench_ppcie: SIMULATED 8 GPUs + 4 NVSwitches in Protected PCIe mode (test PKI), RIMs from --rim-dir, no OCSP,"
echo "bench_ppcie: $N runs after 1 warm-up; peak RSS via $([ "$RSS_TOOL" = time ] && echo '/usr/bin/time -v' || echo 'python3 wait4 (VmHWM)')"
echo "bench_ppcie: $CLI"

status=0
if r=$(measure "collect+verify" 0 "$CLI" verify --quiet --nvml-lib "$NVML" --nscq-lib "$NSCQ" "${TRUST[@]}"); then
	echo "bench_ppcie: 8 GPUs + 4 NVSwitches, collect+verify: $r"
else
	status=1
fi

# The split: what collection costs, and what verifying the files costs.
if r=$(measure "collect only" 0 "$CLI" collect -o "$TMP/sys.json" --nvml-lib "$NVML" --nscq-lib "$NSCQ"); then
	echo "bench_ppcie:   collect only (collect -o, both libraries): $r"
	nonce=$(sed -n 's/.*"nonce": *"\([0-9a-f]\{64\}\)".*/\1/p' "$TMP/sys.json" | head -n 1)
	[ -n "$nonce" ] || nonce=$(grep -o '"nonce":"[0-9a-f]\{64\}"' "$TMP/sys.json" | head -n 1 | cut -d'"' -f4)
	if r=$(measure "offline verify" 0 "$CLI" verify --quiet --evidence "$TMP/sys.json" \
	    --switch-evidence "$TMP/sys.nvswitch.json" --nonce "$nonce" "${TRUST[@]}"); then
		echo "bench_ppcie:   verify only (offline, the files collect wrote): $r"
	else
		status=1
	fi
else
	status=1
fi
exit $status
