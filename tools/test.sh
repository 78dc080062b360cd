#!/usr/bin/env bash
# The whole test suite: every workflow preset, each of which configures, builds and runs ctest.
#   default      gcc RelWithDebInfo: unit tests, installed-package consumer test, benchmark build
#   asan         clang AddressSanitizer + UBSan + LeakSanitizer, invariant checks on every mutation
#   tsan         clang ThreadSanitizer: the unit tests, among them concurrent map/unmap
#   freestanding core built -ffreestanding -nostdinc; symbol and libc-header gates
# then, once, the teeth (tools/teeth.sh, about two minutes: every mutant in tests/mutants/ must
# make the property test fail) and the kernel system tests (tools/vmtest.sh, about a minute): sgt.ko and the embedded
# flavour built against Debian's headers, four QEMU VMs with the edu device (IOMMU, dma-direct,
# swiotlb=force, and a negative control that must fail), and the fidelity comparison of the
# simulated IOMMU with the real kernel.
# usage: tools/test.sh [preset|teeth|vm ...]     (default: all presets, then teeth and vm)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default asan tsan freestanding teeth vm)

declare -A result
status=0
for p in "${presets[@]}"; do
	case $p in
	vm) echo "=== sgt: kernel system tests ===" ;;
	teeth) echo "=== sgt: teeth (mutants the property test must catch) ===" ;;
	*) echo "=== sgt: workflow preset '$p' ===" ;;
	esac
	start=$SECONDS
	case $p in
	vm) run=(tools/vmtest.sh) ;;
	teeth) run=(tools/teeth.sh) ;;
	*) run=(cmake --workflow --preset "$p") ;;
	esac
	if "${run[@]}"; then
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
