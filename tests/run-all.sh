#!/usr/bin/env bash
# Runs every test binary and every CLI test script, adds up their
# "N passed, N failed, N skipped" lines and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export GPUATTEST=${GPUATTEST:-$PWD/$BUILD/gpuattest}
# Tests never touch the user's or the system's cache.
if [ -z "${GPUATTEST_CACHE_DIR:-}" ]; then
	GPUATTEST_CACHE_DIR=$(mktemp -d)
	GPUATTEST_CACHE_TMP=$GPUATTEST_CACHE_DIR
fi
export GPUATTEST_CACHE_DIR
# Every --format json document the suites print is kept here and checked
# against schema/ by the last suite (tests/check_json_schema.py).
GPUATTEST_JSON_DIR=$(mktemp -d)
export GPUATTEST_JSON_DIR
trap 'rm -rf "$GPUATTEST_JSON_DIR"; [ -z "${GPUATTEST_CACHE_TMP:-}" ] || rm -rf "$GPUATTEST_CACHE_TMP"' EXIT
# The system cache as it is before the suites run (point 10 of issue 10:
# tests never touch it); compared by the suite real_cache_untouched at the end.
REAL_CACHE=/var/cache/gpuattest
real_cache_snapshot() {
	if [ -e "$REAL_CACHE" ] || [ -L "$REAL_CACHE" ]; then
		find "$REAL_CACHE" -printf '%p %y %s %m %u %g %T@ %l\n' 2>&1 | LC_ALL=C sort
	else
		echo "$REAL_CACHE absent"
	fi
}
REAL_CACHE_BEFORE=$(real_cache_snapshot)
real_cache_untouched() {
	local after
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP real_cache_untouched: not root (the system cache $REAL_CACHE is root's; CI runs as root)"
		echo "real_cache_untouched: 0 passed, 0 failed, 1 skipped"
		return 0
	fi
	after=$(real_cache_snapshot)
	if [ "$after" = "$REAL_CACHE_BEFORE" ]; then
		echo "real_cache_untouched: 1 passed, 0 failed, 0 skipped"
		return 0
	fi
	echo "FAIL real_cache_untouched: the suites changed $REAL_CACHE:"
	diff <(printf '%s\n' "$REAL_CACHE_BEFORE") <(printf '%s\n' "$after") | head -n 20
	echo "real_cache_untouched: 0 passed, 1 failed, 0 skipped"
	return 1
}
if [ ! -d "${GPUATTEST_SHARED:-../shared}" ]; then
	echo "NOTE: ../shared not found: tests that need the recorded NVIDIA vectors are SKIPPED"
fi
pass=0 fail=0 skip=0 broken=()
run_one() {
	local name=$1; shift
	local out
	out=$("$@" 2>&1); local rc=$?
	printf '%s\n' "$out" | grep -E '^(FAIL|SKIP)' || true
	local line
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result line (exit $rc)"; printf '%s\n' "$out" | tail -n 20
		fail=$((fail + 1)); broken+=("$name"); return
	fi
	echo "$line"
	local p f s
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line"); s=${s:-0}
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exited $rc"; fail=$((fail + 1)); broken+=("$name")
	fi
	[ "$f" -gt 0 ] && broken+=("$name")
	return 0
}
for t in $(find "$BUILD/tests" -type f -perm -u+x -name 'test_*' | sort); do
	run_one "$(basename "$t")" "$t"
done
for s in tests/cli/test_*.sh; do
	[ -e "$s" ] || continue
	run_one "$(basename "$s")" bash "$s"
done
# Last, so that it sees every document and catches drift from the schema.
run_one check_json_schema.py python3 tests/check_json_schema.py "$GPUATTEST_JSON_DIR"
run_one real_cache_untouched real_cache_untouched
echo
[ ${#broken[@]} -gt 0 ] && echo "failing suites: ${broken[*]}"
echo "total: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
