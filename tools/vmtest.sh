#!/usr/bin/env bash
# The kernel system tests: boots Debian's own kernel in QEMU (q35, TCG; SGT_VM_ACCEL=kvm where KVM
# really works: these machines have a /dev/kvm on which a guest hangs in the firmware) with a busybox initramfs built here, once per mode, loads sgt's test driver for QEMU's
# edu PCI device and reads the verdict that the VM writes to isa-debug-exit. Then compares the
# real kernel's segment lists with the simulated IOMMU's (the fidelity comparison).
#
#   iommu     emulated Intel IOMMU (iommu-dma)        sgt.ko + sgt_edu_linked.ko
#   direct    no IOMMU (dma-direct), 256 MiB of RAM   sgt_edu_embedded.ko (the core compiled in)
#   swiotlb   swiotlb=force: every mapping bounced    sgt.ko + sgt_edu_linked.ko
#   negative  swiotlb=force, the sync for the CPU left out: MUST fail, with stale data
#   vfio      emulated Intel IOMMU, edu bound to vfio-pci, tests/vfio/sgt_vfio_vmtest (user space)
#
# usage: tools/vmtest.sh [mode ...]        (default: all four, then the fidelity comparison)
# Everything lands in build/vm/: <mode>.log (console), <mode>.cmd (the command to boot it by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/vm
timeout_s=${SGT_VM_TIMEOUT:-90}

tools/deps.sh qemu-system-x86 busybox-static cpio linux-headers-amd64 make gcc perl
kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 | sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p')
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(iommu direct swiotlb negative vfio)
start=$SECONDS
mkdir -p "$out"

# The kernel image of the headers' version and its VFIO modules, from Debian's package, without
# installing it.
vfio_modules="virt/lib/irqbypass.ko drivers/vfio/vfio.ko drivers/vfio/vfio_iommu_type1.ko
	drivers/vfio/vfio_virqfd.ko drivers/vfio/pci/vfio-pci-core.ko drivers/vfio/pci/vfio-pci.ko"
kernel_image() {
	local img=$out/vmlinuz-$kver deb m
	[ -s "$img" ] && [ -d "$out/modules-$kver" ] && return 0
	rm -rf "$out/deb" "$out/modules-$kver" && mkdir -p "$out/deb" "$out/modules-$kver"
	(cd "$out/deb" && { apt-get download "linux-image-$kver-unsigned" >/dev/null 2>&1 ||
		apt-get download "linux-image-$kver" >/dev/null; }) ||
		{ echo "sgt: cannot download linux-image-$kver (apt-get download)" >&2; exit 1; }
	deb=$(ls "$out"/deb/linux-image-*.deb | head -1)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$out/deb" "./boot/vmlinuz-$kver" \
		$(for m in $vfio_modules; do echo "./lib/modules/$kver/kernel/$m"; done)
	for m in $vfio_modules; do
		mv "$out/deb/lib/modules/$kver/kernel/$m" "$out/modules-$kver/"
	done
	mv "$out/deb/boot/vmlinuz-$kver" "$img"
	rm -rf "$out/deb"
}

initramfs() {
	local d=$out/initramfs
	rm -rf "$d" && mkdir -p "$d"/{bin,dev,proc,sys}
	cp /bin/busybox "$d/bin/"
	for a in sh mount dmesg grep sed insmod rmmod cat printf dd poweroff tail sleep echo ls; do
		ln -s busybox "$d/bin/$a"
	done
	cp build/kernel/sgt/sgt.ko build/kernel/linked/sgt_edu_linked.ko \
	   build/kernel/embedded/sgt_edu_embedded.ko build/default/tests/sgt_vfio_vmtest \
	   build/default/bench/sgt_bench_vfio "$d/"
	mkdir -p "$d/vfio"
	for m in $vfio_modules; do
		cp "$out/modules-$kver/$(basename "$m")" "$d/vfio/"
	done
	cp tests/kernel/vm-init.sh "$d/init"
	chmod +x "$d/init"
	(cd "$d" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initramfs.cpio.gz"
}

# The QEMU command of one mode.
vm_cmd() {
	local mode=$1 accel=${SGT_VM_ACCEL:-tcg} mem=256M dev=""
	local append="console=ttyS0 panic=-1 quiet loglevel=4"
	append+=" log_buf_len=1M sgtvm.mode=$mode"
	case $mode in
	iommu | vfio)
		mem=512M
		dev="-device intel-iommu,intremap=on,caching-mode=on"
		append+=" intel_iommu=on sgtvm.flavour=linked" ;;
	direct) append+=" sgtvm.flavour=embedded" ;;
	swiotlb) append+=" swiotlb=force sgtvm.flavour=linked" ;;
	negative) append+=" swiotlb=force sgtvm.flavour=embedded" ;;
	*) echo "sgt: unknown mode $mode" >&2; return 1 ;;
	esac
	echo "qemu-system-x86_64 -accel $accel -machine q35,kernel-irqchip=split -cpu max -smp 1" \
		"-m $mem $dev -device edu -device isa-debug-exit,iobase=0xf4,iosize=0x04" \
		"-nographic -no-reboot -nodefaults -serial stdio -monitor none" \
		"-kernel $out/vmlinuz-$kver -initrd $out/initramfs.cpio.gz -append '$append'"
}

