#!/usr/bin/env bash
# `gpuattest watch` on the SIMULATED system (real dlopen of the simulator's
# NVML library, its ready state in a file): rounds on an interval, a fault
# injected while watching withdraws READY within one interval, a driver
# reload or a GPU going away starts a round at once, SIGHUP starts one, a
# watcher killed after READY re-attests before renewing it, and
# --exit-on-failure stops with the round's exit code.
#
# Waits are bounded (wait_for polls for at most WAIT seconds); nothing here
# measures speed.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so
D=$TMP/sim
RS=$D/ready
LOG=$TMP/watch.log
WAIT=${WAIT:-30}
WPID=""

setup() {
	if [ ! -f "$SIMLIB" ]; then
		bad "simulator not built: $SIMLIB"
		return 1
	fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then
		bad "sim/make-sim-env.sh failed"
		return 1
	fi
	eval "$out"
	VERIFY_OPTS=(--no-pinned-anchors --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
		--rim-dir "$D/rims" --no-ocsp)
	# Before per-use anchors existed, one option served both.
	if ! "$GPUATTEST" help verify 2>&1 | grep -q -- --device-anchor; then
		VERIFY_OPTS=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem"
			--rim-dir "$D/rims" --no-ocsp)
	fi
}

# start_watch ARGS...: the watcher in the background, its log in $LOG.
start_watch() {
	: >"$LOG"
	"$GPUATTEST" watch --nvml-lib "$SIMLIB" "$@" >>"$LOG" 2>&1 &
	WPID=$!
}

stop_watch() {
	if [ -n "$WPID" ]; then
		kill "$WPID" 2>/dev/null
		wait "$WPID" 2>/dev/null
	fi
	WPID=""
}

# wait_for WHAT CMD...: polls CMD until it succeeds, at most $WAIT s.
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < WAIT * 5; i++)); do
		if "$@"; then ok; return 0; fi
		sleep 0.2
	done
	out=$(cat "$LOG")
	bad "$what: not within ${WAIT}s"
	return 1
}
ready_now() { [ "$(tr -d '\n' <"$RS" 2>/dev/null)" = "$1" ]; }
log_count() { [ "$(grep -c -- "$1" "$LOG")" -ge "$2" ]; }
log_has() { grep -q -- "$1" "$LOG"; }

interval_rounds() {
	echo 0 >"$RS"
	cfg base "{\"ready_state_file\": \"$RS\"}"
	start_watch --interval 1 --poll 0 -- "${VERIFY_OPTS[@]}"
	wait_for "first round marks READY" ready_now 1
	wait_for "rounds repeat on the interval" log_count "VERIFICATION SUCCESSFUL, 2 GPU(s) verified" 3
	# A fault while watching: the next round (within one interval) withdraws READY.
	fault base '{"kind": "tampered_measurement", "index": 22, "gpu": 1}' "\"ready_state_file\": \"$RS\""
	wait_for "a fault injected while watching withdraws READY" ready_now 0
	wait_for "the failure is logged with its reason" log_has "re-attestation did not pass (exit 1: failed).*GPU 1"
	# The watcher keeps watching; the system recovers, READY comes back.
	cfg base "{\"ready_state_file\": \"$RS\"}"
	wait_for "a later pass renews READY" ready_now 1
	stop_watch
	out=$(cat "$LOG")
	expect_out "stopped after" "SIGTERM stops the watcher cleanly"
}

driver_reload_and_gpu_removal() {
	echo 0 >"$RS"
	cfg base "{\"ready_state_file\": \"$RS\"}"
	start_watch --interval 600 --poll 1 -- "${VERIFY_OPTS[@]}" --expect-gpus 2
	wait_for "first round marks READY" ready_now 1
	# A driver reload with another version: no RIM for it, the round at once fails.
	cfg base "{\"ready_state_file\": \"$RS\", \"nvml_driver_version\": \"595.99.01\"}"
	wait_for "a driver reload starts a round at once" log_has "the driver or the GPU set changed"
	wait_for "... which withdraws READY" ready_now 0
	cfg base "{\"ready_state_file\": \"$RS\"}"
	wait_for "the driver back starts another round and READY returns" ready_now 1
	# A GPU goes away: --expect-gpus 2 is no longer met.
	cfg base "{\"ready_state_file\": \"$RS\", \"gpus\": 1}"
	wait_for "a GPU going away withdraws READY at once" ready_now 0
	out=$(cat "$LOG")
	expect_out "1 GPU(s):" "the change logged names the new GPU set"
	stop_watch
}

sighup_round() {
	echo 0 >"$RS"
	cfg base "{\"ready_state_file\": \"$RS\"}"
	start_watch --interval 600 --poll 0 -- "${VERIFY_OPTS[@]}"
	wait_for "first round" log_count "round 1:" 1
	kill -HUP "$WPID"
	wait_for "SIGHUP starts a round" log_count "round 2:" 1
	out=$(cat "$LOG")
	expect_out "SIGHUP: re-attesting now" "SIGHUP logged"
	stop_watch
}

killed_watcher_restarts() {
	echo 0 >"$RS"
	cfg base "{\"ready_state_file\": \"$RS\"}"
	start_watch --interval 600 --poll 0 -- "${VERIFY_OPTS[@]}"
	wait_for "READY set" ready_now 1
	kill -KILL "$WPID"
	wait "$WPID" 2>/dev/null
	WPID=""
	# The GPU went bad while no watcher ran; the next start must not renew READY.
	fault bad '{"kind": "bad_signature", "gpu": 0}' "\"ready_state_file\": \"$RS\""
	start_watch --interval 600 --poll 0 --exit-on-failure -- "${VERIFY_OPTS[@]}"
	wait "$WPID"
	rc=$?
	WPID=""
	out=$(cat "$LOG")
	expect_rc 1 "--exit-on-failure: the failed round's exit code"
	ready_is 0 "a restarted watcher re-attests first: READY withdrawn"
	expect_no_out "ready state renewed" "nothing renewed after the restart"
}

journal_and_usage() {
	echo 1 >"$RS"
	cfg collectfail "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlDeviceGetConfComputeGpuAttestationReport\", \"code\": 999}]}"
	out=$(JOURNAL_STREAM=8:1 "$GPUATTEST" watch --nvml-lib "$SIMLIB" --max-rounds 1 -- "${VERIFY_OPTS[@]}" 2>&1)
	rc=$?
	expect_rc 0 "--max-rounds 1 ends the watch"
	expect_out "<3>gpuattest watch: round 1: re-attestation did not pass (exit 3" \
	    "under systemd a failed round is logged at priority err"
	ready_is 0 "a round that could not collect leaves the GPUs NOT READY"

	run_cli watch --gpu 0
	expect_rc 2 "--gpu before -- is not a watch option"
	run_cli watch -- --gpu 0
	expect_rc 2 "--gpu refused: the ready state is system-wide"
	expect_out "--gpu cannot be used" "--gpu refusal says why"
	run_cli watch -- --evidence x.json
	expect_rc 2 "recorded evidence refused"
	run_cli watch --interval 0
	expect_rc 2 "--interval 0 refused"
	run_cli watch --help
	expect_rc 0 "--help"
	expect_out "SIGHUP" "--help explains the triggers"
}

if setup; then
	interval_rounds
	stop_watch
	driver_reload_and_gpu_removal
	stop_watch
	sighup_round
	stop_watch
	killed_watcher_restarts
	journal_and_usage
fi
stop_watch
finish
