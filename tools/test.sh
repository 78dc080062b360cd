#!/usr/bin/env bash
# The whole test suite: every workflow preset, each of which configures, builds and runs ctest.
#   default      gcc RelWithDebInfo: unit tests, installed-package consumer test, benchmark build
#   asan         clang AddressSanitizer + UBSan + LeakSanitizer, invariant checks on every mutation
#   tsan         clang ThreadSanitizer: the unit tests, among them concurrent map/unmap
#   freestanding core built -ffreestanding -nostdinc; symbol and libc-header gates
# usage: tools/test.sh [preset ...]     (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default asan tsan freestanding)

declare -A result
status=0
for p in "${presets[@]}"; do
	echo "=== sgt: workflow preset '$p' ==="
	start=$SECONDS
	if cmake --workflow --preset "$p"; then
		result[$p]="passed ($((SECONDS - start)) s)"
	else
		result[$p]="FAILED ($((SECONDS - start)) s)"
		status=1
	fi
done

echo
echo "=== sgt test summary ==="
for p in "${presets[@]}"; do
	printf '  %-14s %s\n' "$p" "${result[$p]}"
done
exit $status
