# The entry point of a network guard (netem, network, node partition) in the chaosctl image
# (/app/netns-guard.sh, run as `/bin/sh /app/netns-guard.sh`): apply the fault before Node.js
# starts, then run the Node.js entry, which adopts it and owns its revert. docs/guards.md, "The shell prelude".
#
# Arguments: UNTIL_MS TC_BATCH IPT_RESTORE GUARD_ARGV...
#   UNTIL_MS     the guard's expiry (--until) in ms since the epoch: past it, nothing is applied;
#   TC_BATCH     the clean namespace's tc steps, one `tc -batch -` input ("" for none);
#   IPT_RESTORE  its iptables steps, one `iptables-restore --noflush` input ("" for none);
#   GUARD_ARGV   `guard --fault ... --spec ...`, handed to the Node.js entry as they are.
# The texts are computed ahead from GUARD_ARGV (src/faults/netns/shell-prelude.ts); the agent
# starts this entry only when they are exactly what GUARD_ARGV gives.
#
# The Node.js entry learns what happened here from CHAOSCTL_NETNS_PRELUDE:
#   applied  both commands succeeded (the steps of a clean plan fail where anything of ours is):
#            it adopts (adds only what is missing) and reverts at expiry or on a stop;
#   failed   a command failed (the namespace was not clean, the kernel refused, a batch stopped
#            half way): it converges from what it reads, as any apply, and says why if it cannot;
#   late     the expiry had passed: it only reverts;
#   (empty)  `date` gave no time in ms (a base image whose date lacks %N): nothing applied here, the
#            Node.js prelude applies as it does without a shell;
#   stopped  a stop came before the guard verb could take it: it reverts and exits.
# and, with `applied`, CHAOSCTL_NETNS_APPLIED_MS: when (a guard with --hold holds from there).
#
# Signals: the engine's init (tini) forwards SIGTERM/SIGINT to this shell. While it applies, the
# trap only notes them (the command under way finishes first); the Node.js entry then runs in
# `stopped` mode and reverts. Once Node.js runs it gets them forwarded; a Node.js that had not yet
# installed its handlers dies by the signal (Node.js resets every disposition at its start, so
# nothing inherited can hold it), and this shell then runs the `stopped` mode to revert.
until_ms=$1 tc_text=$2 ipt_text=$3
shift 3
entry=${0%/*}/dist/src/cli/netns-guard.js
errf=/tmp/netns-prelude.err
stopped='' child=''
trap 'stopped=TERM; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM
trap 'stopped=INT; [ -z "$child" ] || kill -INT "$child" 2>/dev/null' INT

# The clock in ms; empty where `date` cannot say (a base image whose date lacks %N).
now_ms() {
  t=$(date +%s%3N 2>/dev/null)
  case $t in '' | *[!0-9]*) t='' ;; esac
  echo "$t"
}

# A log record in the guard's format (one JSON object a line, as the Node.js guard writes).
record() { # event time-ms extra-fields msg
  printf '{"level":30,"time":%s,"event":"%s","by":"prelude","shell":true%s,"msg":"%s"}\n' "$2" "$1" "$3" "$4"
}

start=$(now_ms)
state=late
if [ -z "$start" ]; then
  # No clock to check the expiry with: apply nothing; the Node.js prelude applies as without a shell.
  state=''
  record prelude-skipped "0" ',"err":"date +%s%3N gave no time in ms"' "shell prelude did not apply"
elif [ "$start" -lt "$until_ms" ]; then
  state=applied
  if [ -n "$tc_text" ]; then
    tc -batch - 2>"$errf" <<EOF || state=failed
$tc_text
EOF
  fi
  if [ "$state" = applied ] && [ -n "$ipt_text" ]; then
    iptables-restore -w 5 --noflush 2>"$errf" <<EOF || state=failed
$ipt_text
EOF
  fi
  end=$(now_ms)
  if [ "$state" = applied ]; then
    record applied "${end:-0}" ",\"ms\":$((${end:-$start} - start))" "fault applied (shell prelude)"
  else
    record prelude-skipped "${end:-0}" ",\"err\":\"$(tr -d '\000-\037"\\' <"$errf" | cut -c1-400)\"" \
      "shell prelude did not apply: the guard converges"
  fi
fi

if [ -z "$stopped" ]; then
  CHAOSCTL_NETNS_PRELUDE=$state CHAOSCTL_NETNS_APPLIED_MS=${end:-} node "$entry" "$@" &
  child=$!
  [ -z "$stopped" ] || kill -"$stopped" "$child" 2>/dev/null # a stop between the test and $!
  # `wait` returns early when a trap runs; the child's own status comes from a wait after its end.
  while kill -0 "$child" 2>/dev/null; do wait "$child"; done
  wait "$child"
  rc=$?
  # Exited on its own (0 after its revert, or a failure the engine's restart policy handles), or
  # died by a signal that did not come through this shell: its status is the guard's.
  if [ -z "$stopped" ] || { [ "$rc" -ne 143 ] && [ "$rc" -ne 130 ]; }; then exit "$rc"; fi
fi
# Stopped before the guard verb had its handlers: revert (Node.js's light modules, no guard verb).
# Further signals are only noted: this revert is what a stop asks for.
child=''
CHAOSCTL_NETNS_PRELUDE=stopped node "$entry" "$@"
