#!/usr/bin/env bash
# Builds sgt's kernel modules against a Debian kernel's headers (default: the version that
# linux-headers-amd64 depends on), warnings as errors at W=1, out of the source tree:
#   build/kernel/sgt/sgt.ko                     the core, the kernel platform and the kernel DMA
#                                               backend, exporting the public API to other modules
#   build/kernel/linked/sgt_edu_linked.ko       the system test driver, linked against sgt.ko
#   build/kernel/embedded/sgt_edu_embedded.ko   the same driver with sgt compiled in through
#                                               backends/kernel/sgt.kbuild (the driver's way)
# Both flavours use the fragment; Kbuild builds beside its sources, so each build folder mirrors
# the sources it needs with symbolic links.
# usage: tools/kbuild.sh [KERNEL_HEADERS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# perl: W=1 runs the kernel-doc check (scripts/kernel-doc needs Pod::Usage, not in perl-base;
# found on a bare bookworm chroot).
tools/deps.sh linux-headers-amd64 make gcc perl
if [ $# -gt 0 ]; then
	kdir=$1
else
	kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 | sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p')
	kdir=/usr/src/linux-headers-$kver
fi
[ -d "$kdir" ] || { echo "sgt: no kernel headers at $kdir" >&2; exit 1; }
out=$root/build/kernel
rm -rf "$out"

# mirror DIR: the sgt tree that the fragment expects, under DIR/sgt
mirror() {
	local f
	for f in core/src/*.[ch] core/platform/kernel/*.c backends/kernel/*.c backends/kernel/sgt.kbuild; do
		mkdir -p "$1/sgt/$(dirname "$f")"
		ln -s "$root/$f" "$1/sgt/$f"
	done
	ln -s "$root/core/include" "$1/sgt/core/include"
	mkdir -p "$1/sgt/backends/kernel"
	ln -s "$root/backends/kernel/include" "$1/sgt/backends/kernel/include"
}

# edu DIR FLAVOUR: the test driver's sources
edu() {
	local f
	mkdir -p "$1"
	for f in tests/kernel/*.[ch]; do
		ln -s "$root/$f" "$1/"
	done
}
edu_objs='sgt_edu_test.o edu_data.o edu_api.o edu_fidelity.o fidelity_cases.o'
kmake() {
	make -C "$kdir" M="$1" W=1 KCFLAGS=-Werror "${@:2}" modules
}

mkdir -p "$out/sgt"
mirror "$out/sgt"
cat >"$out/sgt/Kbuild" <<EOK
SGT_REL := sgt
include \$(src)/sgt/backends/kernel/sgt.kbuild
obj-m := sgt.o
sgt-y := \$(SGT_OBJS) sgt/core/platform/kernel/module.o
ccflags-y := \$(SGT_CCFLAGS)
EOK

edu "$out/linked"
cat >"$out/linked/Kbuild" <<EOK
obj-m := sgt_edu_linked.o
sgt_edu_linked-y := $edu_objs
ccflags-y := -I$root/core/include -I$root/backends/kernel/include -DSGT_EDU_FLAVOUR='"linked"'
EOK

edu "$out/embedded"
mirror "$out/embedded"
cat >"$out/embedded/Kbuild" <<EOK
SGT_REL := sgt
include \$(src)/sgt/backends/kernel/sgt.kbuild
obj-m := sgt_edu_embedded.o
sgt_edu_embedded-y := $edu_objs \$(SGT_OBJS)
ccflags-y := \$(SGT_CCFLAGS) -DSGT_EDU_FLAVOUR='"embedded"'
EOK

start=$SECONDS
kmake "$out/sgt" >"$out/sgt.log" 2>&1 || { cat "$out/sgt.log"; exit 1; }
kmake "$out/linked" KBUILD_EXTRA_SYMBOLS="$out/sgt/Module.symvers" >"$out/linked.log" 2>&1 &
p1=$!
kmake "$out/embedded" >"$out/embedded.log" 2>&1 &
p2=$!
st=0
wait $p1 || { cat "$out/linked.log"; st=1; }
wait $p2 || { cat "$out/embedded.log"; st=1; }
[ $st -eq 0 ] || exit 1

want=$(grep -c '^EXPORT_SYMBOL(' core/platform/kernel/module.c)
got=$(grep -c 'EXPORT_SYMBOL' "$out/sgt/Module.symvers")
[ "$want" -eq "$got" ] || { echo "sgt: $got exports in Module.symvers, $want wanted" >&2; exit 1; }
# The embedded flavour must carry the core and export nothing; the linked one must carry none.
if nm "$out/embedded/sgt_edu_embedded.ko" | grep -q ' __ksymtab_sgt_'; then
	echo "sgt: the embedded test module exports sgt symbols" >&2; exit 1
fi
nm "$out/embedded/sgt_edu_embedded.ko" | grep -q ' T sgt_table_map$' ||
	{ echo "sgt: the embedded test module does not carry the core" >&2; exit 1; }
if nm "$out/linked/sgt_edu_linked.ko" | grep -q ' T sgt_table_map$'; then
	echo "sgt: the linked test module carries its own core" >&2; exit 1
fi
echo "sgt: built against $(basename "$kdir") in $((SECONDS - start)) s: sgt.ko ($got exports)," \
	"sgt_edu_linked.ko, sgt_edu_embedded.ko"
