#!/usr/bin/env bash
# One node's engine of test cluster NAME (scripts/cluster/up.sh):
#   bash scripts/cluster/node.sh NAME I stop    # SIGTERM its dockerd (stops its containers), wait
#   bash scripts/cluster/node.sh NAME I kill    # SIGKILL its dockerd (containers keep running)
#   bash scripts/cluster/node.sh NAME I start   # start it again (same netns, hostname, data: rejoins);
#                                              # leftovers of a killed engine are reaped first
# A stopped node is what a failed machine looks like to the managers (Down ~6 s after its
# engine is gone: up.sh sets a 2 s dispatcher heartbeat).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ $# -eq 3 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cluster_check_name "$1"
cluster_names "$1"
i=$2 action=$3
[ -f "$CL_ENV" ] || die "cluster $1 is not up ($CL_ENV missing)"
[[ $i =~ ^[1-9]$ ]] && [ "$i" -le "$(cat "$CL_RUN/nodes")" ] || die "no node $i in cluster $1"
case $action in
  stop) node_stop "$i" 20 ;;
  kill) pid=$(node_dockerd_pid "$i"); [ -z "$pid" ] || { kill -KILL "$pid"; while [ -d "/proc/$pid" ]; do sleep 0.1; done; } ;;
  start)
    # What a killed engine left (containerd, shims, containers) goes first, as a
    # reboot would take it: the new engine starts clean in a fresh mount namespace.
    [ -n "$(node_dockerd_pid "$i")" ] || node_reap "$i"
    node_start "$i"
    wait_until "${CLUSTER_STEP_TIMEOUT:-90}" "node $i's dockerd to answer" node_answers "$i"
    # Keep the env file's pid current.
    sed -i "s/^NODE_${i}_PID=.*/NODE_${i}_PID=$(node_dockerd_pid "$i")/" "$CL_ENV" ;;
  *) die "action must be stop, kill or start (got '$action')" ;;
esac
log "node.sh: $1 node $i: $action done"
