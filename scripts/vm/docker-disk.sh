#!/usr/bin/env bash
# The VM's /var/lib/docker with the test images already in it, as an ext4 disk image.
# Why: `docker load` of the images (~250 MB) takes about 150 s under software emulation;
# loading them on the host into a private, throw-away dockerd takes seconds, and its data root
# (image/ + overlay2/, portable between engines of one version) is what the guest mounts.
#
# Cached under $CHAOSCTL_CACHE_DIR/vm/docker-<hash of the image ids>.img (one set at a time);
# the VM attaches it copy-on-write, so the cache is never written. Prints the path on stdout.
#   bash scripts/vm/docker-disk.sh IMAGE...
# The private dockerd has its own data root, exec root and socket, no bridge and no iptables
# rules: it touches nothing of the host's engine or network, and is stopped on any exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

[ $# -gt 0 ] || die "usage: docker-disk.sh IMAGE..."
VM_CACHE="$CHAOSCTL_CACHE_DIR/vm"
T0=$(now_ms)

ids=$(docker image inspect -f '{{.Id}}' "$@") || die "missing images: $*"
# The guest's engine version is part of the key: a data root is only portable within one.
key=$(sha256_str "$* $ids $(sha256_file scripts/vm/docker-disk.sh) $(docker version -f '{{.Server.Version}}')" | cut -c1-16)
disk="$VM_CACHE/docker-$key.img"
if [ -s "$disk" ]; then log "vm docker disk: cached $disk"; echo "$disk"; exit 0; fi

as_root mkdir -p "$VM_CACHE"
WORK=$(as_root mktemp -d /var/tmp/chaosctl-vm-docker.XXXXXX)
PRIVATE_PID=""
cleanup() {
  if [ -n "$PRIVATE_PID" ]; then
    as_root kill "$PRIVATE_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do as_root kill -0 "$PRIVATE_PID" 2>/dev/null || break; sleep 0.1; done
    as_root kill -9 "$PRIVATE_PID" 2>/dev/null || true
  fi
  # Its managed containerd and any mount under the work dir go with it.
  # (No mount left is the usual case: grep's status 1 must not end the trap under errexit.)
  local mounts m
  mounts=$(grep -o " $WORK/[^ ]*" /proc/mounts 2>/dev/null | sort -r || true)
  while read -r m; do [ -z "$m" ] || as_root umount -l "$m" || true; done <<<"$mounts"
  # The engine's containerd may still be writing its state for a moment after dockerd exited
  # ("Directory not empty"): retry, and never let the cleanup fail a disk that was built.
  local _
  for _ in $(seq 1 20); do as_root rm -rf "$WORK" 2>/dev/null && return 0; sleep 0.5; done
  log "warning: could not remove $WORK"
}
trap cleanup EXIT

sock="$WORK/docker.sock"
echo '{}' | as_root tee "$WORK/daemon.json" >/dev/null
# unshare --net: a dockerd started with --bridge none deletes the interface docker0 on start
# (moby removes the default bridge when it is disabled), which would break the host engine's
# containers. In a network namespace of its own it can only delete its own.
# Started without the as_root function: `func &` forks a subshell, so $! would be that shell,
# and killing it would orphan dockerd (still holding every inherited descriptor, such as a lock
# its caller holds). unshare execs dockerd, and sudo passes signals on: $! is, or stands for, it.
ROOT=()
[ "$(id -u)" -eq 0 ] || ROOT=(sudo)
"${ROOT[@]}" unshare --net dockerd --config-file "$WORK/daemon.json" --data-root "$WORK/root" --exec-root "$WORK/exec" \
  -H "unix://$sock" --pidfile "$WORK/docker.pid" --storage-driver overlay2 \
  --bridge none --iptables=false --ip-masq=false >"$WORK/dockerd.log" 2>&1 &
PRIVATE_PID=$!
for _ in $(seq 1 120); do docker -H "unix://$sock" info >/dev/null 2>&1 && break; sleep 0.25; done
docker -H "unix://$sock" info >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; die "the private dockerd did not start"; }

# Host engine -> private engine, streamed (no tarball on disk). Read-only for the host's engine.
docker save "$@" | docker -H "unix://$sock" load >&2
loaded=$(docker -H "unix://$sock" image inspect -f '{{.Id}}' "$@")
[ "$loaded" = "$ids" ] || die "the private engine holds other image ids than the host's"

as_root kill "$PRIVATE_PID"
wait "$PRIVATE_PID" 2>/dev/null || true
PRIVATE_PID=""

# Only the image store and the layers: the guest's engine makes its own networks, swarm, etc.
mkdir "$WORK/disk"
as_root mv "$WORK/root/image" "$WORK/root/overlay2" "$WORK/disk/"
size_mb=$(( $(as_root du -sm "$WORK/disk" | cut -f1) * 2 + 2048 )) # room for the suites' containers
find "$VM_CACHE" -maxdepth 1 -name 'docker-*.img' -delete # one set at a time
as_root mkfs.ext4 -q -F -L chaosctl-docker -d "$WORK/disk" "$disk.part" "${size_mb}M" >&2
as_root mv "$disk.part" "$disk"
log "vm docker disk: fresh $disk ($* loaded, ${size_mb} MB) in $(secs_since "$T0")"
echo "$disk"
