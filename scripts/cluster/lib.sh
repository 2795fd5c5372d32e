# Shared by scripts/cluster/{up,down,node}.sh (sourced, never executed).
# A test cluster is N dockerd engines on this machine, each in its own network
# namespace (no default route: nothing leaves the machine), UTS namespace (own
# hostname) and mount namespace (its own socket bind-mounted at /run/docker.sock),
# joined by a host bridge (docs/multinode.md, "How it is built (and why)").
# Every name below is derived from the cluster NAME, so clusters of different
# NAMEs run side by side and down.sh finds everything even without state files.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

: "${CLUSTER_RUN_ROOT:=/run/chaosctl-cluster}"        # sockets, pids, logs, env files
: "${CLUSTER_DATA_ROOT:=/var/lib/chaosctl-cluster}"   # engines' data-roots (images, layers)
CLUSTER_LOCK=$CLUSTER_RUN_ROOT/.lock                  # slot allocation, one up.sh at a time
CLUSTER_MAX_SLOTS=64

# NAME: a lowercase letter then up to 7 letters/digits, so every interface name
# fits Linux's 15 characters: bridge "cc-NAME", host veth ends "cc-NAME-I".
cluster_check_name() {
  [[ $1 =~ ^[a-z][a-z0-9]{0,7}$ ]] \
    || die "cluster name '$1': a lowercase letter then up to 7 lowercase letters/digits"
}

cluster_names() { # NAME: sets the derived names used everywhere
  CL_NAME=$1
  CL_BRIDGE=cc-$1
  CL_RUN=$CLUSTER_RUN_ROOT/$1
  CL_DATA=$CLUSTER_DATA_ROOT/$1
  CL_ENV=$CL_RUN/env
}
node_netns() { printf 'ccl-%s-%s' "$CL_NAME" "$1"; }
node_veth() { printf 'cc-%s-%s' "$CL_NAME" "$1"; }      # host side; the node side is eth0
node_dir() { printf '%s/%s' "$CL_RUN" "$1"; }
node_socket() { printf '%s/%s/docker.sock' "$CL_RUN" "$1"; }
node_pidfile() { printf '%s/%s/dockerd.pid' "$CL_RUN" "$1"; }
node_hostname() { printf '%s-%s' "$CL_NAME" "$1"; }
# Containers of node I go under this cgroup, so down.sh can reap any leftover by cgroup.
node_cgroup() { printf 'chaosctl-%s-%s' "$CL_NAME" "$1"; }

# Addresses from the cluster's slot K (0..63): the bridge's subnet 10.213.K.0/24,
# host side .1, node I at .(10+I); node I's docker0 (--bip) 10.(220+I).K.1/24.
# A distinct --bip per node, as the recipe says (a dockerd in a fresh netns must
# never touch the host's docker0).
slot_subnet() { printf '10.213.%s.0/24' "$1"; }
slot_host_addr() { printf '10.213.%s.1' "$1"; }
slot_node_addr() { printf '10.213.%s.%s' "$1" $((10 + $2)); }
slot_node_bip() { printf '10.%s.%s.1/24' $((220 + $2)) "$1"; }

node_dockerd_pid() { # I -> pid of node I's dockerd if it runs, else nothing
  local f; f=$(node_pidfile "$1")
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
  return 0
}

node_docker() { local i=$1; shift; docker -H "unix://$(node_socket "$i")" "$@"; }
node_answers() { node_docker "$1" info >/dev/null 2>&1; }

# wait_until SECONDS WHAT cmd...: polls cmd every 0.2 s; dies with WHAT on timeout.
wait_until() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(now_ms) + secs * 1000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

# Starts node I's engine, detached (setsid), in its namespaces. Needs the netns.
node_start() {
  local i=$1 dir ns
  dir=$(node_dir "$i"); ns=/run/netns/$(node_netns "$i")
  [ -e "$ns" ] || die "netns $ns is missing (cluster $CL_NAME not up?)"
  [ -z "$(node_dockerd_pid "$i")" ] || { log "    node $i: dockerd already runs"; return 0; }
  mkdir -p "$dir" "$CL_DATA/$i"
  # Runtime state of a previous engine (its containerd's pidfile and socket) makes a new one
  # wait for a containerd that is gone (after `node.sh kill`): start from a fresh exec-root.
  rm -rf "$(node_socket "$i")" "$dir/exec"
  # nsenter, not `ip netns exec` (that remounts /sys and dockerd then fails with
  # "Devices cgroup isn't mounted"). unshare --mount --propagation slave: our
  # /run/docker.sock bind mount stays private to the node, while the host's
  # unmounts (e.g. `ip netns del` of other clusters) still reach it.
  # 9>&-: the engine must not inherit up.sh's lock.
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid \
    nsenter --net="$ns" -- unshare --uts --mount --propagation slave -- \
    bash "$(dirname "${BASH_SOURCE[0]}")/node-init.sh" "$(node_hostname "$i")" "$(node_socket "$i")" -- \
      --data-root "$CL_DATA/$i" --exec-root "$dir/exec" \
      -H "unix://$(node_socket "$i")" --pidfile "$(node_pidfile "$i")" \
      --bip "$(slot_node_bip "$(cat "$CL_RUN/slot")" "$i")" \
      --cgroup-parent "/$(node_cgroup "$i")" --shutdown-timeout 3 \
      >>"$dir/dockerd.log" 2>&1 </dev/null 9>&- &
}

# Stops node I's engine: SIGTERM (it stops its containers), SIGKILL after SECS.
node_stop() {
  local i=$1 secs=${2:-20} pid
  pid=$(node_dockerd_pid "$i")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(now_ms) + secs * 1000 ))
  while [ -d "/proc/$pid" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.2; done
  if [ -d "/proc/$pid" ]; then
    log "    node $i: dockerd $pid ignored SIGTERM for ${secs}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  while [ -d "/proc/$pid" ]; do sleep 0.1; done
}

# Reaps whatever of node I still runs: processes in its cgroup (containers) and
# in its netns (containerd, shims). Both are ours by construction.
node_reap() {
  local i=$1 cg pids
  cg=$(node_cgroup "$i")
  pids=$( { cat /sys/fs/cgroup/*/"$cg"/*/cgroup.procs /sys/fs/cgroup/*/"$cg"/cgroup.procs 2>/dev/null
            [ ! -e "/run/netns/$(node_netns "$i")" ] || ip netns pids "$(node_netns "$i")" 2>/dev/null; } | sort -u)
  if [ -n "$pids" ]; then
    log "    node $i: reaping $(echo "$pids" | wc -w) leftover process(es)"
    kill -KILL $pids 2>/dev/null || true
    sleep 0.3
  fi
  local d
  for d in /sys/fs/cgroup/*/"$cg"; do
    [ -d "$d" ] || continue
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rmdir "$d" 2>/dev/null || true
  done
}
