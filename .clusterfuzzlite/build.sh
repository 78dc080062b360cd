#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script. Honours what the fuzzing infrastructure sets:
#   $CC $CXX $CFLAGS $CXXFLAGS  compilers and flags (sanitizers and coverage included)
#   $LIB_FUZZING_ENGINE          how to link a fuzz target (libFuzzer, AFL++, honggfuzz driver)
#   $OUT                         where the fuzzers, their seed corpora, dictionaries and options go
#   $SRC / $WORK                 sources and scratch space (defaults allow a run outside docker)
# tools/test-oss-fuzz-build.sh runs it here with those variables set by hand.
src=${SGT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
work=${WORK:-$(mktemp -d)}
: "${OUT:?set OUT}" "${CC:?set CC}" "${CXX:?set CXX}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"

cmake -S "$src" -B "$work/sgt-build" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
	-DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
	-DSGT_BUILD_TESTS=OFF -DSGT_BUILD_BENCH=OFF -DSGT_WERROR=OFF -DSGT_DEBUG_CHECKS=ON \
	-DSGT_FUZZ_ENGINE=external -DSGT_FUZZ_LINK_FLAGS="$LIB_FUZZING_ENGINE"
cmake --build "$work/sgt-build" -j"$(nproc)"

for t in ops from_pages copy simiommu iova; do
	name=sgt_$t
	cp "$work/sgt-build/fuzz/fuzz_$t" "$OUT/$name"
	# Seed corpus: <fuzzer>_seed_corpus.zip, flat.
	(cd "$src/corpus/$t" && cmake -E tar cf "$OUT/${name}_seed_corpus.zip" --format=zip -- *)
	if [ "$t" != iova ]; then
		cp "$src/fuzz/ops.dict" "$OUT/$name.dict"
		# The longest input the harness runs (SGT_FUZZ_MAX_LEN), at once: no length control.
		printf '[libfuzzer]\ndict = %s.dict\nmax_len = 1412\nlen_control = 0\n' "$name" >"$OUT/$name.options"
	else
		printf '[libfuzzer]\nmax_len = 4096\n' >"$OUT/$name.options"
	fi
done
