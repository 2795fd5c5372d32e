#!/usr/bin/env bash
# The main job, end to end: a local one-node Swarm, a sample replicated service with a
# healthcheck, the controller on the demo schedules (manifests/demo). You watch a task killed,
# Swarm healing, a pause reverted, and status with recovery times written into the manifests.
# Then a probe at work (manifests/demo-probe): every task of a service paused, the service down,
# and the run aborted by its HTTP probe within seconds (Aborted, the schedule Halted).
#   bash scripts/demo.sh               (as root, or with sudo available)
# Env: DEMO_SECONDS (60) how long the controller runs; CHAOSCTL_DEMO_DIR (/tmp/chaosctl-demo)
# where the manifests are copied (status is written there, the repository stays clean);
# DEMO_DASHBOARD_ADDR (127.0.0.1:9464) where the controller serves its dashboard while the demo runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

: "${DEMO_SECONDS:=60}"
: "${CHAOSCTL_DEMO_DIR:=/tmp/chaosctl-demo}"
: "${DEMO_DASHBOARD_ADDR:=127.0.0.1:9464}"
SERVICE=chaosctl-demo-web
CLI=(node dist/src/cli/main.js)

# npm ci first: it builds dist/ (prepare), which the chaosctl image is made from.
if [ ! -d node_modules ]; then step "npm ci" npm ci --no-audit --no-fund; fi
step "build chaosctl" npm run --silent build
step "a local Swarm and the images" bash scripts/swarm-up.sh

