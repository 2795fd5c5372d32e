#!/usr/bin/env bash
# Undo what scripts/swarm-up.sh created, and only that:
#   --images  remove local/web:1, local/node-base:20, local/chaosctl:dev (only if built by swarm-up)
#   --swarm   leave the swarm (only if swarm-up initialised it)
#   --engine  stop dockerd (only if swarm-up started it)
#   --cache   delete the cached debootstrap rootfs ($CHAOSCTL_CACHE_DIR/rootfs-*.tar)
#   --all     all of the above
# Installed Debian packages are left alone. Tests never depend on this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

images="" swarm="" engine="" cache=""
[ $# -gt 0 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
for a in "$@"; do
  case $a in
    --images) images=1 ;; --swarm) swarm=1 ;; --engine) engine=1 ;; --cache) cache=1 ;;
    --all) images=1 swarm=1 engine=1 cache=1 ;;
    *) die "unknown option $a" ;;
  esac
done
take_lock

if [ -n "$images" ] && engine_answers; then
  for img in "$APP_IMAGE" "$BASE_IMAGE" "$WEB_IMAGE"; do
    if [ "$(image_label "$img" "$BUILT_BY_LABEL")" = swarm-up ]; then
      if docker image rm "$img" >/dev/null; then log "removed image $img"; else log "kept $img (in use)"; fi
    fi
  done
  rm -rf .cache/prod
fi

if [ -n "$swarm" ] && [ -f "$CHAOSCTL_STATE_DIR/swarm-init" ] && engine_answers; then
  if [ "$(docker info -f '{{.Swarm.NodeID}}')" = "$(cat "$CHAOSCTL_STATE_DIR/swarm-init")" ]; then
    docker swarm leave --force >/dev/null && log "left the swarm swarm-up created"
  fi
  as_root rm -f "$CHAOSCTL_STATE_DIR/swarm-init"
fi

if [ -n "$engine" ] && [ -f "$CHAOSCTL_STATE_DIR/dockerd.pid" ]; then
  pid=$(cat "$CHAOSCTL_STATE_DIR/dockerd.pid")
  if [ "$(cat /var/run/docker.pid 2>/dev/null)" = "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    as_root kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && die "dockerd $pid did not stop within 30 s"
    log "stopped dockerd $pid"
  fi
  as_root rm -f "$CHAOSCTL_STATE_DIR/dockerd.pid"
fi

# Only swarm-up's own rootfs tarballs: other tools keep their caches in the same folder.
if [ -n "$cache" ]; then
  as_root rm -f "$CHAOSCTL_CACHE_DIR"/rootfs-*.tar && log "removed $CHAOSCTL_CACHE_DIR/rootfs-*.tar"
fi
