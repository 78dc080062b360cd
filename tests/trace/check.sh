#!/usr/bin/env bash
# The harness's outcome trace over a frozen input set: every step of every input in
# tests/trace/inputs, as fuzz_ops -v prints it (ok / skipped / MISMATCH and the operation as it
# really ran, slots resolved), must equal tests/trace/ops.trace. A change that makes the harness
# faster must leave this trace identical: the same operations apply, skip and pass.
# A change that means to alter what the harness does updates it, and says so in its commit:
#   tests/trace/check.sh FUZZ_OPS --update
# usage: check.sh FUZZ_OPS [--update]
set -euo pipefail
fuzz_ops=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Sorted (the order must not depend on the file system's), all in one process: the inputs run
# one after another in one reused world (sgt_harness_reset()), as they do under a fuzzer.
(cd "$here/inputs" && ls | LC_ALL=C sort | sed "s|^|$here/inputs/|" | xargs "$fuzz_ops" -v) 2>&1 >/dev/null |
	sed -E 's|^.*/inputs/([^ ]+) \([0-9]+ bytes\):$|== \1|' | grep -E '^(== | +[0-9]+ )' >"$out"
if [ "${2:-}" = --update ]; then
	cp "$out" "$here/ops.trace"
	echo "tests/trace/ops.trace: $(grep -c '^ ' "$out") steps written"
	exit 0
fi
if ! diff -u "$here/ops.trace" "$out" >"$out.diff"; then
	echo "the harness's outcome trace changed (first differences):" >&2
	head -40 "$out.diff" >&2
	rm -f "$out.diff"
	exit 1
fi
rm -f "$out.diff"
echo "trace identical: $(grep -c '^ ' "$out") steps over $(ls "$here/inputs" | wc -l) inputs"
