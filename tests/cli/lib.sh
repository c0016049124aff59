# Shared helpers for CLI tests (sourced). Each script ends with `finish`.
#   run_cli ARGS...          runs $GPUATTEST, sets $out (stdout+stderr) and $rc
#   expect_rc N "what"       checks the exit code of the last run_cli
#   expect_out "text" "what" checks that the output contains text
#   expect_no_out "text" "what"
#   need_shared || return    skips (visibly) when ../shared is absent
#   run_safe ARGS...         run_cli, then no_crash (a signal or sanitizer report fails)
#   json_get EXPR / expect_json EXPR VALUE "what"   Python over the JSON in $out (bound to d)
#   cfg NAME JSON / fault NAME FAULT [MORE]   simulator configs derived from $D/config.json
#   ready_is STATE "what"    the simulator's ready state file $RS holds STATE
set -u
GPUATTEST=${GPUATTEST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/gpuattest}
SHARED=${GPUATTEST_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/../shared}
V=$SHARED/vectors/nvidia
T_PASS=0 T_FAIL=0 T_SKIP=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A script run on its own (not from tests/run-all.sh, which sets one) must
# not touch the user's or the system's cache either.
export GPUATTEST_CACHE_DIR=${GPUATTEST_CACHE_DIR:-$TMP/cache}
out="" rc=0 cur=""

# With $GPUATTEST_JSON_DIR set (tests/run-all.sh sets it), every JSON
# document a run prints (verify/inspect --format json) is also kept there,
# stdout alone, for tests/check_json_schema.py to validate at the end.
json_run() {
	local a prev="" cmd=${1:-}
	[ -n "${GPUATTEST_JSON_DIR:-}" ] || return 1
	case "$cmd" in verify|inspect) ;; *) return 1 ;; esac
	for a in "$@"; do
		[ "$a" = --quiet ] && return 1
		[ "$a" = --check-receipt ] && cmd=receipt-check
		if [ "$a" = --format=json ] || { [ "$prev" = --format ] && [ "$a" = json ]; }; then
			json_file=$(mktemp "$GPUATTEST_JSON_DIR/$cmd.$T_NAME.XXXXXX") || return 1
			return 0
		fi
		prev=$a
	done
	return 1
}
run_cli() {
	local json_file
	if json_run "$@"; then
		out=$("$GPUATTEST" "$@" 2>&1 > >(tee "$json_file")); rc=$?
	else
		out=$("$GPUATTEST" "$@" 2>&1); rc=$?
	fi
}
run_cli_stdout() {
	local json_file
	out=$("$GPUATTEST" "$@" 2>/dev/null); rc=$?
	if json_run "$@"; then printf '%s\n' "$out" >"$json_file"; fi
}
ok() { T_PASS=$((T_PASS + 1)); }
bad() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $T_NAME: $1"; printf '%s\n' "$out" | head -n 40 | sed 's/^/    | /'; }
expect_rc() { if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, expected $1"; fi; }
expect_out() { if grep -qF -- "$1" <<<"$out"; then ok; else bad "$2: output lacks '$1'"; fi; }
expect_no_out() { if grep -qF -- "$1" <<<"$out"; then bad "$2: output has '$1'"; else ok; fi; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $T_NAME: $1"; }
need_shared() { if [ -d "$V" ]; then return 0; fi; skip "shared vectors not found at $SHARED"; return 1; }
finish() { echo "$T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"; [ "$T_FAIL" -eq 0 ]; }

# A crash or sanitizer report is a failure whatever the exit code (under the
# ASan build LeakSanitizer turns a clean exit into exit 1 plus a report).
no_crash() {
	if [ "$rc" -ge 124 ]; then
		bad "$1: exit $rc (signal, crash or timeout)"
	elif grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' <<<"$out"; then
		bad "$1: sanitizer report"
	else
		ok
	fi
}
run_safe() { run_cli "$@"; no_crash "$*"; }

# Evaluates a Python expression over the JSON in $out, bound to d; prints
# its value.
json_get() { python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$out" 2>&1; }

# expect_json EXPR VALUE WHAT
expect_json() {
	local got
	got=$(json_get "$1")
	if [ "$got" = "$2" ]; then ok; else bad "$3: $1 is '$got', expected '$2'"; fi
}

# cfg NAME OVERRIDES_JSON: $D/NAME.json is the simulator's base config
# ($D/config.json) with these keys replaced, and becomes its config.
cfg() {
	python3 - "$D/config.json" "$D/$1.json" "$2" <<-'EOF'
	import json, sys
	c = json.load(open(sys.argv[1]))
	c.update(json.loads(sys.argv[3]))
	json.dump(c, open(sys.argv[2], "w"), indent=1)
	EOF
	export GPUATTEST_SIM_CONFIG=$D/$1.json
}

# fault NAME FAULT_JSON [OTHER_OVERRIDES]: the base config with one fault.
fault() { cfg "$1" "{\"faults\": [$2]${3:+, $3}}"; }

# ready_is STATE WHAT: the simulator's ready-state file ($RS) holds STATE.
ready_is() {
	local got
	got=$(tr -d '\n' <"$RS" 2>/dev/null)
	if [ "$got" = "$1" ]; then ok; else bad "$2: ready state is '$got', expected '$1'"; fi
}
