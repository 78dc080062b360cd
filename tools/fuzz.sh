#!/usr/bin/env bash
# Fuzz the sgt targets on the simulated IOMMU.
#   tools/fuzz.sh run      [--budget SECONDS] [--engine libfuzzer|afl] [TARGET...]
#       fuzz each target for the budget on a scratch copy of its corpus; print a summary table
#       (executions/s, coverage, new corpus entries, crashes with the file and the command to
#       replay it). Exits 1 if any target crashed. The corpora in the repository are not changed.
#   tools/fuzz.sh ci       [--budget SECONDS] [--engine libfuzzer|afl] [TARGET...]
#       the same, then merge what was found back into corpus/<target> (-merge=1) and copy crash
#       files into fuzz-artifacts/; for users' pipelines. Exits 1 on a crash.
#   tools/fuzz.sh minimise [--budget SECONDS] [--engine libfuzzer|afl] [TARGET...]
#       grow each seed corpus for the budget, then minimise it with -merge=1 into corpus/<target>
#       (files named by content hash): the command that produced the checked-in seed corpora.
#   Merging is libFuzzer's -merge=1 with either engine: inputs are the same bytes to both, so
#   what AFL++ found (its queue) is merged with the libFuzzer build of the same target.
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
case "$engine" in
libfuzzer) extra=() ;;
afl) extra=(afl++) ;;
*) echo "sgt: unknown engine $engine" >&2; exit 2 ;;
esac

# Configure a preset; a build folder whose cache is broken (configured before afl++ or clang was
# installed caches a compiler that did not exist) is wiped and configured again, once.
configure() {
	if ! cmake --preset "$1" >"/tmp/sgt-configure-$1.log" 2>&1; then
		echo "sgt: build/$1 did not configure; starting it afresh" >&2
		rm -rf "build/$1/CMakeCache.txt" "build/$1/CMakeFiles"
		cmake --preset "$1" >/dev/null
	fi
}

tools/deps.sh "${extra[@]}"
configure "$engine"
cmake --build --preset "$engine" >/dev/null
bin=build/$engine/fuzz
merge_bin=$bin
if [ "$engine" = afl ]; then
	if [ "$mode" != run ]; then
		configure libfuzzer
		cmake --build --preset libfuzzer >/dev/null
		merge_bin=build/libfuzzer/fuzz
	fi
	configure default
	cmake --build --preset default --target sgt_afl_mutator >/dev/null
	# CmpLog companions: afl-fuzz -c solves comparisons the fuzzer would otherwise guess at.
	configure afl-cmplog
	cmake --build --preset afl-cmplog >/dev/null
fi

# Progress while a target runs: its name, budget and the engine's latest counts, every few
# seconds (one line each, or rewritten in place on a terminal).
progress() {
	local t=$1 pid=$2 start=$SECONDS line
	while kill -0 "$pid" 2>/dev/null; do
		sleep 3
		if [ "$engine" = afl ]; then
			line=$(awk '/execs_done|edges_found|saved_crashes|execs_per_sec/ {printf "%s %s  ", $1, $3}' \
				"$work/$t.afl/default/fuzzer_stats" 2>/dev/null || true)
		else
			line=$(grep -oE '#[0-9]+[[:space:]].*(cov: [0-9]+ ft: [0-9]+).*exec/s: [0-9]+' "$work/$t.log" |
				tail -1 | sed -E 's/#([0-9]+).*(cov: [0-9]+ ft: [0-9]+).*(exec\/s: [0-9]+).*/execs \1  \2  \3/' ||
				true)
		fi
		line="[$t $((SECONDS - start))/${budget} s] ${line:-starting}  crashes $(ls "$work/$t.crash" 2>/dev/null | wc -l)"
		if [ -t 1 ]; then printf '\r%-110s' "$line"; else echo "$line"; fi
	done
	[ -t 1 ] && printf '\r%-110s\r' ''
	return 0
}

