#!/usr/bin/env bash
# Build chaosctl's local images offline, each only when its inputs changed:
#   local/web:1          busybox httpd (test services)
#   local/node-base:20   Debian minbase + iproute2 + iptables + this machine's node
#   local/chaosctl:dev   the project's Dockerfile on local/node-base:20
#   local/chaosctl-stress:1  Debian minbase + stress-ng (resource faults' helper)
# Usage: bash scripts/images.sh [web] [base] [app] [stress]     (default: all four)
# Needs a running engine (bash scripts/swarm-up.sh does everything, this included).
# Rebuilding local/chaosctl:dev after a code change: bash scripts/images.sh app
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/images.sh

engine_answers || die "no Docker engine answers: run bash scripts/swarm-up.sh"
take_lock
[ $# -gt 0 ] || set -- web base app stress
for what in "$@"; do
  case $what in
    web)  step "image $WEB_IMAGE" ensure_web_image ;;
    base) step "image $BASE_IMAGE" ensure_base_image ;;
    app)  step "image $APP_IMAGE" ensure_app_image ;;
    stress) step "image $STRESS_IMAGE" ensure_stress_image ;;
    *) die "unknown image '$what' (web, base, app, stress)" ;;
  esac
done
