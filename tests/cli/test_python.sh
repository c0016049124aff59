#!/usr/bin/env bash
# The Python package (python/gpuattest) under Debian's pytest: recorded
# NVIDIA vectors, tokens, the nv_attestation_sdk-shaped layer and its
# sample script, the live path through the simulated NVML library, and
# installing with pip offline. Prints pytest's skips and failures as
# SKIP/FAIL lines and ends with the "N passed, N failed, N skipped" line.
# Skips visibly when pytest is not installed (apt-get install python3-pytest).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
PY=${GPUATTEST_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import pytest' 2>/dev/null; then
	echo "SKIP python: pytest is not installed for $PY (apt-get install python3-pytest)"
	echo "python: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
export GPUATTEST_LIB=${GPUATTEST_LIB:-$BDIR/lib/libgpuattest.so.0}
export BUILD PYTHONDONTWRITEBYTECODE=1
# The sanitizer build's library needs its runtime loaded first in a
# program (python) that was not built with it: the runtimes the library
# itself links, as ldd finds them. Leak checks
# stay off in python: CPython's own allocations at exit are not ours.
SAN_RT=$(ldd "$GPUATTEST_LIB" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {print $3}' | tr '\n' ':')
if [ -n "$SAN_RT" ]; then
	export LD_PRELOAD=${SAN_RT%:} ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT" || exit 2
"$PY" -m pytest -q -rfEs -p no:cacheprovider --basetemp="$TMP/pytest" python/tests >"$TMP/out" 2>&1
rc=$?
sed -nE 's/^SKIPPED \[[0-9]+\] /SKIP python: /p; s/^(FAILED|ERROR) /FAIL python: /p' "$TMP/out"
summary=$(grep -E '^[=]* *[0-9]+ (passed|failed|skipped|error)' "$TMP/out" | tail -n 1)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
p=$(count passed) f=$(count failed) s=$(count skipped) e=$(count error)
f=$((f + e))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "FAIL python: pytest exited $rc"
	tail -n 30 "$TMP/out"
	f=1
elif [ "$f" -gt 0 ]; then
	tail -n 60 "$TMP/out"
fi
echo "python: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