# What a crash needs to become a fixed bug: the operations it decodes to and a unit test that
# replays them (harness targets; iova inputs are not harness operations).
report_crash() {
	local t=$1 file=$2 test
	[ "$t" = iova ] && return 0
	echo "    decoded (build/$engine/fuzz/sgt_decode --target $t $file):" >&2
	"$bin/sgt_decode" --target "$t" "$file" 2>&1 | sed 's/^/      /' >&2 || true
	test="Fuzz_${t}_$(basename "$file" | sed 's/[^A-Za-z0-9]/_/g' | cut -c1-40)"
	if "$bin/sgt_decode" --target "$t" --test "$test" "$file" >"$file.regression.cpp" 2>/dev/null; then
		echo "    regression test, ready to paste into tests/unit/test_regressions.cpp:" \
			"$file.regression.cpp" >&2
	fi
	echo "    or keep the input itself: cp $file corpus/regressions/$t/ (replayed by every test run)" >&2
}

# AFL++: persistent mode through its libFuzzer driver; stats from fuzzer_stats. The harness
# targets also get the record-level mutator (sgt_mutator.h) as AFL++'s custom mutator.
afl_target() {
	local t=$1 out="$work/$t.afl" dict=() mutator=()
	[ "$t" = iova ] || dict=(-x fuzz/ops.dict)
	[ "$t" = iova ] || mutator=(AFL_CUSTOM_MUTATOR_LIBRARY="$PWD/build/default/fuzz/libsgt_afl_mutator.so")
	env "${mutator[@]}" SGT_FUZZ_STATS="$work/$t.stats" AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
		timeout $((budget + 60)) afl-fuzz -V "$budget" -i "$work/$t" -o "$out" "${dict[@]}" \
		-c "build/afl-cmplog/fuzz/fuzz_$t" \
		-- "$bin/fuzz_$t" >"$work/$t.log" 2>&1 || true
	find "$out/default/crashes" -name 'id:*' -exec cp {} "$work/$t.crash/" \; 2>/dev/null || true
	# A seed that already crashes is skipped with a warning (or, if all do, ends the run): keep
	# it as the crash, or it would go unreported.
	local seed
	for seed in $(sed -n "s/.*Test case '[^']*orig:\([^']*\)' results in a crash.*/\1/p" \
		"$work/$t.log" | sed 's/\x1b\[[0-9;]*m//g'); do
		cp "$work/$t/$seed" "$work/$t.crash/" 2>/dev/null || true
	done
}
# The queue holds the imported seeds too ("orig:" in their names); the caller counts only new
# finds. Runs in the foreground: afl_target runs in the background, where variables are lost.
afl_stats() {
	local st="$work/$1.afl/default/fuzzer_stats"
	execs=$(awk '/execs_per_sec/ {printf "%d", $3}' "$st" 2>/dev/null || echo 0)
	cov="edges: $(awk '/edges_found/ {print $3}' "$st" 2>/dev/null)"
}
# What the harness counted while the target ran (SGT_FUZZ_STATS; fuzz_common.c), over all its
# processes: "checked operations/s|operations per executed input, share with 10 or more".
harness_stats() {
	local t=$1
	[ "$t" = iova ] && { echo "- -"; return; }
	cat "$work/$t.stats"/stats.* 2>/dev/null |
		awk '{ inputs += $2; decoded += $4; applied += $6; secs += $10; ten += $16 }
		     END { if (inputs && secs > 0) printf "%d %.1f,%d%%>=10", applied / secs, decoded / inputs, 100 * ten / inputs; else print "- -" }'
}
# Operations per input over a corpus (what the fuzzer really exercises): "mean/max, n% >= 10".
ops_per_input() {
	local t=$1 dir=$2
	[ "$t" = iova ] && { echo "-"; return; }
	find "$dir" -maxdepth 1 -type f -print0 | xargs -0 -r "$bin/sgt_decode" --target "$t" 2>/dev/null |
		awk '/ operations$/ { n++; k = $(NF - 1); sum += k; if (k > max) max = k; if (k >= 10) long++ }
		     END { if (n) printf "%.1f/%d, %d%%>=10", sum / n, max, 100 * long / n; else print "-" }'
}
work=$(mktemp -d /tmp/sgt-fuzz.XXXXXX)
mkdir -p fuzz-artifacts

