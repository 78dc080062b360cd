#!/usr/bin/env bash
# Sequence seeds for the harness fuzz targets: the property test's generator, which knows what
# applies in which state, writes N passing sequences (tens of operations over every operation
# kind, device mode and misuse) as fuzz inputs; those that add coverage are merged into
# corpus/ops, and, rewritten for each target's operation subset (sgt_decode --from-ops), into
# corpus/from_pages, corpus/copy and corpus/simiommu. The command that made the checked-in seeds.
# usage: tools/seeds.sh [--sequences N] [--seed S]     (default 3000 sequences, seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
sequences=3000; seed=1
while [ $# -gt 0 ]; do
	case $1 in
	--sequences) sequences=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	*) echo "usage: tools/seeds.sh [--sequences N] [--seed S]" >&2; exit 2 ;;
	esac
done
tools/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target sgt_props sgt_decode >/dev/null
cmake --preset libfuzzer >/dev/null
cmake --build --preset libfuzzer >/dev/null
work=$(mktemp -d /tmp/sgt-seeds.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/ops"
SGT_PROPS_EXPORT="$work/ops" RC_PARAMS="max_success=$sequences max_size=60 seed=$seed" \
	build/default/props/sgt_props >"$work/props.log" 2>&1 || { tail -20 "$work/props.log"; exit 1; }
echo "sgt seeds: $(ls "$work/ops" | wc -l) sequences exported"
for t in ops from_pages copy simiommu; do
	if [ "$t" != ops ]; then
		mkdir -p "$work/$t"
		find "$work/ops" -type f -print0 |
			xargs -0 build/default/fuzz/sgt_decode --target "$t" --from-ops "$work/$t"
	fi
	before=$(ls corpus/$t | wc -l)
	build/libfuzzer/fuzz/fuzz_$t -merge=1 -max_len=1412 corpus/$t "$work/$t" >"$work/$t.merge.log" 2>&1 ||
		{ tail -20 "$work/$t.merge.log"; exit 1; }
	# Content-hash names, like the minimised corpora.
	for f in corpus/$t/seq-*; do
		[ -e "$f" ] || continue
		mv "$f" "corpus/$t/$(sha1sum "$f" | cut -c1-40)"
	done
	echo "sgt seeds: corpus/$t $before -> $(ls corpus/$t | wc -l) inputs"
done
