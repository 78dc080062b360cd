#!/usr/bin/env bash
# Line and branch coverage of core/ and backends/ from replaying every fuzz corpus and regression
# file (the coverage preset: clang source-based coverage). Writes a text summary to stdout and an
# HTML report to build/coverage/html/index.html.
# usage: tools/coverage.sh [--all-tests]   (--all-tests: every ctest test, not only the replays)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
cmake --preset coverage >/dev/null
cmake --build --preset coverage >/dev/null
out=build/coverage
rm -rf "$out/profiles" && mkdir -p "$out/profiles"
label=(-R "^fuzz_replay[.]")
[ "${1:-}" = --all-tests ] && label=()
(cd "$out" && LLVM_PROFILE_FILE="$PWD/profiles/%p-%m.profraw" ctest "${label[@]}" >/dev/null)
llvm-profdata merge -sparse "$out"/profiles/*.profraw -o "$out/sgt.profdata"
objects=()
for t in ops from_pages copy simiommu iova; do objects+=(-object "$out/fuzz/fuzz_$t"); done
# With every test, the test programs are objects too: code only they link would not be listed.
[ "${1:-}" = --all-tests ] && objects+=(-object "$out/tests/sgt_unit_tests" -object "$out/props/sgt_props")
sources=(core/src core/platform/user backends)
llvm-cov report "${objects[@]:1}" -instr-profile="$out/sgt.profdata" "${sources[@]}"
llvm-cov show "${objects[@]:1}" -instr-profile="$out/sgt.profdata" -format=html \
	-output-dir="$out/html" "${sources[@]}" >/dev/null
echo "HTML report: $out/html/index.html"
