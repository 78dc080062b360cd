#!/usr/bin/env bash
# The main job: fuzz every target on the simulated IOMMU for a short budget (libFuzzer, ASan and
# UBSan), then run the property tests, and print one summary. Exits 1 if anything failed; crash
# files land in fuzz-artifacts/ with the command to replay them.
# usage: tools/main.sh [--budget SECONDS_PER_TARGET] [--engine libfuzzer] [TARGET...]
#        SGT_PROPS_RUNS=N sets how many property-test sequences to run (default 2000).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
fuzz_status=0
tools/fuzz.sh run "$@" || fuzz_status=$?

echo
echo "=== property tests (RapidCheck state machine, default build) ==="
cmake --preset default >/dev/null
cmake --build --preset default --target sgt_props >/dev/null
runs=${SGT_PROPS_RUNS:-2000}
start=$(date +%s.%N)
props_status=0
out=$(RC_PARAMS="max_success=$runs" ./build/default/props/sgt_props 2>&1) || props_status=$?
# awk, not bc: awk (mawk) is in every Debian base system, bc is not.
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
if [ $props_status -eq 0 ]; then
	printf 'props: %s in %.1f s (%.0f sequences/s)\n' "$(echo "$out" | grep -oE 'OK, passed [0-9]+ tests')" \
		"$secs" "$(awk -v r="$runs" -v s="$secs" 'BEGIN { printf "%.1f", r / s }')"
else
	echo "$out" | sed -n '/Falsifiable/,$p'
fi

echo
echo "=== sgt main job: fuzzing $([ $fuzz_status -eq 0 ] && echo passed || echo FAILED), property tests $([ $props_status -eq 0 ] && echo passed || echo FAILED) ==="
[ $fuzz_status -eq 0 ] && [ $props_status -eq 0 ]
