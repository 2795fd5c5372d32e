#!/usr/bin/env bash
# Runs INSIDE a node's namespaces (started by lib.sh node_start):
#   node-init.sh HOSTNAME SOCKET -- DOCKERD_ARGS...
# Sets the node's hostname (its own UTS namespace), starts dockerd, and once the
# engine's socket exists bind-mounts it at /run/docker.sock in this (private)
# mount namespace: a container of this engine that mounts /var/run/docker.sock
# then reaches its own node's engine, not the host's. Exits when dockerd does.
set -euo pipefail
host=$1 sock=$2; shift 3
hostname "$host"
dockerd "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
for _ in $(seq 1 300); do
  [ -S "$sock" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "node-init: dockerd exited during start-up" >&2; exit 1; }
  sleep 0.1
done
[ -S "$sock" ] || { echo "node-init: no socket $sock after 30 s" >&2; kill -TERM "$pid"; exit 1; }
# The target must exist to bind over it (only when no host engine runs: an empty
# file, which a later host dockerd replaces with its socket).
[ -e /run/docker.sock ] || : >/run/docker.sock
mount --bind "$sock" /run/docker.sock
echo "node-init: $host: dockerd $pid, $sock bound at /run/docker.sock" >&2
rc=0; wait "$pid" || rc=$?
# A trapped signal interrupts `wait`; wait again for dockerd's real exit.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || rc=$?; done
exit "$rc"
