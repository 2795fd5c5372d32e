#!/usr/bin/env bash
# The test suite as `npm test` runs it (after the type check): the unit group, then the docker
# lanes of vitest.config.ts. "docker-cluster" and the host lanes touch disjoint things (the run's
# shared three-node cluster; services, containers and configs scoped by their own random
# names on the host's Swarm), so they run at the same time, each as its own
# vitest process whose lines are prefixed with its name; "docker-alone" (files that load or
# measure the whole host) runs after them, by itself. Every lane runs even when an earlier one
# failed; the exit status is non-zero when any failed.
# `--docker`: the docker lanes only (under the engine lock, say). With other arguments (files,
# -t, --project ...) it is a plain `vitest run ARGS`, one file at a time in the docker lanes.
set -uo pipefail
cd "$(dirname "$0")/.."
VITEST=node_modules/.bin/vitest

UNIT=1
if [ "${1-}" = "--docker" ]; then UNIT=0; shift; fi
if [ "$#" -gt 0 ]; then exec "$VITEST" run "$@"; fi

failed=()
summary=()
note() { summary+=("$(printf '%-15s %-7s %4ss' "$1" "$2" "$3")"); }

lane() { # lane NAME: one vitest project, its lines prefixed with [NAME]; returns vitest's status
  local t=$(date +%s) rc
  "$VITEST" run --project "$1" 2>&1 | sed -u "s/^/[$1] /"
  rc=${PIPESTATUS[0]}
  note "$1" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - t ))"
  return "$rc"
}

if [ "$UNIT" = 1 ]; then
  t=$(date +%s)
  "$VITEST" run --project unit || failed+=(unit)
  note unit "$([[ " ${failed[*]-} " == *" unit "* ]] && echo FAILED || echo ok)" "$(( $(date +%s) - t ))"
fi

pids=()
names=(docker-cluster docker-host docker-host-b docker-host-c)
tmp=$(mktemp -d)
# A lane is a subshell running vitest | sed: stop its children too, not only the subshell.
stop_lanes() {
  local p
  for p in "${pids[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null
    kill "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap stop_lanes EXIT
trap 'exit 130' INT TERM
for n in "${names[@]}"; do
  ( lane "$n"; rc=$?; printf '%s\n' "${summary[-1]}" >"$tmp/$n.summary"; exit "$rc" ) &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
  summary+=("$(cat "$tmp/${names[$i]}.summary" 2>/dev/null || echo "${names[$i]} ?")")
done
pids=()

lane docker-alone || failed+=(docker-alone)

echo
echo "scripts/test.sh: lanes (${names[*]} ran at the same time):"
printf '  %s\n' "${summary[@]}"
echo "  total ${SECONDS}s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "scripts/test.sh: FAILED: ${failed[*]}"
  exit 1
fi
