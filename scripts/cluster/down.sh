#!/usr/bin/env bash
# Removes test cluster NAME (made by scripts/cluster/up.sh) and everything it made:
# engines (and any container/shim left of them), network namespaces, veths, the
# bridge, its iptables FORWARD rule, data and run directories. Idempotent: it
# derives every name from NAME, so it also cleans up after a crashed up.sh.
#   bash scripts/cluster/down.sh NAME
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T0=$(now_ms)
[ $# -eq 1 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cluster_check_name "$1"
[ "$(id -u)" -eq 0 ] || die "run as root"
cluster_names "$1"

# Nodes: those up.sh recorded, plus any netns of ours that exists (a crashed up.sh).
max=$(cat "$CL_RUN/nodes" 2>/dev/null || echo 0)
for ns in $(ip netns list | awk '{print $1}' | grep -E "^ccl-$CL_NAME-[0-9]+$" || true); do
  i=${ns##*-}; [ "$i" -le "$max" ] || max=$i
done

# Engines first, all at once. SIGTERM lets each stop its containers; a swarm
# engine's shutdown can take long (raft), and nothing of it is kept, so SIGKILL
# after ${CLUSTER_DOWN_GRACE:-5} s and reap what remains by cgroup and netns.
pids=()
for i in $(seq 1 "$max"); do node_stop "$i" "${CLUSTER_DOWN_GRACE:-5}" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || true; done
log "    engines stopped ($(secs_since "$T0"))"
for i in $(seq 1 "$max"); do
  node_reap "$i"
  ip link del "$(node_veth "$i")" 2>/dev/null || true
  ip netns del "$(node_netns "$i")" 2>/dev/null || true
done
while iptables -C FORWARD -i "$CL_BRIDGE" -o "$CL_BRIDGE" -j ACCEPT 2>/dev/null; do
  iptables -D FORWARD -i "$CL_BRIDGE" -o "$CL_BRIDGE" -j ACCEPT
done
ip link del "$CL_BRIDGE" 2>/dev/null || true
log "    network removed ($(secs_since "$T0"))"
# The engines' own mounts lived in their mount namespaces, gone with them; the
# data tmpfs (up.sh) is ours. A leftover under it makes rm fail loudly rather
# than delete through a mount.
if mountpoint -q "$CL_DATA"; then umount "$CL_DATA" 2>/dev/null || umount -l "$CL_DATA"; fi
if grep -qF " $CL_DATA/" /proc/mounts; then
  die "mounts under $CL_DATA remain (see /proc/mounts); not deleting"
fi
rm -rf "$CL_DATA"
# The run directory holds the slot: released last, under up.sh's allocation lock.
mkdir -p "$CLUSTER_RUN_ROOT"
exec 8>>"$CLUSTER_LOCK"
flock -w 120 8 || die "timed out waiting for $CLUSTER_LOCK"
rm -rf "$CL_RUN"
log "down.sh: cluster $CL_NAME removed in $(secs_since "$T0")"
