#!/bin/bash
# The lane's run inside the VM (exec'd as PID 1 by /sbin/chaosctl-vm-boot from the run disk):
# mounts, dockerd, a one-node Swarm, the test images, the chosen vitest suites; then the
# exit code and log on the run disk and a marker on the console, and power off.
#
# Console markers, read by scripts/vm/run.sh: "@@chaosctl-vm <nonce> <event> [...] up=<s>".
# The nonce comes from the host for this run, so no test output can fake a marker.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
RUN=/mnt/run
# shellcheck source=/dev/null
. "$RUN/run.env" # NONCE, MODE, SUITES, IMAGES, SUITE_DEADLINE (uptime by which the suite must end), BENCH_*
RESULTS=$RUN/results
mkdir -p "$RESULTS"

mark() { echo "@@chaosctl-vm $NONCE $* up=$(cut -d' ' -f1 /proc/uptime)" >/dev/console; }

poweroff_now() {
  sync
  umount "$RUN" 2>/dev/null || sync
  echo o >/proc/sysrq-trigger
  sleep 30
}

# Ends the run: exit code on the run disk first, then the marker, then power off.
finish() { # code [message]
  [ $# -lt 2 ] || mark "error $2"
  echo "$1" >"$RESULTS/exit-code"
  cp /var/log/dockerd.log "$RESULTS/dockerd.log" 2>/dev/null || true
  mark "exit $1"
  poweroff_now
}

mark "init"

mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run
mountpoint -q /tmp || mount -t tmpfs -o mode=1777 tmpfs /tmp
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup || finish 90 "cannot mount cgroup2"
mkdir -p /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -o remount,rw / 2>/dev/null || true
hostname chaosctl-vm
ip link set lo up
# The kernel modules the lane exists for; a failure here is a lane failure, said plainly.
# ip_vs: the routing mesh (`--publish`), which the walkthrough uses as the practice does.
for m in sch_netem sch_htb sch_tbf cls_u32 overlay br_netfilter ip_vs ip_vs_rr; do
  modprobe "$m" || finish 91 "modprobe $m failed: the guest kernel lacks it"
done

free -m | awk '/Mem:/ {print "memory: " $2 " MB total, " $7 " MB available"}'
df -h / "$RUN" | sed 's/^/disk: /'

# The third disk is /var/lib/docker with the test images already loaded (built on the host).
mkdir -p /var/lib/docker
mount -t ext4 /dev/vdc /var/lib/docker || finish 94 "cannot mount the docker disk /dev/vdc"

DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 240); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log; finish 92 "dockerd did not answer within 120 s"; }
mark "dockerd $(docker version -f '{{.Server.Version}}')"

docker swarm init --advertise-addr 127.0.0.1 >/dev/null || finish 93 "docker swarm init failed"
mark "swarm"

# shellcheck disable=SC2086 # IMAGES is a list
docker image inspect $IMAGES >/dev/null || finish 94 "the docker disk lacks some of: $IMAGES"
docker images --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' | sed 's/^/image: /'
mark "images"

cd "$RUN/app" || finish 95 "no app/ on the run disk"
export CHAOSCTL_VM_LANE=1 CI=true NO_COLOR=1 FORCE_COLOR=0
SUITE_TIMEOUT=$(( SUITE_DEADLINE - $(cut -d. -f1 /proc/uptime) ))
[ "$SUITE_TIMEOUT" -gt 30 ] || finish 96 "no time left for the suite (the bound was spent booting)"
mark "suite-start"
# The suite's own bound, inside the host's: a hang still ends with its output on the console.
if [ "${MODE:-suite}" = bench ]; then
  # The netem benchmark instead of the suites (scripts/vm/run.sh --bench), under the same bound.
  BENCH_COMMIT=${BENCH_COMMIT:-unknown} timeout -k 10 "$SUITE_TIMEOUT" node dist/bench/netem.js \
    --rounds "${BENCH_ROUNDS:-10}" --out "$RESULTS" ${BENCH_BEFORE_IMAGE:+--before-image "$BENCH_BEFORE_IMAGE"} \
    2>&1 | tee "$RESULTS/suite.log"
  rc=${PIPESTATUS[0]}
else
  # shellcheck disable=SC2086 # SUITES is a list of paths
  timeout -k 10 "$SUITE_TIMEOUT" node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts \
    --reporter=verbose $SUITES 2>&1 | tee "$RESULTS/suite.log"
  rc=${PIPESTATUS[0]}
fi
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || mark "error the suite did not finish within ${SUITE_TIMEOUT} s"
mark "suite-end $rc"
df -h / | tail -n 1 | sed 's/^/disk after: /'
finish "$rc"
