#!/usr/bin/env bash
# The harness's throughput (issue 12's measure): checked operations per second (decoded,
# applied and fully checked) of the `ops` target, replaying a fixed input set through libFuzzer
# (-runs=0: every input once, no mutation), with ASan+UBSan (libfuzzer preset) and without
# sanitizers (libfuzzer-nosan), and engine-free (default preset's replay main, gcc -O2). Each
# figure is the median of RUNS runs (default 5); the counts come from the harness itself
# (SGT_FUZZ_STATS). A benchmark, not a test: it asserts nothing.
# usage: tools/harness-speed.sh [--runs N] [INPUT_DIR]     (default: corpus/ops)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
set_dir=${1:-corpus/ops}
tools/deps.sh
for p in default libfuzzer libfuzzer-nosan; do
	cmake --preset "$p" >/dev/null
	cmake --build --preset "$p" --target fuzz_ops >/dev/null
done
work=$(mktemp -d /tmp/sgt-speed.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One run: "inputs decoded applied seconds" from the harness's own counters.
one() {
	rm -rf "$work/st" && mkdir "$work/st"
	if [ "$1" = default ]; then
		SGT_FUZZ_STATS="$work/st" build/default/fuzz/fuzz_ops "$set_dir" >/dev/null 2>&1
	else
		SGT_FUZZ_STATS="$work/st" "build/$1/fuzz/fuzz_ops" -runs=0 "$set_dir" >/dev/null 2>&1
	fi
	awk '{ i += $2; d += $4; a += $6; s += $10 } END { print i, d, a, s }' "$work/st"/stats.*
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "=== sgt harness speed: ops target over $set_dir ($(ls "$set_dir" | wc -l) inputs), median of $runs runs ==="
printf '%-34s %12s %16s %14s\n' build "inputs/s" "checked ops/s" "ops/input"
for p in libfuzzer libfuzzer-nosan default; do
	: >"$work/rates"
	for _ in $(seq "$runs"); do one "$p" >>"$work/rates"; done
	ips=$(awk '$4 > 0 { print $1 / $4 }' "$work/rates" | median)
	ops=$(awk '$4 > 0 { print $3 / $4 }' "$work/rates" | median)
	per=$(awk 'NR == 1 && $1 > 0 { printf "%.1f", $2 / $1 }' "$work/rates")
	case $p in
	libfuzzer) name="libFuzzer, ASan+UBSan" ;;
	libfuzzer-nosan) name="libFuzzer, no sanitizers" ;;
	default) name="no engine, gcc -O2 (replay main)" ;;
	esac
	printf '%-34s %12.0f %16.0f %14s\n' "$name" "$ips" "$ops" "$per"
done
