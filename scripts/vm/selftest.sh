#!/usr/bin/env bash
# The real-kernel lane under bad conditions: a VM that does not boot in
# time, a suite that hangs, a disk that fills. Each case must end within its bound, with a clear
# message and the exit code run.sh documents, and leave no QEMU process and no temp dir behind.
#
#   bash scripts/vm/selftest.sh          # ~6 min under software emulation (root)
#
# Not part of .ci/run: every case makes the lane fail on purpose.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

FAILED=0
leftovers() { { ls -d /var/tmp/chaosctl-vm.* 2>/dev/null; pgrep -f 'qemu-system-x86_64.*chaosctl-vm' || true; } | sort; }

# case NAME EXPECTED_RC PATTERN MAX_SECONDS [ENV=VAL ...] -- [run.sh args]
case_() {
  local name=$1 want=$2 pattern=$3 max=$4; shift 4
  local envs=() args=() before after rc t0 secs out
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  before=$(leftovers)
  out=$(mktemp)
  t0=$(date +%s)
  env "${envs[@]}" bash scripts/vm/run.sh "${args[@]}" >"$out" 2>&1
  rc=$?
  secs=$(( $(date +%s) - t0 ))
  after=$(leftovers)
  local verdict=ok why=()
  [ "$rc" -eq "$want" ] || why+=("exit $rc, expected $want")
  grep -qiE "$pattern" "$out" || why+=("no line matching /$pattern/")
  [ "$secs" -le "$max" ] || why+=("took ${secs}s, bound ${max}s")
  [ "$before" = "$after" ] || why+=("left behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')")
  [ ${#why[@]} -eq 0 ] || { verdict=FAILED; FAILED=1; }
  log "selftest ${name}: ${verdict} (exit ${rc} in ${secs}s)${why:+: ${why[*]}}"
  log "    $(grep -iE "$pattern" "$out" | head -n 1)"
  [ "$verdict" = ok ] || { log "--- last lines ---"; tail -n 25 "$out" >&2; }
  rm -f "$out"
}

case_ boot-timeout 125 "did not get past 'boot'" 120 CHAOSCTL_VM_BOOT_TIMEOUT=3 -- test/vm/baseline.vmtest.ts
case_ hang 124 "did not finish within" 300 CHAOSCTL_VM_TIMEOUT=200 -- test/vm/selftest/hang.vmtest.ts
case_ disk-full 1 "no space left on device" 900 -- test/vm/selftest/disk-full.vmtest.ts
exit $FAILED
