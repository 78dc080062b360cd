#!/usr/bin/env bash
# Fuzz the sgt targets on the simulated IOMMU.
#   tools/fuzz.sh run      [--budget SECONDS] [--engine libfuzzer|afl] [TARGET...]
#       fuzz each target for the budget on a scratch copy of its corpus; print a summary table
#       (executions/s, coverage, new corpus entries, crashes with the file and the command to
#       replay it). Exits 1 if any target crashed. The corpora in the repository are not changed.
#   tools/fuzz.sh ci       [--budget SECONDS] [TARGET...]
#       the same, then merge what was found back into corpus/<target> (-merge=1) and copy crash
#       files into fuzz-artifacts/; for users' pipelines. Exits 1 on a crash.
#   tools/fuzz.sh minimise [--budget SECONDS] [TARGET...]
#       grow each seed corpus for the budget, then minimise it with -merge=1 into corpus/<target>
#       (files named by content hash): the command that produced the checked-in seed corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}; shift || true
budget=30; engine=libfuzzer; targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--budget) budget=$2; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(ops from_pages copy simiommu iova)
case "$engine" in libfuzzer) ;; afl) echo "sgt: the AFL++ engine is not wired up yet; use --engine libfuzzer" >&2; exit 2 ;;
	*) echo "sgt: unknown engine $engine" >&2; exit 2 ;; esac

tools/deps.sh
cmake --preset libfuzzer >/dev/null
cmake --build --preset libfuzzer >/dev/null
bin=build/libfuzzer/fuzz
work=$(mktemp -d /tmp/sgt-fuzz.XXXXXX)
mkdir -p fuzz-artifacts

status=0
rows=()
for t in "${targets[@]}"; do
	mkdir -p "$work/$t" "$work/$t.crash"
	cp corpus/"$t"/* "$work/$t"/ 2>/dev/null || true
	before=$(ls "$work/$t" | wc -l)
	log="$work/$t.log"
	dict=(); [ "$t" = iova ] || dict=(-dict=fuzz/ops.dict)
	"$bin/fuzz_$t" -max_total_time="$budget" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
		"${dict[@]}" -artifact_prefix="$work/$t.crash/" "$work/$t" >"$log" 2>&1 || true
	execs=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov: ? ft: ?")
	after=$(ls "$work/$t" | wc -l)
	crash=$(ls "$work/$t.crash" 2>/dev/null | head -1 || true)
	if [ -n "$crash" ]; then
		cp "$work/$t.crash/$crash" fuzz-artifacts/
		crash_txt="CRASH fuzz-artifacts/$crash  replay: build/default/fuzz/fuzz_$t -v fuzz-artifacts/$crash"
		status=1
		grep -E "sgt fuzz|ERROR|SUMMARY" "$log" | head -5 | sed 's/^/    /' >&2 || true
	else
		crash_txt="no crash"
	fi
	rows+=("$(printf '%-11s %9s %22s %8s   %s' "$t" "$execs" "$cov" "+$((after - before))" "$crash_txt")")
	if [ "$mode" = ci ] || [ "$mode" = minimise ]; then
		mkdir -p "$work/$t.merged"
		"$bin/fuzz_$t" -merge=1 "$work/$t.merged" "$work/$t" >/dev/null 2>&1
		rm -f corpus/"$t"/*
		cp "$work/$t.merged"/* corpus/"$t"/
	fi
done

echo
echo "=== sgt fuzzing summary (libFuzzer, ASan+UBSan, ${budget}s per target) ==="
printf '%-11s %9s %22s %8s   %s\n' target "exec/s" "coverage (edges, features)" "corpus" result
for r in "${rows[@]}"; do echo "$r"; done
rm -rf "$work"
exit $status
