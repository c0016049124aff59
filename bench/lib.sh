# shellcheck shell=bash
# bench/lib.sh: the preamble bench_live.sh, bench_ppcie.sh and bench_net.sh
# share. Sourced, never run: each script goes to the repository root and
# sources it with its own name, which prefixes every message:
#
#   cd "$(dirname "$0")/.." || exit 2
#   . bench/lib.sh bench_net
#
# Sets at once: BENCH (that name); BUILD (default: build); BDIR ($BUILD made
# absolute, from the repository root); CLI ($GPUATTEST, else $BDIR/gpuattest);
# SIMDIR ($BDIR/sim) and SIMLIB (the simulated NVML in it). Then the scripts
# call, in this order, so that the first failed check gives the message:
#
#   bench_count WORD VALUE   exit 2 with "usage: SCRIPT [WORD>0]" unless VALUE
#                            is a whole number above 0 without leading zeros
#   bench_need_build FILE... exit 2, saying what to build, unless $CLI is
#                            executable and every FILE exists
#   bench_need TOOL [WHY]    exit 2 unless TOOL is on the PATH
#   bench_tmp                TMP: a new temporary directory (exit 1 if none),
#                            removed by an EXIT trap after it has run
#                            bench_at_exit (does nothing unless the script
#                            redefines it)
#   bench_sim_env ARGS...    D=$TMP/sim: a SIMULATED system from
#                            'sim/make-sim-env.sh $D ARGS...', its environment
#                            exported; exit 1 with its log if that fails
#
# Owns: nothing until bench_tmp; then TMP and the EXIT trap (a script that
# needs more done on exit redefines bench_at_exit rather than the trap).

BENCH=${1:?usage: . bench/lib.sh NAME}
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$PWD/$BUILD ;; esac
CLI=${GPUATTEST:-$BDIR/gpuattest}
SIMDIR=$BDIR/sim
# shellcheck disable=SC2034 # used by the scripts that source this file
SIMLIB=$SIMDIR/libnvidia-ml-sim.so

# A leading zero is refused too: 00 is zero, and bash reads 08 as octal.
bench_count() {
	case "$2" in '' | *[!0-9]* | 0*) echo "usage: $0 [$1>0]" >&2; exit 2 ;; esac
}

# Names the missing pieces as "A or B", "A, B or C".
bench_need_build() {
	local f list=$CLI missing=0
	[ -x "$CLI" ] || missing=1
	for f in "$@"; do
		[ -f "$f" ] || missing=1
	done
	if [ "$missing" = 1 ]; then
		if [ $# -gt 0 ]; then
			for f in "${@:1:$#-1}"; do list+=", $f"; done
			list+=" or ${!#}"
		fi
		echo "$BENCH: $list is missing: run 'make BUILD=$BUILD' first" >&2
		exit 2
	fi
}

bench_need() {
	command -v "$1" >/dev/null || { echo "$BENCH: needs $1${2:+ ($2)}" >&2; exit 2; }
}

bench_at_exit() { :; }

# bench_loopback_servers: for benchmarks that start servers on 127.0.0.1:
# no proxy or collateral URL from the environment reaches the tool, and
# stop_all (also run at exit) stops every pid in PIDS.
bench_loopback_servers() {
	unset GPUATTEST_OCSP_URL GPUATTEST_RIM_URL GPUATTEST_SERVICE_KEY GPUATTEST_CACHE_DIR \
	    http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
	PIDS=()
	bench_at_exit() { stop_all; }
}
stop_all() {
	local p i
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

bench_tmp() {
	if ! TMP=$(mktemp -d) || [ ! -d "$TMP" ]; then
		echo "$BENCH: cannot make a temporary directory" >&2
		exit 1
	fi
	trap 'bench_at_exit; rm -rf "$TMP"' EXIT
}

bench_sim_env() {
	local env_line
	D=$TMP/sim
	if ! env_line=$(sim/make-sim-env.sh "$D" "$@" 2>"$TMP/make.log"); then
		cat "$TMP/make.log" >&2
		exit 1
	fi
	eval "$env_line"
}
