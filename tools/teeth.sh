#!/usr/bin/env bash
# The harness's teeth, measured: every mutant in tests/mutants/ (a bug planted as a patch) is
# applied to a scratch copy of the sources, the property test is rebuilt and run for a bounded
# time, and it must fail. A mutant that survives fails this script. The shipped sources never
# carry a mutant: the scratch copy is build/teeth/src, copied afresh from the sources each run.
#
# With --fuzzer, the same mutants face the `ops` fuzz target instead (libFuzzer, ASan+UBSan, the
# record-level mutator, from corpus/ops): the fuzzing half of the teeth, slower, so opt-in.
#
# With --empty (and --fuzzer), the fuzzer starts from an empty corpus instead of corpus/ops.
#
# usage: tools/teeth.sh [--fuzzer [--empty]] [--budget SECONDS] [mutant-name ...]
#        (default: every mutant, 60 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=60
names=()
fuzzer=0
empty=0
while [ $# -gt 0 ]; do
	case $1 in
	--budget) budget=$2; shift 2 ;;
	--fuzzer) fuzzer=1; shift ;;
	--empty) empty=1; shift ;;
	*) names+=("$1"); shift ;;
	esac
done
[ ${#names[@]} -gt 0 ] || names=($(cd tests/mutants && ls *.patch | sed 's/\.patch$//'))

tools/deps.sh patch
out=$root/build/teeth
[ $fuzzer -eq 0 ] || out=$root/build/teeth-fuzzer
[ $empty -eq 0 ] || out=$root/build/teeth-fuzzer-empty
src=$out/src
# A fresh build every run: the copy keeps the sources' times, which are older than the objects a
# mutant left behind, so an incremental build would keep the last mutant (found by the baseline
# check below).
rm -rf "$out"
mkdir -p "$src"
# The sources without build output (not with git ls-files: a checkout may come without git,
# as on a bare machine where this was found).
tar -C "$root" --exclude=./build --exclude=./.git --exclude=./fuzz-artifacts -cf - . |
	tar -C "$src" -xf -
if [ $fuzzer -eq 1 ]; then
	# As the libfuzzer preset (CMakePresets.json) configures it.
	cmake -S "$src" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DSGT_SANITIZE=address,undefined,fuzzer-no-link -DSGT_DEBUG_CHECKS=ON \
		-DSGT_FUZZ_ENGINE=libfuzzer -DSGT_BUILD_TESTS=OFF -DSGT_BUILD_BENCH=OFF \
		-DSGT_WERROR=ON >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
	target=fuzz_ops
	what="the ops fuzzer"
	[ $empty -eq 0 ] || what="the ops fuzzer from an empty corpus"
else
	cmake -S "$src" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSGT_BUILD_TESTS=ON -DSGT_BUILD_BENCH=OFF -DSGT_WERROR=ON >"$out/configure.log" 2>&1 ||
		{ cat "$out/configure.log"; exit 1; }
	target=sgt_props
	what="the property test"
fi
cmake --build "$out/build" --target $target >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

# One bounded run of the checker; fails (non-zero) when it finds something.
check() {
	if [ $fuzzer -eq 1 ]; then
		rm -rf "$out/corpus" && mkdir "$out/corpus"
		[ $empty -eq 1 ] || cp "$src/corpus/ops"/* "$out/corpus"/
		timeout $((budget + 30)) "$out/build/fuzz/fuzz_ops" -max_total_time="$budget" \
			-max_len=1412 -len_control=0 -dict="$src/fuzz/ops.dict" -timeout=10 \
			-artifact_prefix="$out/" "$out/corpus"
	else
		RC_PARAMS="${1:-max_success=100000 max_size=80}" timeout "$budget" \
			"$out/build/props/sgt_props"
	fi
}

# The checker on the unchanged sources must pass, or a "caught" means nothing. (For the
# property test, its default budget: the long one would take the whole time.)
if ! check "max_success=1000 max_size=100" >"$out/baseline.log" 2>&1; then
	echo "sgt teeth: $what fails on the unchanged sources" >&2
	tail -20 "$out/baseline.log" >&2
	exit 1
fi

status=0
caught=0
echo "=== sgt teeth: ${#names[@]} mutants, $what, up to $budget s each ==="
for m in "${names[@]}"; do
	patch_file=$root/tests/mutants/$m.patch
	why=$(head -1 "$patch_file")
	(cd "$src" && patch -s -p1 <"$patch_file") || { echo "  $m: does not apply"; status=1; continue; }
	if ! cmake --build "$out/build" --target $target >"$out/$m.build.log" 2>&1; then
		result="does not build"
		status=1
	else
		start=$SECONDS
		rc=0
		check >"$out/$m.log" 2>&1 || rc=$?
		if [ $rc -eq 0 ]; then
			result="SURVIVED ($budget s without a failure)"
			status=1
		elif [ $rc -eq 124 ]; then
			result="SURVIVED ($budget s without a failure)"
			status=1
		else
			found=$(grep -m1 -o 'Falsifiable after [0-9]* tests' "$out/$m.log" ||
				grep -m1 -oE 'MISMATCH at step [0-9]+|ERROR: [A-Za-z]+Sanitizer: [a-z-]+' "$out/$m.log" ||
				echo failed)
			result="caught in $((SECONDS - start)) s: $found"
			caught=$((caught + 1))
		fi
	fi
	printf '  %-40s %s\n      (%s)\n' "$m" "$result" "$why"
	(cd "$src" && patch -s -R -p1 <"$patch_file")
done
echo "sgt teeth: $caught of ${#names[@]} mutants caught"
exit $status
