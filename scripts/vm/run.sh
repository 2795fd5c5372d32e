#!/usr/bin/env bash
# The real-kernel lane: boot a stock Debian kernel under QEMU (software emulation), start
# dockerd and a one-node Swarm inside, load the test images, run the chosen in-VM vitest
# suites (test/vm/*.vmtest.ts) and exit with their exit code. docs/vm-lane.md explains why.
#
#   bash scripts/vm/run.sh                                  # every suite in test/vm/
#   bash scripts/vm/run.sh test/vm/baseline.vmtest.ts       # chosen suites
#   npm run build && bash scripts/vm/run.sh --bench         # bench/netem.ts instead of the suites
#
# Run as root (apt, the cache under /var/cache). Disks of one run:
#   vda  the cached VM root (scripts/vm/build.sh), copy-on-write: the cache is never written
#   vdb  a per-run ext4 image: the project (dist, src, test, node_modules, crds), the guest
#        init, and results/ (exit code, suite log) which the host reads back with debugfs
#   vdc  /var/lib/docker with the test images preloaded (scripts/vm/docker-disk.sh), cached
#        by image ids, copy-on-write like vda
# Bounds: CHAOSCTL_VM_TIMEOUT (2400 s, the whole VM), CHAOSCTL_VM_BOOT_TIMEOUT (180 s, to the
# guest init), CHAOSCTL_VM_SETUP_TIMEOUT (300 s, init to the suite's start). Exit codes: the
# suite's; 2 bad usage; 124 the lane hit its bound; 125 the VM failed to boot or set up.
# Env: CHAOSCTL_VM_MEM (2560 MB), CHAOSCTL_VM_CPUS (2), CHAOSCTL_VM_ARTIFACTS (a directory
# that receives console.log, suite.log and dockerd.log), CHAOSCTL_CACHE_DIR, CHAOSCTL_VM_DOCKER_DISK (a
# docker disk made beforehand by scripts/vm/docker-disk.sh: the run then needs no engine).
# --bench: runs bench/netem.ts (built: dist/bench/netem.js) instead of the suites, rounds from
# BENCH_NETEM_ROUNDS (10); its table and samples land in results/ (netem-bench.md, .json), are
# printed at the end and copied into CHAOSCTL_VM_ARTIFACTS when set. Never part of the test lane.
# BENCH_NETEM_BEFORE_IMAGE=<image>: a fourth way, the driver with that guard image (an A/B of a
# change to the guard in one run); the image goes onto the docker disk with the others.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

: "${CHAOSCTL_VM_TIMEOUT:=2400}"
: "${CHAOSCTL_VM_BOOT_TIMEOUT:=180}"
: "${CHAOSCTL_VM_SETUP_TIMEOUT:=300}"
: "${CHAOSCTL_VM_MEM:=2560}"
: "${CHAOSCTL_VM_CPUS:=2}"
# tcg (software emulation) by default: a KVM guest hung at boot on this kind of machine.
: "${CHAOSCTL_VM_ACCEL:=tcg}"
IMAGES=(local/web:1 local/node-base:20 local/chaosctl:dev local/chaosctl-stress:1)
VM_CACHE="$CHAOSCTL_CACHE_DIR/vm"
T_ALL=$(now_ms)

usage() { log "usage: bash scripts/vm/run.sh [test/vm/NAME.vmtest.ts ...] | --bench"; exit 2; }