status=0
rows=()
for t in "${targets[@]}"; do
	mkdir -p "$work/$t" "$work/$t.crash" "$work/$t.stats"
	cp corpus/"$t"/* "$work/$t"/ 2>/dev/null || true
	before=$(ls "$work/$t" | wc -l)
	log="$work/$t.log"
	if [ "$engine" = afl ]; then
		afl_target "$t" &
		progress "$t" $!
		wait $! || true
		new_entries=$(ls "$work/$t.afl/default/queue" 2>/dev/null | grep -vc 'orig:' || true)
		afl_stats "$t"
		after=$((before + new_entries))
	else
		# Harness targets: inputs may grow to the full SGT_FUZZ_MAX_OPS records at once
		# (libFuzzer's length control would hold them near the longest seed for minutes).
		flags=()
		[ "$t" = iova ] || flags=(-dict=fuzz/ops.dict -max_len=1412 -len_control=0)
		SGT_FUZZ_STATS="$work/$t.stats" "$bin/fuzz_$t" -max_total_time="$budget" \
			-print_final_stats=1 -timeout=10 -rss_limit_mb=4096 "${flags[@]}" \
			-artifact_prefix="$work/$t.crash/" "$work/$t" >"$log" 2>&1 &
		progress "$t" $!
		wait $! || true
		execs=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
		cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov: ? ft: ?")
		after=$(ls "$work/$t" | wc -l)
	fi
	crash=$(ls "$work/$t.crash" 2>/dev/null | head -1 || true)
	if [ -n "$crash" ]; then
		cp "$work/$t.crash/$crash" fuzz-artifacts/
		crash_txt="CRASH fuzz-artifacts/$crash  replay: build/default/fuzz/fuzz_$t -v fuzz-artifacts/$crash"
		status=1
		echo "sgt: $t crashed: fuzz-artifacts/$crash" >&2
		grep -E "sgt fuzz|ERROR|SUMMARY" "$log" | head -5 | sed 's/^/    /' >&2 || true
		report_crash "$t" "fuzz-artifacts/$crash"
	else
		crash_txt="no crash"
	fi
	corpus_dir="$work/$t"
	[ "$engine" = afl ] && corpus_dir="$work/$t.afl/default/queue"
	ops=$(ops_per_input "$t" "$corpus_dir")
	read -r checked run_ops <<<"$(harness_stats "$t")"
	rows+=("$(printf '%-10s %7s %8s %16s %22s %7s %18s   %s' "$t" "$execs" "$checked" "$run_ops" "$cov" "+$((after - before))" "$ops" "$crash_txt")")
	if [ "$mode" = ci ] || [ "$mode" = minimise ]; then
		mkdir -p "$work/$t.merged" "$work/$t.found"
		# AFL++'s finds are its queue's files (not its .state folder, which is bookkeeping).
		[ "$engine" = afl ] && find "$corpus_dir" -maxdepth 1 -type f -name 'id:*' \
			-exec cp {} "$work/$t.found/" \;
		# Replace the checked-in corpus only with a successful, non-empty merge: a corpus is
		# never left empty, and a failed merge does not end the run before the summary.
		if "$merge_bin/fuzz_$t" -merge=1 -max_len=1412 "$work/$t.merged" "$work/$t" \
			"$work/$t.found" >"$work/$t.merge.log" 2>&1 &&
			[ -n "$(ls "$work/$t.merged")" ]; then
			rm -f corpus/"$t"/*
			cp "$work/$t.merged"/* corpus/"$t"/
		else
			echo "sgt: merging the $t corpus failed; corpus/$t left as it was" >&2
			status=1
		fi
	fi
done

echo
echo "=== sgt fuzzing summary ($engine, ASan+UBSan, ${budget}s per target) ==="
printf '%-10s %7s %8s %16s %22s %7s %18s   %s\n' target "exec/s" "ops/s" "ops/input (run)" \
	"coverage (edges, feat.)" "corpus" "ops/input (corpus)" result
echo "(ops/s: operations decoded, applied and fully checked per second; ops/input (run): mean over"
echo " the inputs executed, and the share with 10 or more; (corpus): over the corpus at the end)"
for r in "${rows[@]}"; do echo "$r"; done
rm -rf "$work"
exit $status
