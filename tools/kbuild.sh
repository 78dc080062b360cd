#!/usr/bin/env bash
# Builds sgt.ko: the core's sources, unchanged, with core/platform/kernel/, against a Debian
# kernel's headers (default: the newest /usr/src/linux-headers-*-amd64), warnings as errors at
# W=1, then checks that the module exports every public function. Compile-only: loading and
# running it belongs to the kernel backend's VM tests. Not part of tools/test.sh.
# usage: tools/kbuild.sh [KERNEL_HEADERS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh linux-headers-amd64 make
kdir=${1:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)}
[ -d "$kdir" ] || { echo "sgt: no kernel headers in /usr/src" >&2; exit 1; }
# Kbuild builds beside its sources: link them into a build folder, not the source tree.
out=$PWD/build/kernel-module
rm -rf "$out"
mkdir -p "$out"
srcs=(core/src/*.c core/platform/kernel/*.c)
for f in "${srcs[@]}" core/src/internal.h core/src/avl.h; do
	ln -s "$PWD/$f" "$out/"
done
objs=$(for f in "${srcs[@]}"; do printf '%s.o ' "$(basename "$f" .c)"; done)
cat >"$out/Kbuild" <<EOK
obj-m := sgt.o
sgt-y := $objs
ccflags-y := -I$PWD/core/include
EOK
make -C "$kdir" M="$out" W=1 KCFLAGS=-Werror modules
want=$(grep -c '^EXPORT_SYMBOL(' core/platform/kernel/module.c)
got=$(grep -c 'EXPORT_SYMBOL' "$out/Module.symvers")
[ "$want" -eq "$got" ] || { echo "sgt: $got exports in Module.symvers, $want wanted" >&2; exit 1; }
echo "sgt: $out/sgt.ko built against $(basename "$kdir"): $got exported functions"