svc_id=""
front_id=""
ctl_pid=""
cleanup() {
  [ -z "$ctl_pid" ] || kill "$ctl_pid" 2>/dev/null || true
  [ -z "$ctl_pid" ] || wait "$ctl_pid" 2>/dev/null || true
  [ -z "$svc_id" ] || docker service rm "$svc_id" >/dev/null 2>&1 || true
  [ -z "$front_id" ] || docker service rm "$front_id" >/dev/null 2>&1 || true
  # Guard containers the demo's schedules left (normally none: they exit and are collected).
  local g
  g=$(docker ps -aq --filter label=chaosctl.io/schedule=default/demo-kill --filter label=chaosctl.io/schedule=default/demo-pause)
  [ -z "$g" ] || docker rm -f $g >/dev/null 2>&1 || true
  g=$(docker ps -aq --filter label=chaosctl.io/schedule=default/demo-freeze-front)
  [ -z "$g" ] || docker rm -f $g >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "==> sample service $SERVICE: 3 replicas of local/web:1 with a healthcheck"
if old=$(docker service inspect -f '{{.ID}}' "$SERVICE" 2>/dev/null); then docker service rm "$old" >/dev/null; sleep 2; fi
# (busybox 1.35's wget segfaults with -T: --health-timeout bounds the probe instead)
svc_id=$(docker service create --detach --quiet --name "$SERVICE" --replicas 3 \
  --health-cmd 'wget -q -O /dev/null http://127.0.0.1/ || exit 1' \
  --health-interval 2s --health-timeout 2s --health-retries 2 --health-start-period 1s \
  local/web:1 2>/dev/null)
running() { docker service ps "$svc_id" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running' || true; }
healthy() { docker ps -q --filter "label=com.docker.swarm.service.id=$svc_id" --filter health=healthy | wc -l; }
for _ in $(seq 1 60); do [ "$(healthy)" -ge 3 ] && break; sleep 1; done
log "    $(healthy)/3 tasks running and healthy"

rm -rf "$CHAOSCTL_DEMO_DIR"; mkdir -p "$CHAOSCTL_DEMO_DIR"
cp manifests/demo/*.yaml "$CHAOSCTL_DEMO_DIR/"
log "==> the controller on $CHAOSCTL_DEMO_DIR for ${DEMO_SECONDS}s (log: $CHAOSCTL_DEMO_DIR/controller.log)"
"${CLI[@]}" controller --dir "$CHAOSCTL_DEMO_DIR" --metrics-addr "$DEMO_DASHBOARD_ADDR" 2>"$CHAOSCTL_DEMO_DIR/controller.log" &
ctl_pid=$!
dashboard="http://$DEMO_DASHBOARD_ADDR/"
# (node, not curl: a fresh Debian machine has node here, not necessarily curl)
answers() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"; }
for _ in $(seq 1 50); do answers "${dashboard}api/v1/overview" && break; sleep 0.2; done
log "==> dashboard: $dashboard (live while the demo runs; ssh -L ${DEMO_DASHBOARD_ADDR##*:}:$DEMO_DASHBOARD_ADDR this-host from a laptop)"
tail -n +1 -F "$CHAOSCTL_DEMO_DIR/controller.log" 2>/dev/null | node scripts/lib/pretty-log.mjs &
tail_pid=$!
end=$(( $(date +%s) + DEMO_SECONDS ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 5
  paused=$(docker ps -q --filter "label=com.docker.swarm.service.id=$svc_id" --filter status=paused | wc -l)
  log "  [swarm] $SERVICE: $(running)/3 running, $(healthy) healthy, $paused paused"
done
dashboard_up=0
answers "${dashboard}api/v1/overview" && dashboard_up=1
kill "$ctl_pid"; wait "$ctl_pid" || true; ctl_pid=""
sleep 0.5; kill "$tail_pid" 2>/dev/null || true

log ""
log "==> status written back by the controller"
for f in "$CHAOSCTL_DEMO_DIR"/*.yaml; do
  log "--- $f"
  sed -n '/^status:/,$p' "$f" >&2
done

log ""
log "==> checks"
ok=1
check() { if "$@"; then log "    ok: $DESC"; else log "    FAILED: $DESC"; ok=0; fi; }
DESC="a kill run recorded its recoverySeconds" check grep -q 'recoverySeconds:' "$CHAOSCTL_DEMO_DIR/kill-web.yaml"
DESC="the pause run succeeded (reverted at expiry)" check grep -q 'result: Succeeded' "$CHAOSCTL_DEMO_DIR/pause-web.yaml"
DESC="no task is left paused" check test "$(docker ps -q --filter "label=com.docker.swarm.service.id=$svc_id" --filter status=paused | wc -l)" -eq 0
DESC="no guard container is left running" check test -z "$(docker ps -q --filter label=chaosctl.io/role=guard)"
DESC="the dashboard answered while the controller ran" check test "$dashboard_up" = 1
"${CLI[@]}" report --dir "$CHAOSCTL_DEMO_DIR" --since 1h -o html --file "$CHAOSCTL_DEMO_DIR/report.html"
DESC="chaosctl report wrote $CHAOSCTL_DEMO_DIR/report.html" check grep -q 'class="run-bar"' "$CHAOSCTL_DEMO_DIR/report.html"
[ "$ok" = 1 ] || die "the demo did not show what it should; see $CHAOSCTL_DEMO_DIR/controller.log"

log ""
log "==> a probe aborts a fault that takes the service down (manifests/demo-probe)"
FRONT=chaosctl-demo-front
PROBE_DIR="$CHAOSCTL_DEMO_DIR/probe"
if old=$(docker service inspect -f '{{.ID}}' "$FRONT" 2>/dev/null); then docker service rm "$old" >/dev/null; sleep 2; fi
# Host-mode publishing: this kernel has no IPVS for the routing mesh.
front_id=$(docker service create --detach --quiet --name "$FRONT" --replicas 1 \
  --publish mode=host,target=80,published=18081 local/web:1 2>/dev/null)
for _ in $(seq 1 60); do curl_ok=$(node -e 'fetch("http://127.0.0.1:18081/").then(r=>console.log(r.status)).catch(()=>console.log(0))'); [ "$curl_ok" = 200 ] && break; sleep 1; done
log "    $FRONT answers on 127.0.0.1:18081 ($curl_ok)"
mkdir -p "$PROBE_DIR"; cp manifests/demo-probe/*.yaml "$PROBE_DIR/"
log "    every task paused for 60s; the Continuous HTTP probe should abort it within seconds"
"${CLI[@]}" controller --dir "$PROBE_DIR" 2>"$PROBE_DIR/controller.log" &
ctl_pid=$!
t0=$(date +%s)
for _ in $(seq 1 40); do
  sleep 1
  grep -q 'result: Aborted' "$PROBE_DIR/freeze-front.yaml" && break
done
aborted_after=$(( $(date +%s) - t0 ))
sleep 2
kill "$ctl_pid"; wait "$ctl_pid" || true; ctl_pid=""
sed -n '/^status:/,$p' "$PROBE_DIR/freeze-front.yaml" >&2
DESC="the probe aborted the run (after ${aborted_after}s of a 60s fault)" check grep -q 'reason: ProbeFailed' "$PROBE_DIR/freeze-front.yaml"
DESC="the schedule is Halted until resumed" check grep -q 'type: Halted' "$PROBE_DIR/freeze-front.yaml"
DESC="no task of $FRONT is left paused" check test "$(docker ps -q --filter "label=com.docker.swarm.service.id=$front_id" --filter status=paused | wc -l)" -eq 0
[ "$ok" = 1 ] || die "the probe step did not show what it should; see $PROBE_DIR/controller.log"
log "demo done: Swarm healed every kill, a probe stopped a fault that took a service down; the manifests in $CHAOSCTL_DEMO_DIR carry the status."
