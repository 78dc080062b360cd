#!/usr/bin/env bash
# Tests .clusterfuzzlite/build.sh without docker: sets the variables OSS-Fuzz would (libFuzzer,
# ASan), runs it, checks what lands in $OUT, and runs every fuzzer briefly on its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CC=clang CXX=clang++ OUT=$tmp/out WORK=$tmp/work SRC=$tmp
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
mkdir -p "$OUT" "$WORK"
.clusterfuzzlite/build.sh >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; exit 1; }
for t in ops from_pages copy simiommu iova; do
	f=$OUT/sgt_$t
	for need in "$f" "${f}_seed_corpus.zip" "$f.options"; do
		[ -s "$need" ] || { echo "missing $need"; exit 1; }
	done
	[ "$t" = iova ] || [ -s "$f.dict" ] || { echo "missing $f.dict"; exit 1; }
	mkdir -p "$tmp/seeds/$t"
	(cd "$tmp/seeds/$t" && cmake -E tar xf "${f}_seed_corpus.zip")
	n=$(ls "$tmp/seeds/$t" | wc -l)
	[ "$n" -gt 0 ] || { echo "empty seed corpus for $t"; exit 1; }
	"$f" -runs=200 "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1 || { tail -20 "$tmp/$t.log"; exit 1; }
	echo "oss-fuzz build: sgt_$t ok ($n seeds, options$([ "$t" = iova ] || echo ', dictionary'))"
done
echo "oss-fuzz build: 5 passed, 0 failed"
