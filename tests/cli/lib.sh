# Shared helpers for CLI tests (sourced). Each script ends with `finish`.
#   run_cli ARGS...          runs $GPUATTEST, sets $out (stdout+stderr) and $rc
#   expect_rc N "what"       checks the exit code of the last run_cli
#   expect_out "text" "what" checks that the output contains text
#   expect_no_out "text" "what"
#   need_shared || return    skips (visibly) when ../shared is absent
set -u
GPUATTEST=${GPUATTEST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/gpuattest}
SHARED=${GPUATTEST_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/../shared}
V=$SHARED/vectors/nvidia
T_PASS=0 T_FAIL=0 T_SKIP=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
out="" rc=0 cur=""

run_cli() { out=$("$GPUATTEST" "$@" 2>&1); rc=$?; }
run_cli_stdout() { out=$("$GPUATTEST" "$@" 2>/dev/null); rc=$?; }
ok() { T_PASS=$((T_PASS + 1)); }
bad() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $T_NAME: $1"; printf '%s\n' "$out" | head -n 40 | sed 's/^/    | /'; }
expect_rc() { if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, expected $1"; fi; }
expect_out() { if grep -qF -- "$1" <<<"$out"; then ok; else bad "$2: output lacks '$1'"; fi; }
expect_no_out() { if grep -qF -- "$1" <<<"$out"; then bad "$2: output has '$1'"; else ok; fi; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $T_NAME: $1"; }
need_shared() { if [ -d "$V" ]; then return 0; fi; skip "shared vectors not found at $SHARED"; return 1; }
finish() { echo "$T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"; [ "$T_FAIL" -eq 0 ]; }
