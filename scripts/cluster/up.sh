#!/usr/bin/env bash
# A real multi-node Docker Swarm on this machine, for tests:
#   bash scripts/cluster/up.sh NAME [NODES=3] [--managers M=1]
# NAME: a lowercase letter then up to 7 lowercase letters/digits (derives every
# interface, netns, address and directory, so several clusters run side by side).
# Node I (1..NODES) is a dockerd in netns ccl-NAME-I with hostname NAME-I, address
# 10.213.K.(10+I) on bridge cc-NAME (host side 10.213.K.1), socket
# /run/chaosctl-cluster/NAME/I/docker.sock. Node 1 inits the swarm; nodes 2..M join
# as managers, the rest as workers. local/web:1, local/chaosctl:dev and local/chaosctl-stress:1 are loaded
# into every node (override with CLUSTER_IMAGES="img ...").
# The swarm's dispatcher heartbeat is CLUSTER_HEARTBEAT (default 2s; Swarm's own is 5s): a node
# whose engine is gone or cut off is marked Down after about three missed heartbeats (~6 s).
# Prints the env file /run/chaosctl-cluster/NAME/env on stdout (logs on stderr).
# On any failure or timeout it removes what it made (down.sh NAME) and exits non-zero.
# Undo: bash scripts/cluster/down.sh NAME
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T0=$(now_ms)

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
args=() managers=1
while [ $# -gt 0 ]; do
  case $1 in
    --managers) [ $# -ge 2 ] || usage; managers=$2; shift 2 ;;
    --managers=*) managers=${1#*=}; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || usage
NAME=${args[0]} NODES=${args[1]:-3}
cluster_check_name "$NAME"
[[ $NODES =~ ^[1-9]$ ]] || die "NODES must be 1..9 (got '$NODES')"
[[ $managers =~ ^[1-9]$ ]] && [ "$managers" -le "$NODES" ] || die "--managers must be 1..NODES (got '$managers')"
[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, bridges, iptables)"
: "${CLUSTER_IMAGES:=$WEB_IMAGE $APP_IMAGE $STRESS_IMAGE}"
: "${CLUSTER_STEP_TIMEOUT:=90}"   # seconds for each wait below
: "${CLUSTER_HEARTBEAT:=2s}"
cluster_names "$NAME"
for cmd in ip iptables nsenter unshare dockerd docker flock; do
  command -v "$cmd" >/dev/null || die "$cmd not found (packages iproute2, iptables, util-linux, docker.io: bash scripts/swarm-up.sh)"
done
engine_answers || die "the host's Docker engine does not answer (bash scripts/swarm-up.sh); its images are loaded into the nodes"
for img in $CLUSTER_IMAGES; do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing on the host: bash scripts/swarm-up.sh"
done

# ---- claim NAME and a slot (subnet), under a machine-wide lock -----------------
mkdir -p "$CLUSTER_RUN_ROOT" "$CLUSTER_DATA_ROOT"
exec 8>>"$CLUSTER_LOCK"
flock -w 120 8 || die "timed out waiting for $CLUSTER_LOCK (another up.sh/down.sh)"
[ ! -e "$CL_RUN" ] && ! ip link show "$CL_BRIDGE" >/dev/null 2>&1 \
  || die "cluster $NAME exists (or left overs of it): bash scripts/cluster/down.sh $NAME"

created=""
on_exit() {
  local rc=$?
  [ "$rc" -ne 0 ] && [ -n "$created" ] || exit "$rc"
  log "up.sh: failed (exit $rc) after $(secs_since "$T0"); removing cluster $NAME"
  for i in $(seq 1 "$NODES"); do
    [ ! -f "$(node_dir "$i")/dockerd.log" ] || { log "---- node $i dockerd.log (tail)"; tail -n 8 "$(node_dir "$i")/dockerd.log" >&2; }
  done
  exec 8>&-
  bash "$(dirname "$0")/down.sh" "$NAME" >&2 || true
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

used_slots=" $( (cat "$CLUSTER_RUN_ROOT"/*/slot 2>/dev/null || true) | tr "\n" " ") "
routes=$(ip -4 route show)
slot=""
start=$(( $(cksum <<<"$NAME" | cut -d' ' -f1) % CLUSTER_MAX_SLOTS ))
for n in $(seq 0 $((CLUSTER_MAX_SLOTS - 1))); do
  k=$(( (start + n) % CLUSTER_MAX_SLOTS ))
  case $used_slots in *" $k "*) continue ;; esac
  grep -q "^$(slot_subnet "$k") " <<<"$routes" && continue   # in use by something else
  slot=$k; break
done
[ -n "$slot" ] || die "no free slot: $CLUSTER_MAX_SLOTS clusters run already?"
created=1
mkdir -p "$CL_RUN" "$CL_DATA"
echo "$slot" >"$CL_RUN/slot"
echo "$NODES" >"$CL_RUN/nodes"
# Who started it (test/helpers/cluster.ts): a later test run removes it once that process is gone.
[ -z "${CLUSTER_OWNER_PID:-}" ] || echo "$CLUSTER_OWNER_PID" >"$CL_RUN/owner"
docker0_before=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)