# --- arguments ---------------------------------------------------------------------------
SUITES=()
MODE=suite
: "${BENCH_NETEM_ROUNDS:=10}"
: "${BENCH_NETEM_BEFORE_IMAGE:=}"
for a in "$@"; do
  case $a in
    -h | --help) usage ;;
    --bench) MODE=bench ;;
    test/vm/*.vmtest.ts) [ -f "$a" ] || { log "error: no such suite: $a"; exit 2; }; SUITES+=("$a") ;;
    *) log "error: '$a' is not an in-VM suite (test/vm/*.vmtest.ts)"; usage ;;
  esac
done
if [ "$MODE" = bench ]; then
  [ ${#SUITES[@]} -eq 0 ] || { log "error: --bench runs no suites"; usage; }
  [[ $BENCH_NETEM_ROUNDS =~ ^[1-9][0-9]*$ ]] || { log "error: BENCH_NETEM_ROUNDS must be a positive integer"; exit 2; }
  [[ -z $BENCH_NETEM_BEFORE_IMAGE || $BENCH_NETEM_BEFORE_IMAGE =~ ^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$ ]] \
    || { log "error: BENCH_NETEM_BEFORE_IMAGE must be an image name:tag"; exit 2; }
  [ -z "$BENCH_NETEM_BEFORE_IMAGE" ] || IMAGES+=("$BENCH_NETEM_BEFORE_IMAGE")
  [ -f dist/bench/netem.js ] && [ dist/bench/netem.js -nt bench/netem.ts ] \
    || { log "error: dist/bench/netem.js missing or older than bench/netem.ts: run npm run build"; exit 2; }
elif [ ${#SUITES[@]} -eq 0 ]; then
  shopt -s nullglob; SUITES=(test/vm/*.vmtest.ts); shopt -u nullglob
  [ ${#SUITES[@]} -gt 0 ] || { log "error: no suites in test/vm/"; exit 2; }
fi
for n in CHAOSCTL_VM_TIMEOUT CHAOSCTL_VM_BOOT_TIMEOUT CHAOSCTL_VM_SETUP_TIMEOUT CHAOSCTL_VM_MEM CHAOSCTL_VM_CPUS; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || { log "error: $n must be a positive integer, got '${!n}'"; exit 2; }
done

# --- cleanup: everything this run starts or writes is undone on any exit -----------------
TMP="" QEMU_PID="" TAIL_PID=""
cleanup() {
  [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
  [ -z "$TAIL_PID" ] || kill "$TAIL_PID" 2>/dev/null || true
  [ -z "$QEMU_PID" ] || wait "$QEMU_PID" 2>/dev/null || true
  [ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "vm lane: interrupted"; exit 130' INT TERM

# --- host tools --------------------------------------------------------------------------
ensure_host_tools() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v debugfs >/dev/null || missing+=(e2fsprogs)
  [ ${#missing[@]} -eq 0 ] && return
  log "    installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "cannot install ${missing[*]}"
}

# The test images, current with the project (hash-checked by scripts/images.sh: seconds when
# nothing changed), preloaded into a docker data-root disk (scripts/vm/docker-disk.sh).
DOCKER_DISK=""
ensure_docker_disk() {
  # A disk prepared beforehand (e.g. under the team's engine lock): no engine needed now.
  if [ -n "${CHAOSCTL_VM_DOCKER_DISK:-}" ]; then
    [ -s "$CHAOSCTL_VM_DOCKER_DISK" ] || die "CHAOSCTL_VM_DOCKER_DISK: no such disk: $CHAOSCTL_VM_DOCKER_DISK"
    DOCKER_DISK=$CHAOSCTL_VM_DOCKER_DISK; return
  fi
  if engine_answers; then bash scripts/images.sh >&2; else bash scripts/swarm-up.sh >&2; fi
  DOCKER_DISK=$(bash scripts/vm/docker-disk.sh "${IMAGES[@]}")
}

# The per-run disk: the project as it is in this checkout, plus the guest init.
NONCE=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The commit measured, for the bench's machine note (the guest has no git).
BENCH_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- src bench 2>/dev/null || true)" ] || BENCH_COMMIT="$BENCH_COMMIT with local changes in src/ or bench/"
make_run_disk() {
  local stage=$TMP/stage size_mb
  mkdir -p "$stage/app" "$stage/vm" "$stage/results"
  install -m 0755 scripts/vm/guest/init.sh "$stage/vm/init.sh"
  [ -d node_modules/vitest ] || die "node_modules/vitest missing: run npm ci"
  local f
  for f in package.json tsconfig.json crds src test dist; do
    [ -e "$f" ] || { [ "$f" = dist ] && continue; die "missing $f"; }
    cp -a "$f" "$stage/app/"
  done
  # Hard links when possible: mkfs only reads them, and node_modules is the bulk.
  cp -al node_modules "$stage/app/" 2>/dev/null || cp -a node_modules "$stage/app/"
  {
    echo "NONCE=$NONCE"
    echo "MODE=$MODE"
    echo "BENCH_ROUNDS=$BENCH_NETEM_ROUNDS"
    printf 'BENCH_BEFORE_IMAGE=%q\n' "$BENCH_NETEM_BEFORE_IMAGE"
    printf 'BENCH_COMMIT=%q\n' "$BENCH_COMMIT"
    printf 'SUITES=%q\n' "${SUITES[*]}"
    printf 'IMAGES=%q\n' "${IMAGES[*]}"
    echo "SUITE_DEADLINE=$((CHAOSCTL_VM_TIMEOUT - 30))"
  } >"$stage/run.env"
  size_mb=$(( $(du -sm "$stage" | cut -f1) + 384 ))
  check_space "$TMP" $((size_mb + 1024))
  mkfs.ext4 -q -F -L chaosctl-run -d "$stage" "$TMP/run.img" "${size_mb}M" >&2
  rm -rf "$stage"
  log "    run disk ${size_mb} MB"
}

check_space() { # dir needed-MB
  local avail; avail=$(df -Pm "$1" | awk 'NR==2 {print $4}')
  [ "$avail" -ge "$2" ] || die "not enough free space in $1: ${avail} MB, the lane needs ${2} MB"
}

# --- the VM ------------------------------------------------------------------------------
marker() { # event -> the first marker line of that event ("" when not seen yet)
  grep -a -m1 "^@@chaosctl-vm $NONCE $1\b" "$TMP/console.log" 2>/dev/null | tr -d '\r' || true
}
uptime_of() { sed -n 's/.* up=\([0-9.]*\).*/\1/p' <<<"$1"; }

