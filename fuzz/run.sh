#!/usr/bin/env bash
# Runs every libFuzzer target in build-fuzz/ for SECONDS each (default 30)
# on the seeds fuzz/seed.sh lays out (generated seeds, plus the recorded
# vectors from ../shared when present). Fails if any target finds a crash,
# a leak or a sanitizer error. Build the targets first: make fuzz.
set -u
cd "$(dirname "$0")/.."
secs=${1:-30}
seeds=build-fuzz/seeds
bash fuzz/seed.sh "$seeds" >/dev/null || exit 1
rc=0
for t in build-fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t" | sed 's/^fuzz_//')
	work=build-fuzz/work-$name
	mkdir -p "$work"
	dirs=("$work")
	[ -d "$seeds/$name" ] && dirs+=("$seeds/$name")
	[ -d "fuzz/corpus/$name" ] && dirs+=("fuzz/corpus/$name")
	echo "fuzz: $name for ${secs}s (seeds: ${dirs[*]:1})"
	if ! "$t" -max_total_time="$secs" -print_final_stats=0 -artifact_prefix="build-fuzz/crash-$name-" \
	    "${dirs[@]}" >"build-fuzz/$name.log" 2>&1; then
		echo "fuzz: $name FAILED; see build-fuzz/$name.log"
		tail -n 30 "build-fuzz/$name.log"
		rc=1
	else
		grep -E '^(#[0-9]+\s+DONE|Done)' "build-fuzz/$name.log" | tail -n 1
	fi
done
exit $rc
