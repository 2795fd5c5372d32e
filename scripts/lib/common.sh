# Shared helpers for scripts/*.sh (sourced, never executed).
# Everything here is bash; callers run with `set -euo pipefail`.

# Where state lives: all outside the repository, so a clone stays clean.
: "${CHAOSCTL_CACHE_DIR:=/var/cache/chaosctl}"          # debootstrap rootfs tarballs
: "${CHAOSCTL_STATE_DIR:=/var/lib/chaosctl}"            # what swarm-up created (for swarm-down)
: "${CHAOSCTL_DOCKERD_LOG:=/var/log/chaosctl-dockerd.log}"
: "${CHAOSCTL_LOCK:=/run/lock/chaosctl-swarm-up.lock}"

# Image tags (the tests and the README use these names).
WEB_IMAGE=local/web:1
BASE_IMAGE=local/node-base:20
APP_IMAGE=local/chaosctl:dev
STRESS_IMAGE=local/chaosctl-stress:1
# Label carrying a hash of an image's inputs: rebuild only when it differs.
INPUTS_LABEL=org.chaosctl.inputs
BUILT_BY_LABEL=org.chaosctl.built-by
# On local/chaosctl:dev: the hash of the sources its dist/ was compiled from (dist/.inputs-hash),
# which the Docker tests compare with the checkout's (test/helpers/fresh.ts).
SOURCES_LABEL=org.chaosctl.sources

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
secs_since() { # ms-start -> "12.3s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $(( d / 1000 )) $(( (d % 1000) / 100 ))
}

# step "title" cmd args...: runs one step with a header and its duration.
step() {
  local title=$1; shift
  local t0; t0=$(now_ms)
  log "==> ${title}"
  "$@"
  log "    ${title}: done in $(secs_since "$t0")"
}

# Root for apt, dockerd and debootstrap; sudo when run by a developer.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

sha256_str() { printf '%s' "$*" | sha256sum | cut -d' ' -f1; }
sha256_file() { sha256sum "$1" | cut -d' ' -f1; }

# A function's normalised source: part of an image's input hash, so
# changing the recipe rebuilds the image.
recipe_of() { declare -f "$1"; }

image_label() { # image label -> value ("" when the image or the label is absent)
  docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null | sed 's/^<no value>$//' || true
}

# True when IMAGE exists and was built from inputs with hash HASH.
image_current() {
  [ "$(image_label "$1" "$INPUTS_LABEL")" = "$2" ]
}

engine_answers() { docker info >/dev/null 2>&1; }

# One swarm-up / images run at a time on a machine (several people share it).
take_lock() {
  local lock=$CHAOSCTL_LOCK
  [ -w "$(dirname "$lock")" ] || lock="${TMPDIR:-/tmp}/chaosctl-swarm-up.lock"
  exec 9>>"$lock"
  if ! flock -n 9; then
    log "    waiting for another swarm-up/images run ($lock)"
    flock -w 1800 9 || die "timed out waiting for $lock"
  fi
}
