#!/usr/bin/env bash
# The harness's teeth, measured: every mutant in tests/mutants/ (a bug planted as a patch) is
# applied to a scratch copy of the sources, the property test is rebuilt and run for a bounded
# time, and it must fail. A mutant that survives fails this script. The shipped sources never
# carry a mutant: the scratch copy is build/teeth/src, copied afresh from the sources each run.
#
# usage: tools/teeth.sh [--budget SECONDS] [mutant-name ...]   (default: every mutant, 60 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=60
names=()
while [ $# -gt 0 ]; do
	case $1 in
	--budget) budget=$2; shift 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
[ ${#names[@]} -gt 0 ] || names=($(cd tests/mutants && ls *.patch | sed 's/\.patch$//'))

tools/deps.sh patch
out=$root/build/teeth
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
cmake -S "$src" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSGT_BUILD_TESTS=ON -DSGT_BUILD_BENCH=OFF -DSGT_WERROR=ON >"$out/configure.log" 2>&1 ||
	{ cat "$out/configure.log"; exit 1; }
cmake --build "$out/build" --target sgt_props >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

# The property test on the unchanged sources must pass, or a "caught" means nothing.
if ! timeout "$budget" "$out/build/props/sgt_props" >"$out/baseline.log" 2>&1; then
	echo "sgt teeth: the property test fails on the unchanged sources" >&2
	tail -20 "$out/baseline.log" >&2
	exit 1
fi

status=0
caught=0
echo "=== sgt teeth: ${#names[@]} mutants, property test, up to $budget s each ==="
for m in "${names[@]}"; do
	patch_file=$root/tests/mutants/$m.patch
	why=$(head -1 "$patch_file")
	(cd "$src" && patch -s -p1 <"$patch_file") || { echo "  $m: does not apply"; status=1; continue; }
	start=$SECONDS
	if ! cmake --build "$out/build" --target sgt_props >"$out/$m.build.log" 2>&1; then
		result="does not build"
		status=1
	elif RC_PARAMS="max_success=100000 max_size=80" timeout "$budget" \
		"$out/build/props/sgt_props" >"$out/$m.log" 2>&1; then
		result="SURVIVED"
		status=1
	elif [ $? -eq 124 ]; then
		result="SURVIVED ($budget s without a failure)"
		status=1
	else
		result="caught in $((SECONDS - start)) s: $(grep -m1 -o 'Falsifiable after [0-9]* tests' "$out/$m.log" || echo failed)"
		caught=$((caught + 1))
	fi
	printf '  %-40s %s\n      (%s)\n' "$m" "$result" "$why"
	(cd "$src" && patch -s -R -p1 <"$patch_file")
done
echo "sgt teeth: $caught of ${#names[@]} mutants caught"
exit $status