boot_and_run() {
  local vm=$1 t_start phase="boot" deadline now
  case $CHAOSCTL_VM_ACCEL in
    tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
    kvm) ACCEL_ARGS=(-accel kvm -cpu "${CHAOSCTL_VM_CPU:-max}") ;;
    *) die "CHAOSCTL_VM_ACCEL must be tcg or kvm" ;;
  esac
  : >"$TMP/console.log"
  # TMPDIR: where QEMU keeps the copy-on-write layer of the root disk (snapshot=on).
  TMPDIR=$TMP timeout -k 10 "$CHAOSCTL_VM_TIMEOUT" qemu-system-x86_64 \
    "${ACCEL_ARGS[@]}" -m "$CHAOSCTL_VM_MEM" -smp "$CHAOSCTL_VM_CPUS" \
    -nodefaults -display none -no-reboot -serial "file:$TMP/console.log" \
    -kernel "$vm/vmlinuz" -initrd "$vm/initrd.img" \
    -drive "file=$vm/rootfs.img,format=raw,if=virtio,snapshot=on" \
    -drive "file=$TMP/run.img,format=raw,if=virtio" \
    -drive "file=$DOCKER_DISK,format=raw,if=virtio,snapshot=on" \
    -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off init=/sbin/chaosctl-vm-boot" \
    </dev/null >"$TMP/qemu.out" 2>&1 &
  QEMU_PID=$!
  t_start=$(now_ms)
  # The console, live, with markers shown as timed phase lines (tail ends with QEMU).
  tail -n +1 -F --pid="$QEMU_PID" "$TMP/console.log" 2>/dev/null | while IFS= read -r line; do
    line=${line%$'\r'}
    case $line in
      "@@chaosctl-vm $NONCE "*) rest=${line#"@@chaosctl-vm $NONCE "}; printf '[vm %ss] %s\n' "$(uptime_of "$line")" "${rest% up=*}" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done &
  TAIL_PID=$!

  deadline=$(( t_start + CHAOSCTL_VM_BOOT_TIMEOUT * 1000 ))
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    now=$(now_ms)
    if [ "$phase" = boot ] && [ -n "$(marker init)" ]; then
      BOOT_S=$(secs_since "$t_start"); phase=setup; deadline=$(( now + CHAOSCTL_VM_SETUP_TIMEOUT * 1000 ))
    fi
    if [ "$phase" = setup ] && [ -n "$(marker suite-start)" ]; then phase=suite; deadline=0; fi
    if [ "$deadline" -gt 0 ] && [ "$now" -gt "$deadline" ]; then
      LANE_ERROR="the VM did not get past '$phase' within $([ "$phase" = boot ] && echo "$CHAOSCTL_VM_BOOT_TIMEOUT" || echo "$CHAOSCTL_VM_SETUP_TIMEOUT") s"
      kill "$QEMU_PID" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  wait "$QEMU_PID" && QEMU_RC=0 || QEMU_RC=$?
  QEMU_PID=""
  VM_WALL_S=$(secs_since "$t_start")
  # The reader prints the last lines and ends with tail (about 1 s after QEMU); bounded anyway.
  for _ in $(seq 1 30); do kill -0 "$TAIL_PID" 2>/dev/null || break; sleep 0.1; done
  kill "$TAIL_PID" 2>/dev/null || true; TAIL_PID=""
  LAST_PHASE=$phase
}

