#!/usr/bin/env bash
# The benchmarks: build sgt (default preset) and run them, each ending with a
# summary table: table construction, appends and the iterators against in-run baselines (the
# floor loop, flat-array loops; paired rounds), memory per entry from one entry up, and copy
# bandwidth against memcpy; then map+unmap cost per entry in each simulated-IOMMU mode and the
# IOVA allocator under load (per-thread cache against the locked path); then the fuzzing
# harness's checked operations per second (tools/harness-speed.sh). Medians of 5 runs.
# (Benchmarks, not tests: they assert nothing about speed.)
# usage: tools/bench.sh [google-benchmark flags, e.g. --benchmark_filter=Build]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
cmake --preset default
cmake --build --preset default --target sgt_bench sgt_bench_dma
flags=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.1)
./build/default/bench/sgt_bench "${flags[@]}" "$@"
./build/default/bench/sgt_bench_dma "${flags[@]}" "$@"
# The harness's checked operations per second (issue 12): tools/harness-speed.sh.
tools/harness-speed.sh
