# Offline image recipes (sourced by scripts/images.sh and scripts/swarm-up.sh).
# No registry is reachable: every image is made from this machine's own files
# (busybox-static, the node binary) and Debian's apt mirror, then `docker import`ed.
# Each image carries a hash of its inputs in $INPUTS_LABEL and is rebuilt only
# when that hash changes.

# --- local/web:1 -------------------------------------------------------------
# busybox httpd serving /www. Tests use its wget, nc and ping from inside tasks.
# PID 1 is a shell that exits on SIGTERM: busybox httpd as PID 1 ignores SIGTERM,
# and every `docker stop` / `service rm` would then wait 10 s for SIGKILL.
web_cmd='["/bin/sh","-c","trap \"exit 0\" TERM INT; /bin/httpd -f -p 80 -h /www & wait"]'

build_web_rootfs() { # dir
  local root=$1 applet
  mkdir -p "$root"/{bin,etc,www,tmp,root,usr,var/www}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  ln -s bin "$root/sbin"; ln -s ../bin "$root/usr/bin"; ln -s ../bin "$root/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf '<!doctype html><title>chaosctl test web</title><p>chaosctl test web</p>\n' >"$root/www/index.html"
}

web_inputs_hash() {
  [ -x /bin/busybox ] || die "/bin/busybox missing (apt package busybox-static)"
  sha256_str "$(sha256_file /bin/busybox) $web_cmd $(recipe_of build_web_rootfs)"
}

ensure_web_image() {
  local hash tmp applet applets
  hash=$(web_inputs_hash)
  if image_current "$WEB_IMAGE" "$hash"; then log "    $WEB_IMAGE is current"; return; fi
  # Read the whole list first: busybox writes it one applet per write(2), so a pipe into
  # `grep -q` (which exits at the first match) kills it with SIGPIPE under pipefail.
  applets=$(/bin/busybox --list)
  for applet in wget nc ping httpd sh; do
    grep -qx "$applet" <<<"$applets" || die "busybox lacks the $applet applet"
  done
  tmp=$(mktemp -d)
  build_web_rootfs "$tmp"
  tar -C "$tmp" -c . | docker import \
    -c "CMD $web_cmd" -c 'ENV PATH=/bin' -c 'EXPOSE 80' \
    -c "LABEL $INPUTS_LABEL=$hash" -c "LABEL $BUILT_BY_LABEL=swarm-up" \
    -m "chaosctl test web image (busybox httpd)" - "$WEB_IMAGE" >/dev/null
  rm -rf "$tmp"
  log "    built $WEB_IMAGE"
}

# --- local/node-base:20 --------------------------------------------------------
# Debian minbase + iproute2 + iptables, and this machine's node binary; git,
# ca-certificates and openssh-client for `chaosctl controller --git` (https and ssh
# remotes) inside the image. The list is part of the rootfs cache key.
BASE_INCLUDE=iproute2,iptables,git,ca-certificates,openssh-client

# The Debian mirror from the machine's apt sources (one-line .list and deb822
# .sources files), for the machine's own suite. CHAOSCTL_DEBIAN_MIRROR overrides.
debian_mirror() {
  local suite=$1
  if [ -n "${CHAOSCTL_DEBIAN_MIRROR:-}" ]; then echo "$CHAOSCTL_DEBIAN_MIRROR"; return; fi
  local f found=""
  # One-line format: deb [opts] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    found=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1=="deb" && $3==s {print $2; exit}')
    [ -n "$found" ] && { echo "${found%/}"; return; }
  done
  # deb822 format: paragraphs with Types/URIs/Suites fields.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    found=$(awk -v s="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no" && uri == "") { split(uris, u, " "); uri = u[1] } types=""; suites=""; uris=""; enabled="" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
        if (key == "types") types = $0; else if (key == "suites") suites = $0
        else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0) }
      END { flush(); if (uri != "") print uri }' "$f")
    [ -n "$found" ] && { echo "${found%/}"; return; }
  done
  echo "http://deb.debian.org/debian"
}

