#!/usr/bin/env bash
# The main job. Today: build sgt (default preset) and run the benchmark, which ends with a summary
# table of construction cost, table memory per entry and copy bandwidth against memcpy.
# (The fuzzing and property-test issues turn this into "run the fuzzers and property tests".)
# usage: tools/main.sh [google-benchmark flags, e.g. --benchmark_filter=Build]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
cmake --preset default
cmake --build --preset default --target sgt_bench
./build/default/bench/sgt_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
	--benchmark_min_time=0.1 "$@"
