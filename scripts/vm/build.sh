#!/usr/bin/env bash
# Build (or reuse) the VM of the real-kernel lane: a stock Debian kernel + initrd and a root
# disk image with docker.io, iproute2, iptables, busybox-static and this machine's node,
# all from Debian's packages (docs/vm-lane.md). Nothing project-specific goes in here: the
# project and the test images travel on a per-run disk (scripts/vm/run.sh), so this is
# rebuilt only when its own inputs change.
#
# Cached under $CHAOSCTL_CACHE_DIR/vm/<hash> (default /var/cache/chaosctl/vm/<hash>), keyed by
# a hash of: this script, the guest boot script, the package list, the Debian suite and
# mirror, and the node binary. Prints the cache directory on stdout (the last line);
# everything else goes to stderr.
#   bash scripts/vm/build.sh            # build if needed
#   CHAOSCTL_VM_REBUILD=1 bash ...      # force a fresh build (timing)
# Env: CHAOSCTL_CACHE_DIR, CHAOSCTL_DEBIAN_MIRROR, CHAOSCTL_VM_ROOT_SIZE (4G).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/images.sh # debian_mirror, host_suite, node_binary (read-only use)

# Packages of the guest, beyond debootstrap's minbase. No recommends: every one is named.
VM_PACKAGES=(linux-image-amd64 docker.io iproute2 iptables busybox-static kmod e2fsprogs procps)
BOOT_SCRIPT=scripts/vm/guest/boot.sh
: "${CHAOSCTL_VM_ROOT_SIZE:=4G}"
VM_CACHE="$CHAOSCTL_CACHE_DIR/vm"

T0=$(now_ms)

inputs_hash() {
  local suite mirror
  suite=$(host_suite); mirror=$(debian_mirror "$suite")
  sha256_str "$(sha256_file scripts/vm/build.sh) $(sha256_file "$BOOT_SCRIPT") ${VM_PACKAGES[*]} $suite $mirror \
    $(sha256_file "$(node_binary)") $CHAOSCTL_VM_ROOT_SIZE"
}