host_suite() { . /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"; }

# debootstrap once per (suite, mirror, packages); the tarball is cached.
base_rootfs_tar() { # -> path of the cached rootfs tarball (built if missing)
  local suite mirror key tar tmp
  suite=$(host_suite); mirror=$(debian_mirror "$suite")
  key=$(sha256_str "$suite $mirror $BASE_INCLUDE $(recipe_of debootstrap_rootfs)" | cut -c1-16)
  tar="$CHAOSCTL_CACHE_DIR/rootfs-$suite-$key.tar"
  if [ -s "$tar" ]; then log "    cached rootfs $tar"; echo "$tar"; return; fi
  as_root mkdir -p "$CHAOSCTL_CACHE_DIR"
  tmp=$(as_root mktemp -d "$CHAOSCTL_CACHE_DIR/rootfs.XXXXXX")
  log "    debootstrap $suite from $mirror (first run only; about 30-60 s)"
  if ! debootstrap_rootfs "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    as_root rm -rf "$tmp"
    die "debootstrap failed (full log above was $tmp/debootstrap.log)"
  fi
  as_root tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  as_root mv "$tmp/rootfs.tar" "$tar"
  as_root rm -rf "$tmp"
  echo "$tar"
}

debootstrap_rootfs() { # suite dir mirror
  command -v debootstrap >/dev/null || die "debootstrap missing (apt package debootstrap)"
  as_root debootstrap --variant=minbase --include="$BASE_INCLUDE" "$1" "$2" "$3"
  # Smaller image: drop downloaded .debs, package lists, and man pages and message
  # translations (git's alone are ~40 MB; nothing here reads them). /usr/share/doc stays:
  # it holds the packages' copyright files.
  as_root rm -rf "$2"/var/cache/apt/archives/*.deb "$2"/var/lib/apt/lists/* "$2"/var/log/*.log \
    "$2"/usr/share/man "$2"/usr/share/locale "$2"/usr/share/info
}

node_binary() { readlink -f "$(command -v node)"; }

base_inputs_hash() { # rootfs-tar
  sha256_str "$(basename "$1") $(sha256_file "$(node_binary)") $(recipe_of import_base)"
}

import_base() { # rootfs-tar hash
  local tmp; tmp=$(as_root mktemp -d "$CHAOSCTL_CACHE_DIR/base.XXXXXX")
  as_root tar -C "$tmp" -xf "$1"
  as_root install -D -m 0755 "$(node_binary)" "$tmp/usr/local/bin/node"
  as_root tar -C "$tmp" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/usr/local/bin/node"]' \
    -c "LABEL $INPUTS_LABEL=$2" -c "LABEL $BUILT_BY_LABEL=swarm-up" \
    -m "Debian minbase + iproute2 + iptables + git + node $(node --version)" - "$BASE_IMAGE" >/dev/null
  as_root rm -rf "$tmp"
}

ensure_base_image() {
  local tar hash
  command -v node >/dev/null || die "node not found on PATH"
  tar=$(base_rootfs_tar)
  hash=$(base_inputs_hash "$tar")
  if image_current "$BASE_IMAGE" "$hash"; then log "    $BASE_IMAGE is current"; return; fi
  import_base "$tar" "$hash"
  docker run --rm --entrypoint node "$BASE_IMAGE" --version >/dev/null \
    || die "$BASE_IMAGE: node does not run inside the image"
  log "    built $BASE_IMAGE (node $(node --version))"
}

# --- local/chaosctl-stress:1 ---------------------------------------------------
# stress-ng from Debian (plus util-linux's fallocate for disk fills, coreutils' rm),
# for resource faults (docs/resource-faults.md). Its own image and its own rootfs
# cache, so the base image (and every colleague's local/chaosctl:dev) stays as it is.
# No node here: whatever runs in this image runs inside the TARGET's cgroup and is
# charged to it, so it carries the stressor and nothing else.
STRESS_INCLUDE=stress-ng

stress_rootfs_tar() { # -> path of the cached rootfs tarball (built if missing)
  local suite mirror key tar tmp
  suite=$(host_suite); mirror=$(debian_mirror "$suite")
  key=$(sha256_str "$suite $mirror $STRESS_INCLUDE $(recipe_of debootstrap_stress_rootfs)" | cut -c1-16)
  tar="$CHAOSCTL_CACHE_DIR/stress-rootfs-$suite-$key.tar"
  if [ -s "$tar" ]; then log "    cached rootfs $tar"; echo "$tar"; return; fi
  as_root mkdir -p "$CHAOSCTL_CACHE_DIR"
  tmp=$(as_root mktemp -d "$CHAOSCTL_CACHE_DIR/stress-rootfs.XXXXXX")
  log "    debootstrap $suite + $STRESS_INCLUDE from $mirror (first run only; about 30-60 s)"
  if ! debootstrap_stress_rootfs "$suite" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    as_root rm -rf "$tmp"
    die "debootstrap of the stress rootfs failed"
  fi
  as_root tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  as_root mv "$tmp/rootfs.tar" "$tar"
  as_root rm -rf "$tmp"
  echo "$tar"
}

debootstrap_stress_rootfs() { # suite dir mirror
  command -v debootstrap >/dev/null || die "debootstrap missing (apt package debootstrap)"
  as_root debootstrap --variant=minbase --include="$STRESS_INCLUDE" "$1" "$2" "$3"
  as_root rm -rf "$2"/var/cache/apt/archives/*.deb "$2"/var/lib/apt/lists/* "$2"/var/log/*.log \
    "$2"/usr/share/man "$2"/usr/share/locale "$2"/usr/share/info
}

ensure_stress_image() {
  local tar hash
  tar=$(stress_rootfs_tar)
  hash=$(sha256_str "$(basename "$tar")")
  if image_current "$STRESS_IMAGE" "$hash"; then log "    $STRESS_IMAGE is current"; return; fi
  as_root cat "$tar" | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENTRYPOINT ["/usr/bin/stress-ng"]' \
    -c "LABEL $INPUTS_LABEL=$hash" -c "LABEL $BUILT_BY_LABEL=swarm-up" \
    -m "Debian minbase + stress-ng (chaosctl resource faults)" - "$STRESS_IMAGE" >/dev/null
  docker run --rm "$STRESS_IMAGE" --version >/dev/null || die "$STRESS_IMAGE: stress-ng does not run inside the image"
  log "    built $STRESS_IMAGE ($(docker run --rm "$STRESS_IMAGE" --version 2>&1 | head -n 1))"
}

# --- local/chaosctl:dev -------------------------------------------------------
# The project's Dockerfile on top of $BASE_IMAGE. Needs dist/ (npm run build) and
# the production node_modules staged in .cache/prod (the base has node but no npm).
PROD_DIR=.cache/prod

# Build dist/ unless it was built, successfully, from exactly the checkout's sources: npm run
# build records their hash in dist/.inputs-hash (scripts/build-stamp.mjs) only when tsc
# succeeded. `npm ci` already builds (the prepare script), so in CI this is usually a no-op.
# A failed build stops here: an image of what tsc emitted would test other code than this.
ensure_dist() {
  [ -d node_modules ] || { log "    node_modules missing: npm ci"; npm ci --no-audit --no-fund; }
  if node scripts/build-stamp.mjs --check 2>/dev/null; then
    log "    dist/ is up to date"
    return
  fi
  log "    dist/ missing or built from other sources: npm run build"
  npm run build --silent >&2 || die "npm run build failed"
}

# Production dependencies, installed from the lockfile into $PROD_DIR. Offline
# when npm's cache already holds them (it does after `npm ci`); scripts are not
# run (no compiler needed; ssh2's optional native module is not used by chaosctl).
ensure_prod_modules() {
  local want have=""
  want=$(sha256_str "$(sha256_file package-lock.json) $(node --version)")
  [ -f "$PROD_DIR/.lock-hash" ] && have=$(cat "$PROD_DIR/.lock-hash")
  if [ "$want" = "$have" ] && [ -d "$PROD_DIR/node_modules" ]; then
    log "    $PROD_DIR/node_modules is current"; return
  fi
  rm -rf "$PROD_DIR"; mkdir -p "$PROD_DIR"
  cp package.json package-lock.json "$PROD_DIR/"
  (cd "$PROD_DIR" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$PROD_DIR/.lock-hash"
  log "    staged production node_modules in $PROD_DIR"
}

app_inputs_hash() {
  local base_id files
  base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
  # What the Dockerfile copies (.dockerignore leaves out dist/test and dist/vitest.config.*), and
  # the network guard's shell entry it copies from src/.
  files=$( { find dist crds -type f -not -path 'dist/test/*' -not -path 'dist/vitest.config.*' -print0 \
               | sort -z | xargs -0 sha256sum
             sha256sum Dockerfile .dockerignore src/faults/netns/netns-guard.sh package.json package-lock.json "$PROD_DIR/.lock-hash"; } | sha256sum)
  sha256_str "$base_id $files"
}

ensure_app_image() {
  local hash version
  [ -f Dockerfile ] || die "run from the repository root (no Dockerfile here)"
  ensure_dist
  ensure_prod_modules
  hash=$(app_inputs_hash)
  if image_current "$APP_IMAGE" "$hash"; then log "    $APP_IMAGE is current"; return; fi
  version=$(node -p 'require("./package.json").version')
  # Legacy builder: buildx may be absent, and it handles FROM a local-only tag.
  # (Its deprecation notice is noise here: shown only when the build fails.)
  local out
  out=$(DOCKER_BUILDKIT=0 docker build \
    --build-arg BASE="$BASE_IMAGE" --build-arg VERSION="$version" \
    --label "$INPUTS_LABEL=$hash" --label "$BUILT_BY_LABEL=swarm-up" \
    --label "$SOURCES_LABEL=$(cat dist/.inputs-hash)" \
    -t "$APP_IMAGE" . 2>&1) || { printf '%s\n' "$out" >&2; die "docker build of $APP_IMAGE failed"; }
  log "    built $APP_IMAGE ($version)"
}
