#!/usr/bin/env bash
# Builds fuzzing seed directories from the recorded vectors in ../shared
# (never copied into the repository): decoded reports for fuzz_spdm and the
# evidence JSON files for fuzz_evidence, plus the small generated seeds kept
# in fuzz/corpus/. Usage: fuzz/seed.sh [OUTDIR]  (default build-fuzz/seeds)
set -eu
cd "$(dirname "$0")/.."
out=${1:-build-fuzz/seeds}
shared=${GPUATTEST_SHARED:-../shared}/vectors/nvidia
mkdir -p "$out/spdm" "$out/evidence"
cp fuzz/corpus/spdm/* "$out/spdm/"
cp fuzz/corpus/evidence/* "$out/evidence/"
if [ ! -d "$shared" ]; then
	echo "seed.sh: $shared not found; only the generated seeds are used" >&2
	exit 0
fi
n=0
for f in "$shared"/gpu/*/* "$shared"/switch/*/*; do
	name=$(basename "$(dirname "$f")")_$(basename "$f")
	case "$f" in
	*.hex.txt) python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip()))' "$f" >"$out/spdm/$name.bin" ;;
	*.bin) cp "$f" "$out/spdm/$name" ;;
	*.json) cp "$f" "$out/evidence/$name" ;;
	*) continue ;;
	esac
	n=$((n + 1))
done
echo "seed.sh: $n files from $shared into $out"