# Boot one VM; its verdict becomes the file <mode>.rc: 33 passed, 3 failed, anything else none.
boot() {
	local mode=$1 t0=$SECONDS rc=0
	vm_cmd "$mode" >"$out/$mode.cmd"
	timeout "$timeout_s" sh "$out/$mode.cmd" </dev/null >"$out/$mode.log" 2>&1 || rc=$?
	echo "$rc $((SECONDS - t0))" >"$out/$mode.rc"
}

# A mode's outcome against what it must be; prints one line, returns non-zero when wrong.
judge() {
	local mode=$1 rc secs fails why=""
	read -r rc secs <"$out/$mode.rc"
	fails=$(grep -o 'SGT-TEST FAIL [a-z-]*' "$out/$mode.log" | awk '{print $3}' | sort -u | tr '\n' ' ')
	if [ "$mode" = negative ]; then
		# The control must fail, and for the one reason it exists: stale data.
		[ "$rc" = 3 ] || why="verdict $rc, not a failure"
		[ "$fails" = "roundtrip-data " ] || why="${why:+$why; }failed checks: ${fails:-none}"
		grep -q 'SGT-UNLOAD ok' "$out/$mode.log" || why="${why:+$why; }no clean unload"
	else
		[ "$rc" = 33 ] || why="verdict $rc (33 passes, 3 fails, 124 timed out, 0 none)"
		[ -z "$fails" ] || why="$why; failed checks: $fails"
	fi
	if [ -z "$why" ]; then
		printf '  %-9s ok (%s s) %s\n' "$mode" "$secs" \
			"$(grep -o 'SGT-RESULT.*' "$out/$mode.log" | head -1)"
		grep -o 'SGT-BENCH.*' "$out/$mode.log" | sed 's/^/            /'
		return 0
	fi
	printf '  %-9s FAILED (%s s): %s\n' "$mode" "$secs" "$why"
	echo "  --- console tail ($out/$mode.log) ---"
	tail -n 30 "$out/$mode.log" | sed 's/^/  | /'
	echo "  --- boot it by hand: sh $out/$mode.cmd   (or: $(cat "$out/$mode.cmd"))"
	return 1
}

kernel_image
tools/kbuild.sh >"$out/kbuild.log" 2>&1 || { cat "$out/kbuild.log"; exit 1; }
# The host's programs: the VFIO test (static, for the initramfs) and the fidelity comparison.
{ [ -f build/default/CMakeCache.txt ] || cmake --preset default >/dev/null; } &&
	cmake --build build/default --target sgt_vfio_vmtest sgt_bench_vfio sgt_fidelity_compare >/dev/null ||
	{ echo "sgt: cannot build the host's test programs" >&2; exit 1; }
initramfs
prep=$((SECONDS - start))
for m in "${modes[@]}"; do
	boot "$m" &
done
wait
status=0
echo "=== sgt kernel system tests ($kver, $(vm_cmd iommu | awk '{print $3}')) ==="
for m in "${modes[@]}"; do
	judge "$m" || status=1
done

# The simulator against the real kernel, for the modes that ran and passed.
fid=()
for m in iommu direct swiotlb; do
	[[ " ${modes[*]} " == *" $m "* ]] && grep -q 'SGT-FID' "$out/$m.log" && fid+=("$m=$out/$m.log")
done
if [ ${#fid[@]} -gt 0 ]; then
	"$root/build/default/tests/sgt_fidelity_compare" "${fid[@]}" || status=1
fi
echo "sgt: kernel system tests $([ $status = 0 ] && echo passed || echo FAILED) in" \
	"$((SECONDS - start)) s (building and preparing: $prep s)"
exit $status