need_host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
  [ ${#missing[@]} -eq 0 ] && return
  log "    installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# Everything mounted into the chroot, unmounted on any exit (a failed build leaves no mounts).
CHROOT_MOUNTS=()
BUILD_DIR=""
cleanup() {
  local m i
  for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${CHROOT_MOUNTS[$i]}
    as_root umount -l "$m" 2>/dev/null || true
  done
  [ -z "$BUILD_DIR" ] || as_root rm -rf "$BUILD_DIR"
}
trap cleanup EXIT

chroot_mount() { # type-or-bind source target
  as_root mkdir -p "$3"
  if [ "$1" = bind ]; then as_root mount --bind "$2" "$3"; else as_root mount -t "$1" "$2" "$3"; fi
  CHROOT_MOUNTS+=("$3")
}

in_chroot() { as_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 chroot "$ROOT" "$@"; }

build_rootfs() {
  local suite mirror
  suite=$(host_suite); mirror=$(debian_mirror "$suite")
  log "    debootstrap $suite (minbase) from $mirror"
  as_root debootstrap --variant=minbase "$suite" "$ROOT" "$mirror" >"$BUILD_DIR/debootstrap.log" 2>&1 \
    || { tail -n 30 "$BUILD_DIR/debootstrap.log" >&2; die "debootstrap failed"; }

  # No service may start inside the chroot (docker.io and containerd try to).
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$ROOT/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod +x "$ROOT/usr/sbin/policy-rc.d"
  # A small initrd: only what mounting the root disk needs (boot is emulated, every MB counts).
  as_root mkdir -p "$ROOT/etc/initramfs-tools"
  # (conf.d and the modules list are ours; --force-confold keeps them when the package arrives).
  as_root mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
  printf 'MODULES=list\nCOMPRESS=gzip\n' | as_root tee "$ROOT/etc/initramfs-tools/conf.d/chaosctl-vm" >/dev/null
  printf 'virtio_pci\nvirtio_blk\next4\ncrc32c_generic\n' | as_root tee "$ROOT/etc/initramfs-tools/modules" >/dev/null
  chroot_mount proc proc "$ROOT/proc"
  chroot_mount sysfs sysfs "$ROOT/sys"
  chroot_mount bind /dev "$ROOT/dev"

  log "    apt-get install ${VM_PACKAGES[*]} (in the chroot)"
  { in_chroot apt-get update -q && in_chroot apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${VM_PACKAGES[@]}"; } \
    >"$BUILD_DIR/apt.log" 2>&1 || { tail -n 30 "$BUILD_DIR/apt.log" >&2; die "apt-get install in the chroot failed"; }
  in_chroot apt-get clean >/dev/null

  for m in "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"; do as_root umount "$m"; done
  CHROOT_MOUNTS=()
  as_root rm -f "$ROOT/usr/sbin/policy-rc.d"

  as_root install -D -m 0755 "$(node_binary)" "$ROOT/usr/local/bin/node"
  as_root install -D -m 0755 "$BOOT_SCRIPT" "$ROOT/sbin/chaosctl-vm-boot"
  # Smaller disk: docs, manuals, locales and apt lists are never read in the guest.
  as_root rm -rf "$ROOT"/usr/share/{doc,man,info,locale} "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/log/*
  echo chaosctl-vm | as_root tee "$ROOT/etc/hostname" >/dev/null
  printf '127.0.0.1 localhost chaosctl-vm\n' | as_root tee "$ROOT/etc/hosts" >/dev/null
  as_root mkdir -p "$ROOT/mnt/run" "$ROOT/etc/docker"
  # json-file logs (the tests read guard logs), overlay2 on the ext4 root.
  printf '{"storage-driver":"overlay2","log-driver":"json-file"}\n' | as_root tee "$ROOT/etc/docker/daemon.json" >/dev/null
}

pack() { # -> files in $BUILD_DIR/out
  local out=$BUILD_DIR/out kver
  mkdir -p "$out"
  kver=$(basename "$(ls -d "$ROOT"/lib/modules/* | head -n 1)")
  [ -f "$ROOT/boot/vmlinuz-$kver" ] && [ -f "$ROOT/boot/initrd.img-$kver" ] || die "no kernel/initrd for $kver in the rootfs"
  as_root cp "$ROOT/boot/vmlinuz-$kver" "$out/vmlinuz"
  as_root cp "$ROOT/boot/initrd.img-$kver" "$out/initrd.img"
  [ -n "$(find "$ROOT/lib/modules/$kver" -name 'sch_netem.ko*' -print -quit)" ] || die "the guest kernel $kver has no sch_netem module"
  log "    mkfs.ext4 -d ($(as_root du -sh "$ROOT" | cut -f1) into $CHAOSCTL_VM_ROOT_SIZE)"
  as_root mkfs.ext4 -q -F -L chaosctl-vm -d "$ROOT" "$out/rootfs.img" "$CHAOSCTL_VM_ROOT_SIZE" >&2
  {
    echo "kernel=$kver"
    echo "node=$("$(node_binary)" --version)"
    echo "docker=$(as_root chroot "$ROOT" dpkg-query -W -f='${Version}' docker.io)"
    echo "packages=${VM_PACKAGES[*]}"
    echo "built=$(date -u +%FT%TZ)"
  } | as_root tee "$out/manifest" >/dev/null
}

main() {
  local hash dir
  need_host_tools
  hash=$(inputs_hash | cut -c1-16)
  dir="$VM_CACHE/$hash"
  if [ -z "${CHAOSCTL_VM_REBUILD:-}" ] && [ -f "$dir/manifest" ]; then
    log "vm build: cached $dir ($(grep '^kernel=' "$dir/manifest")) in $(secs_since "$T0")"
    echo "$dir"; return
  fi
  as_root mkdir -p "$VM_CACHE"
  # One build at a time; a second caller waits, then finds the cache.
  exec 8>>"$VM_CACHE/.build.lock"
  flock -w 1800 8 || die "timed out waiting for another VM build ($VM_CACHE/.build.lock)"
  if [ -z "${CHAOSCTL_VM_REBUILD:-}" ] && [ -f "$dir/manifest" ]; then echo "$dir"; return; fi
  BUILD_DIR=$(as_root mktemp -d "$VM_CACHE/.build.XXXXXX")
  ROOT=$BUILD_DIR/root
  step "vm rootfs (debootstrap + packages)" build_rootfs
  step "vm disk image" pack
  as_root rm -rf "$dir"
  as_root mv "$BUILD_DIR/out" "$dir"
  # Older builds are dead weight (about 1 GB each): keep only this one.
  find "$VM_CACHE" -mindepth 1 -maxdepth 1 -type d -not -name "$hash" -not -name '.build.*' -exec rm -rf {} +
  log "vm build: fresh $dir ($(grep '^kernel=' "$dir/manifest")) in $(secs_since "$T0")"
  echo "$dir"
}

main "$@"