net() {
  local host; host=$(slot_host_addr "$slot")
  ip link add "$CL_BRIDGE" type bridge
  ip addr add "$host/24" dev "$CL_BRIDGE"
  ip link set "$CL_BRIDGE" up
  # Docker sets the FORWARD policy to DROP and bridged frames pass FORWARD
  # (br_netfilter): without this, node-to-node traffic (swarm joins) times out.
  iptables -I FORWARD -i "$CL_BRIDGE" -o "$CL_BRIDGE" -j ACCEPT
  local i ns veth
  for i in $(seq 1 "$NODES"); do
    ns=$(node_netns "$i") veth=$(node_veth "$i")
    ip netns add "$ns"
    ip link add "$veth" type veth peer name "${veth}n"
    ip link set "${veth}n" netns "$ns"
    ip link set "$veth" master "$CL_BRIDGE" up
    ip -n "$ns" link set "${veth}n" name eth0
    ip -n "$ns" addr add "$(slot_node_addr "$slot" "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # No default route: nothing a node runs can leave the machine.
  done
  log "    bridge $CL_BRIDGE $host/24, netns $(node_netns 1)..$NODES"
}
step "network (slot $slot, $(slot_subnet "$slot"))" net

# The engines' data-roots live on a tmpfs: image loads are quick on a busy
# disk, and down.sh frees ~400 MB a node with one umount instead of deleting
# tens of thousands of files (40 s under load). The data root is made a shared
# mount once, so the umount also reaches the copies that node mount namespaces
# (slaves, created meanwhile by other clusters) hold.
data_fs() {
  if ! mountpoint -q "$CLUSTER_DATA_ROOT"; then
    mount --bind "$CLUSTER_DATA_ROOT" "$CLUSTER_DATA_ROOT"
    mount --make-shared "$CLUSTER_DATA_ROOT"
  fi
  local size=$((NODES * 1024))m
  mount -t tmpfs -o "size=${CLUSTER_TMPFS_SIZE:-$size},mode=0711" "ccl-$NAME" "$CL_DATA"
}
data_fs
exec 8>&-   # engines start in parallel with other clusters' up.sh

engines() {
  local i
  for i in $(seq 1 "$NODES"); do node_start "$i"; done
  for i in $(seq 1 "$NODES"); do
    wait_until "$CLUSTER_STEP_TIMEOUT" "node $i's dockerd to answer on $(node_socket "$i") (log: $(node_dir "$i")/dockerd.log)" node_answers "$i"
  done
  if [ "$docker0_before" = yes ] && ! ip link show docker0 >/dev/null 2>&1; then
    die "the host's docker0 vanished while the node engines started"
  fi
}
step "engines ($NODES dockerd)" engines

