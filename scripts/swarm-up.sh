#!/usr/bin/env bash
# A real one-node Docker Swarm on this machine, ready for chaosctl's tests and demo.
# Idempotent: each step is skipped when already done, so re-runs take seconds.
#   1. installs missing Debian packages (docker.io, busybox-static, iptables, debootstrap, iproute2, git,
#      prometheus for the prometheus probe's tests (started by them on loopback), chromium for the
#      dashboard's browser tests)
#   2. starts a Docker engine unless one answers (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1)
#   3. docker swarm init --advertise-addr 127.0.0.1 unless already in a swarm
#   4. builds the images offline (scripts/images.sh; needs npm ci / builds dist if stale)
# Run as root (or with sudo available) from anywhere: bash scripts/swarm-up.sh
# Undo what it created: bash scripts/swarm-down.sh
# Env: CHAOSCTL_ADVERTISE_ADDR (127.0.0.1), CHAOSCTL_DEBIAN_MIRROR (from apt sources),
#      CHAOSCTL_CACHE_DIR (/var/cache/chaosctl), CHAOSCTL_DOCKERD_LOG (/var/log/chaosctl-dockerd.log)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/images.sh

: "${CHAOSCTL_ADVERTISE_ADDR:=127.0.0.1}"
T0=$(now_ms)

pkg_installed() { grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)"; }

install_packages() {
  local missing=() p
  # docker.io only when no engine binary exists at all (docker-ce would conflict).
  if ! command -v dockerd >/dev/null && ! engine_answers; then missing+=(docker.io); fi
  for p in busybox-static iptables debootstrap iproute2 prometheus; do
    pkg_installed "$p" || missing+=("$p")
  done
  # git: the controller's git store (--git) and its tests run the git CLI.
  command -v git >/dev/null || missing+=(git)
  # chromium: the dashboard and the HTML report are tested in a real browser (playwright-core).
  pkg_installed chromium || missing+=(chromium)
  if [ ${#missing[@]} -eq 0 ]; then log "    all present"; return; fi
  log "    installing: ${missing[*]}"
  # No init system runs services here: a policy-rc.d that says "no" keeps the
  # package scripts from starting dockerd/containerd (we start dockerd ourselves,
  # with the environment it needs). Ours is removed afterwards.
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"; ours=1
  fi
  local env=(env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1)
  local out rc=0
  out=$(as_root "${env[@]}" apt-get update -qq 2>&1 \
        && as_root "${env[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" 2>&1) || rc=$?
  [ -z "$ours" ] || as_root rm -f "$policy"
  [ "$rc" -eq 0 ] || { printf '%s\n' "$out" | tail -n 30 >&2; die "apt-get failed (exit $rc)"; }
}

start_engine() {
  if engine_answers; then
    log "    using the engine that answers ($(docker version -f '{{.Server.Version}}'))"
    local pid; pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] \
       && ! grep -qx 'DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1' <<<"$(tr '\0' '\n' <"/proc/$pid/environ")"; then
      log "    warning: that dockerd runs without DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1;"
      log "             Swarm tasks will try a registry first and start seconds late"
    fi
    return
  fi
  [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use a local engine"
  command -v dockerd >/dev/null || die "dockerd not found (apt package docker.io)"
  as_root mkdir -p "$(dirname "$CHAOSCTL_DOCKERD_LOG")" "$CHAOSCTL_STATE_DIR"
  log "    starting dockerd (log: $CHAOSCTL_DOCKERD_LOG)"
  # setsid: the engine outlives this script and its terminal/CI step. 9>&-: it
  # must not inherit our lock, or it would hold it for as long as it runs.
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid dockerd \
    >>"$CHAOSCTL_DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  local launcher=$! i
  for i in $(seq 1 120); do
    engine_answers && break
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 20 "$CHAOSCTL_DOCKERD_LOG" >&2
      die "dockerd exited during start-up (log above: $CHAOSCTL_DOCKERD_LOG)"
    fi
    sleep 0.5
  done
  engine_answers || { tail -n 20 "$CHAOSCTL_DOCKERD_LOG" >&2; die "dockerd did not answer within 60 s"; }
  as_root cp /var/run/docker.pid "$CHAOSCTL_STATE_DIR/dockerd.pid"
  log "    engine $(docker version -f '{{.Server.Version}}') up, pid $(cat /var/run/docker.pid)"
}

init_swarm() {
  local state; state=$(docker info -f '{{.Swarm.LocalNodeState}}')
  case $state in
    active) log "    already in a swarm" ;;
    inactive)
      docker swarm init --advertise-addr "$CHAOSCTL_ADVERTISE_ADDR" >/dev/null
      as_root mkdir -p "$CHAOSCTL_STATE_DIR"
      docker info -f '{{.Swarm.NodeID}}' | as_root tee "$CHAOSCTL_STATE_DIR/swarm-init" >/dev/null
      log "    initialised (advertise $CHAOSCTL_ADVERTISE_ADDR)" ;;
    *) die "this engine's swarm state is '$state': fix it by hand (docker swarm leave --force, or unlock)" ;;
  esac
  [ "$(docker info -f '{{.Swarm.ControlAvailable}}')" = true ] \
    || die "this node is a swarm worker; chaosctl's tests need a manager"
  local i
  for i in $(seq 1 60); do
    [ "$(docker node inspect self -f '{{.Status.State}}' 2>/dev/null)" = ready ] && return
    sleep 0.5
  done
  die "the swarm node did not become ready within 30 s"
}

take_lock
step "packages" install_packages
step "engine" start_engine
step "swarm" init_swarm
step "image $WEB_IMAGE" ensure_web_image
step "image $BASE_IMAGE" ensure_base_image
step "image $APP_IMAGE" ensure_app_image
step "image $STRESS_IMAGE" ensure_stress_image

short_id() { docker image inspect -f '{{.Id}}' "$1" | cut -c8-19; }
log "swarm-up: ok in $(secs_since "$T0"): engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), swarm node $(docker info -f '{{.Swarm.NodeID}}'), images $WEB_IMAGE=$(short_id "$WEB_IMAGE") $BASE_IMAGE=$(short_id "$BASE_IMAGE") $APP_IMAGE=$(short_id "$APP_IMAGE")"
