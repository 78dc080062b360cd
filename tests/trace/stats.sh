#!/usr/bin/env bash
# The harness's throughput counters (SGT_FUZZ_STATS, fuzz/fuzz_common.c), which the main job's
# summary reports, against the frozen trace (tests/trace/ops.trace): replaying the trace's inputs
# must count as many inputs as there are files, as many decoded operations as the trace has steps,
# and as many applied ones as it has "ok" steps.
# usage: stats.sh FUZZ_OPS
set -euo pipefail
fuzz_ops=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SGT_FUZZ_STATS="$work" "$fuzz_ops" "$here/inputs" >/dev/null
read -r inputs decoded applied <<<"$(awk '{ i += $2; d += $4; a += $6 } END { print i, d, a }' "$work"/stats.*)"
want_inputs=$(ls "$here/inputs" | wc -l)
want_decoded=$(grep -cE '^ +[0-9]+ ' "$here/ops.trace")
want_applied=$(grep -cE '^ +[0-9]+ ok ' "$here/ops.trace")
echo "counted: $inputs inputs, $decoded decoded, $applied applied;" \
	"the trace: $want_inputs, $want_decoded, $want_applied"
[ "$inputs" = "$want_inputs" ] && [ "$decoded" = "$want_decoded" ] && [ "$applied" = "$want_applied" ]
