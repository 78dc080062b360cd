#!/bin/sh
# The init of the system-test VMs (tools/vmtest.sh): loads the test driver in the mode the kernel
# command line names, unloads it, and writes the verdict to QEMU's isa-debug-exit port (0xf4):
# 0x10 (QEMU exits 33) when every check passed, the unload was clean and the kernel log has no
# warning or oops; 0x01 (QEMU exits 3) otherwise. A VM that ends any other way has no verdict.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

arg() { sed -n "s/.*sgtvm\.$1=\([a-z]*\).*/\1/p" /proc/cmdline; }
verdict() {
	printf "$1" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}
mode=$(arg mode)
flavour=$(arg flavour)
echo "SGT-VM mode=$mode flavour=$flavour"

ok=1
if [ "$mode" = vfio ]; then
	# VFIO's modules from Debian's package, edu bound to vfio-pci, the test in user space.
	for m in irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci; do
		insmod /vfio/$m.ko || ok=0
	done
	echo 1234 11e8 >/sys/bus/pci/drivers/vfio-pci/new_id || ok=0
	echo 2 >/proc/sys/vm/nr_hugepages
	/sgt_vfio_vmtest >/vfio.out 2>&1 || ok=0
	cat /vfio.out
	grep -q 'SGT-RESULT pass=[0-9]* fail=0 ' /vfio.out || ok=0
	# the timings (bench/bench_vfio.c), once the test has passed
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/device)" = 0x11e8 ] && addr=${d##*/}
	done
	[ $ok = 1 ] && { /sgt_bench_vfio "$addr" || ok=0; }
else
	if [ "$flavour" = linked ]; then
		insmod /sgt.ko || ok=0
	fi
	insmod /sgt_edu_$flavour.ko mode=$mode || ok=0
	rmmod sgt_edu_$flavour || ok=0
	if [ "$flavour" = linked ]; then
		rmmod sgt || ok=0
	fi
fi

dmesg >/kmsg
if [ "$mode" != vfio ]; then
	grep -o 'SGT-.*' /kmsg
	grep -q 'SGT-RESULT pass=[0-9]* fail=0 ' /kmsg || ok=0
	grep -q 'SGT-UNLOAD ok' /kmsg || ok=0
fi
if grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|sgt: debug check failed' /kmsg; then
	echo "SGT-VM the kernel log has a warning or an oops"
	ok=0
fi
if [ $ok = 1 ]; then
	echo "SGT-VM verdict: pass"
	verdict '\020'
fi
echo "SGT-VM verdict: fail"
verdict '\001'