# docker save once (cached by image ids), docker load into every node in parallel.
images() {
  local ids tar pids=() i
  ids=$(docker image inspect -f '{{.Id}}' $CLUSTER_IMAGES | tr '\n' ' ')
  tar=$CLUSTER_DATA_ROOT/.images-$(sha256_str "$CLUSTER_IMAGES $ids" | cut -c1-16).tar
  if [ ! -s "$tar" ]; then
    exec 7>>"$CLUSTER_DATA_ROOT/.images.lock"
    flock -w 300 7 || die "timed out waiting for $CLUSTER_DATA_ROOT/.images.lock"
    if [ ! -s "$tar" ]; then
      # shellcheck disable=SC2086
      docker save -o "$tar.tmp.$$" $CLUSTER_IMAGES
      mv "$tar.tmp.$$" "$tar"
      # Older tarballs go once no up.sh can still be about to read them.
      find "$CLUSTER_DATA_ROOT" -maxdepth 1 -name '.images-*.tar' ! -path "$tar" -mmin +15 -delete
      log "    saved $CLUSTER_IMAGES ($(du -m "$tar" | cut -f1) MB)"
    fi
    exec 7>&-
  fi
  for i in $(seq 1 "$NODES"); do
    timeout "$CLUSTER_STEP_TIMEOUT" docker -H "unix://$(node_socket "$i")" load -q -i "$tar" >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "docker load into node $((i + 1)) failed or took over ${CLUSTER_STEP_TIMEOUT}s"
  done
}
step "images ($CLUSTER_IMAGES)" images

swarm() {
  local a1 wt mt i pids=()
  a1=$(slot_node_addr "$slot" 1)
  timeout "$CLUSTER_STEP_TIMEOUT" docker -H "unix://$(node_socket 1)" swarm init \
    --advertise-addr "$a1" --listen-addr "$a1:2377" --dispatcher-heartbeat "$CLUSTER_HEARTBEAT" >/dev/null || die "swarm init on node 1 failed"
  mt=$(node_docker 1 swarm join-token -q manager)
  wt=$(node_docker 1 swarm join-token -q worker)
  join() { # I TOKEN
    local a; a=$(slot_node_addr "$slot" "$1")
    timeout "$CLUSTER_STEP_TIMEOUT" docker -H "unix://$(node_socket "$1")" swarm join \
      --token "$2" --advertise-addr "$a" --listen-addr "$a:2377" "$a1:2377" >/dev/null
  }
  # Managers one by one (each raft membership change settles first); workers at once.
  for i in $(seq 2 "$managers"); do join "$i" "$mt" || die "node $i: swarm join (manager) failed"; done
  for i in $(seq $((managers + 1)) "$NODES"); do join "$i" "$wt" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || die "a worker's swarm join failed"; done
  all_ready() { [ "$(node_docker 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" -eq "$NODES" ]; }
  wait_until "$CLUSTER_STEP_TIMEOUT" "$NODES nodes Ready" all_ready
}
step "swarm (1 init, $((managers - 1)) manager(s) + $((NODES - managers)) worker(s) join)" swarm

write_env() {
  local i f=$CL_ENV.tmp
  {
    echo "CLUSTER_NAME=$NAME"
    echo "CLUSTER_NODES=$NODES"
    echo "CLUSTER_MANAGERS=$managers"
    echo "CLUSTER_BRIDGE=$CL_BRIDGE"
    echo "CLUSTER_SUBNET=$(slot_subnet "$slot")"
    echo "CLUSTER_HOST_ADDR=$(slot_host_addr "$slot")"
    for i in $(seq 1 "$NODES"); do
      echo "NODE_${i}_HOSTNAME=$(node_hostname "$i")"
      echo "NODE_${i}_ADDR=$(slot_node_addr "$slot" "$i")"
      echo "NODE_${i}_SOCKET=$(node_socket "$i")"
      echo "NODE_${i}_ID=$(node_docker "$i" info -f '{{.Swarm.NodeID}}')"
      echo "NODE_${i}_ROLE=$([ "$i" -le "$managers" ] && echo manager || echo worker)"
      echo "NODE_${i}_NETNS=$(node_netns "$i")"
      echo "NODE_${i}_PID=$(node_dockerd_pid "$i")"
    done
  } >"$f"
  mv "$f" "$CL_ENV"
}
write_env
log "up.sh: cluster $NAME ($NODES nodes, $managers manager(s)) up in $(secs_since "$T0"); env: $CL_ENV"
cat "$CL_ENV"
