# The one chaosctl image: controller, node agent and network helper.
#
# Offline by design: no registry is reachable where this is built, so the base is
# a local image (scripts/swarm-up.sh makes local/node-base:20 with debootstrap:
# Debian minbase + iproute2 + iptables + the host's node binary). Any image with
# node >= 20, tc and iptables works: `--build-arg BASE=...`.
#
# The base has node but no npm, so dependencies are not installed here: the build
# context brings production node_modules already installed from package-lock.json
# into .cache/prod/node_modules (scripts/images.sh: `npm ci --omit=dev
# --ignore-scripts --prefer-offline`, served from npm's cache). Build it with:
#   bash scripts/images.sh            # or by hand, after npm run build + that npm ci:
#   DOCKER_BUILDKIT=0 docker build --build-arg BASE=local/node-base:20 -t local/chaosctl:dev .
# Only legacy-builder features are used (buildx may be absent).
ARG BASE=local/node-base:20
FROM ${BASE}

ARG VERSION=dev
LABEL org.opencontainers.image.title="chaosctl" \
      org.opencontainers.image.description="Declarative chaos controller for Docker Swarm (controller, agent, network helper)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY .cache/prod/node_modules ./node_modules
COPY crds ./crds
COPY dist ./dist
# A network guard's entry point: its shell prelude applies the fault before Node.js starts
# (src/faults/netns/netns-guard.sh, docs/guards.md). /bin/sh is the base's dash; tc, iptables-restore
# and coreutils' date (+%s%3N) come with it.
COPY src/faults/netns/netns-guard.sh ./netns-guard.sh

# Runs as root on purpose: the network helper runs tc and iptables in a target's
# network namespace (CAP_NET_ADMIN inside a root-owned namespace), and the
# controller and agent talk to /var/run/docker.sock, which is root-only on a
# stock host. A non-root user would need the same powers, so it would not be safer.

# Operations port (docs/operations.md): /metrics, /healthz, /readyz. The controller listens on
# CHAOSCTL_METRICS_ADDR and writes its /healthz URL to CHAOSCTL_HEALTH_MARKER; the check asks
# that URL, so a hung controller (no answer within the timeout) or a stuck loop (503) turns the
# container unhealthy and Swarm replaces it. Only a container whose main process is
# `chaosctl controller` is checked; guards, network helpers and the agent pass at once.
# Loopback by default: the check runs inside the container, and nothing else needs the port
# until someone scrapes it (then set CHAOSCTL_METRICS_ADDR=:9464, docs/operations.md).
ENV CHAOSCTL_METRICS_ADDR=127.0.0.1:9464 \
    CHAOSCTL_HEALTH_MARKER=/tmp/chaosctl-health-url
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/src/ops/healthcheck.js"]

# A 4 MB young generation (V8's default grows to 16 MB per semi-space): the controller at
# 1,000 schedules holds ~30 MB live, the rest of its RSS was young-generation room
# (docs/performance.md). The bench runs its RSS child with these very flags (bench/shipped.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/dist/src/cli/main.js"]
