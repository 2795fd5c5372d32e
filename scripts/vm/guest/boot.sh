#!/bin/bash
# PID 1 of the lane's VM (kernel cmdline init=/sbin/chaosctl-vm-boot), baked into the cached
# root disk. Deliberately tiny and stable: it mounts the per-run disk (/dev/vdb, built by
# scripts/vm/run.sh) and hands over to the init that disk carries (scripts/vm/guest/init.sh),
# so changing the lane's run logic never rebuilds the VM. Any failure powers off with a
# message; the host reads it from the console.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
  echo "@@chaosctl-vm boot-failed $*" >/dev/console
  sync
  echo o >/proc/sysrq-trigger
  sleep 30
}

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
echo 1 >/proc/sys/kernel/sysrq

for _ in $(seq 1 50); do [ -b /dev/vdb ] && break; sleep 0.1; done
[ -b /dev/vdb ] || die "no run disk /dev/vdb"
mount -t ext4 /dev/vdb /mnt/run || die "cannot mount the run disk /dev/vdb"
[ -x /mnt/run/vm/init.sh ] || die "the run disk has no vm/init.sh"
exec /mnt/run/vm/init.sh