# --- results -----------------------------------------------------------------------------
read_result() { debugfs -R "cat /results/$1" "$TMP/run.img" 2>/dev/null || true; }

report_and_exit() {
  local exit_line rc err
  exit_line=$(marker exit)
  err=$(grep -a "^@@chaosctl-vm $NONCE \(error\|boot-failed\)" "$TMP/console.log" 2>/dev/null | tr -d '\r' | sed 's/ up=.*//; s/^@@chaosctl-vm [0-9a-f]* //' || true)
  err=${err:-$(grep -a "^@@chaosctl-vm boot-failed" "$TMP/console.log" 2>/dev/null | tr -d '\r' | head -n 1 || true)}
  if [ -n "${CHAOSCTL_VM_ARTIFACTS:-}" ]; then
    mkdir -p "$CHAOSCTL_VM_ARTIFACTS"
    tr -d '\r' <"$TMP/console.log" >"$CHAOSCTL_VM_ARTIFACTS/console.log"
    read_result suite.log >"$CHAOSCTL_VM_ARTIFACTS/suite.log"
    read_result dockerd.log >"$CHAOSCTL_VM_ARTIFACTS/dockerd.log"
    [ "$MODE" != bench ] || for f in netem-bench.md netem-bench.json; do read_result "$f" >"$CHAOSCTL_VM_ARTIFACTS/$f"; done
  fi
  if [ "$MODE" = bench ]; then
    log "--- bench/netem.ts results (from the run disk) ---"
    read_result netem-bench.md
  fi
  timings
  if [ -n "$exit_line" ]; then
    rc=$(read_result exit-code | tr -dc '0-9')
    rc=${rc:-$(sed -n 's/.* exit \([0-9]*\) .*/\1/p' <<<"$exit_line")}
    [ -z "$err" ] || log "vm lane: $err"
    log "vm lane: suite exit code $rc"
    exit "$rc"
  fi
  if [ -n "${LANE_ERROR:-}" ]; then
    log "vm lane: FAILED: $LANE_ERROR"; tail_console; exit 125
  fi
  if [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
    log "vm lane: FAILED: the VM did not finish within CHAOSCTL_VM_TIMEOUT=${CHAOSCTL_VM_TIMEOUT} s (phase: $LAST_PHASE)"
    tail_console; exit 124
  fi
  log "vm lane: FAILED: the VM stopped (qemu exit $QEMU_RC) without a result${err:+: $err}"
  [ ! -s "$TMP/qemu.out" ] || { log "qemu said:"; tail -n 5 "$TMP/qemu.out" >&2; }
  tail_console; exit 125
}

tail_console() { log "--- last console lines ---"; tr -d '\r' <"$TMP/console.log" | grep -av '^@@' | tail -n 15 >&2 || true; }

timings() {
  local u_init u_docker u_images u_start u_end
  u_init=$(uptime_of "$(marker init)"); u_docker=$(uptime_of "$(marker dockerd)")
  u_images=$(uptime_of "$(marker images)"); u_start=$(uptime_of "$(marker suite-start)")
  u_end=$(uptime_of "$(marker suite-end)")
  log "vm lane timings: build ${BUILD_S}, images+run disk ${STAGE_S}, VM wall ${VM_WALL_S:-?}" \
    "(boot to init ${BOOT_S:-?} host; guest uptime: init ${u_init:-?}s, dockerd ${u_docker:-?}s, images ${u_images:-?}s," \
    "suite start ${u_start:-?}s, suite end ${u_end:-?}s), total $(secs_since "$T_ALL")"
}

main() {
  local vm t
  t=$(now_ms)
  ensure_host_tools
  vm=$(bash scripts/vm/build.sh)
  BUILD_S=$(secs_since "$t")
  t=$(now_ms)
  ensure_docker_disk
  check_space /var/tmp 2048
  TMP=$(mktemp -d /var/tmp/chaosctl-vm.XXXXXX)
  make_run_disk
  STAGE_S=$(secs_since "$t")
  log "==> VM: $([ "$MODE" = bench ] && echo "bench/netem.ts, $BENCH_NETEM_ROUNDS rounds" || echo "${SUITES[*]}") (${CHAOSCTL_VM_ACCEL}, ${CHAOSCTL_VM_CPUS} vCPU, ${CHAOSCTL_VM_MEM} MB, bound ${CHAOSCTL_VM_TIMEOUT} s)"
  boot_and_run "$vm"
  report_and_exit
}

main
