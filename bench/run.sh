#!/usr/bin/env bash
# Runs every benchmark once and prints their result lines (make bench).
# Numbers depend on the machine: compare runs on the same one. Needs
# ../shared for bench_verify (the recorded Azure H100 evidence); skips it
# visibly otherwise.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
shared=${GPUATTEST_SHARED:-../shared}/vectors/nvidia
rc=0
# Benchmarks never touch the user's or the system's cache: every one that
# opens a cache gets this temporary one (bench_verify makes its own too).
GPUATTEST_CACHE_DIR=$(mktemp -d)
export GPUATTEST_CACHE_DIR
rims=$(mktemp -d)
trap 'rm -rf "$rims" "$GPUATTEST_CACHE_DIR"' EXIT
"$BUILD/bench/bench_p384" || rc=1
if [ -d "$shared" ]; then
	cp "$shared/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" \
	    "$shared/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$rims/"
	"$BUILD/bench/bench_verify" "${BENCH_VERIFY_ITERATIONS:-200}" "$rims" || rc=1
	"$BUILD/bench/bench_token" "${BENCH_TOKEN_ITERATIONS:-300}" "$rims" || rc=1
	"$BUILD/bench/bench_opaque" "${BENCH_OPAQUE_ITERATIONS:-200000}" || rc=1
	"$BUILD/bench/bench_policy" "${BENCH_POLICY_ITERATIONS:-2000}" || rc=1
else
	echo "bench_verify, bench_token, bench_opaque, bench_policy: SKIPPED, $shared not found"
fi
for b in bench_start bench_live bench_ppcie bench_net; do
	bash "bench/$b.sh" "${BENCH_RUNS:-10}" || rc=1
done
bash bench/bench_serve.sh "${BENCH_SERVE_SECONDS:-10}" || rc=1
exit $rc
