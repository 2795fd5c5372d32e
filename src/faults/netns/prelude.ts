// The prelude of a network guard (netem, network, node partition; its entry point is
// cli/netns-guard.ts): apply the fault in the target's (or node's) namespace first, with only the
// small pure modules of the netns and partition code loaded; then the entry point loads chaosctl and runs the guard verb as usual, which adopts what the prelude applied (its effect only adds what is
// missing) and owns the revert. The fault lands a Node.js start (~60 ms) after the guard's
// container starts instead of after chaosctl's whole module graph has loaded (~300-700 ms).
//
// The prelude is part of the guard: it runs only in a guard whose start the engine has, so the
// guard that reverts at expiry exists before the fault does, whatever happens to the controller.
// It applies nothing when the expiry has passed (the guard then only reverts), and a failure here
// is not the verdict: the guard's own apply runs next and reports why it cannot.
import { writeSync } from "node:fs";
import { applyInjection, applyToClean, revertInjection, type NetnsExec } from "./converge.js";
import { localExec } from "./exec-local.js";
import { unwrapSpec } from "./guard-spec.js";
import { markPreludeApplied, setPreludeHandOff } from "./prelude-state.js";
import { guardOption, injectionBuilders } from "./injections.js";
import { applyPartitionToClean, partitionEffect, removePartition } from "../node/partition-effect.js";
import { unwrapNodeSpec } from "../node/spec.js";

/**
 * Log records on stdout, written synchronously: a record followed by process.exit (a stop in the
 * prelude) must not be lost with an asynchronous pipe write, since recover reads it.
 */
const stdoutSync = (line: string): void => void writeSync(1, line);

type Record_ = (fields: Record<string, unknown>, msg: string) => void;
const recorder =
  (write: (line: string) => void): Record_ =>
  (fields, msg) =>
    write(`${JSON.stringify({ level: 30, time: Date.now(), ...fields, msg })}\n`);

/**
 * What the shell prelude (netns-guard.sh) says it did, from CHAOSCTL_NETNS_PRELUDE: `applied` (the
 * clean plan, every command succeeded), `failed` (a command failed: converge from a read), `late`
 * (the expiry had passed), `stopped` (see preludeStopped); undefined: no shell prelude ran.
 */
export type ShellOutcome = "applied" | "failed" | "late" | "stopped";

export const shellOutcome = (v: string | undefined): ShellOutcome | undefined =>
  v === "applied" || v === "failed" || v === "late" || v === "stopped" ? v : undefined;

/** Applies the guard's fault if argv is a network or partition guard's within its window; true when it did. */
export async function prelude(
  argv: readonly string[],
  now = Date.now(),
  exec: NetnsExec = localExec(),
  write: (line: string) => void = stdoutSync,
  shell: ShellOutcome | undefined = undefined,
  shellAppliedAt: number | undefined = undefined,
): Promise<boolean> {
  const record = recorder(write);
  const fault = guardOption(argv, "fault");
  if (argv[0] !== "guard" || (fault !== "network" && fault !== "netem" && fault !== "node")) return false;
  const until = Date.parse(guardOption(argv, "until") ?? "");
  if (!(until > now) || shell === "late") return false; // late start: the guard only reverts
  const t0 = performance.now();
  let revert: () => Promise<unknown>;
  try {
    const raw: unknown = JSON.parse(guardOption(argv, "spec") ?? "null");
    let apply: () => Promise<unknown>;
    if (fault === "node") {
      // A node partition: the guard runs in the node's own namespace (host network).
      const s = unwrapNodeSpec(raw);
      if (s.action !== "partition") return false;
      const effect = partitionEffect(exec, s.owner, s.keepTcpPorts ?? []);
      revert = () => effect.revert();
      // A guard's start: most likely no chain of its run yet (a restarted guard's fails here, as
      // the shell's restore did, and the guard verb's apply starts from a clean slate).
      apply = () => applyPartitionToClean(exec, s.owner, s.keepTcpPorts ?? []);
    } else {
      const { key, spec } = unwrapSpec<never>(fault, raw);
      const inj = injectionBuilders[fault](key, spec);
      revert = () => revertInjection(exec, key);
      // After a failed shell apply the namespace is not clean (or half written): read it first.
      // Otherwise a guard's start: most likely a clean namespace.
      apply = () => (shell === "failed" ? applyInjection(exec, inj, "write") : applyToClean(exec, inj));
    }
    if (shell === "applied") {
      // The shell wrote this very plan (a partition: its one restore) and logged `applied`: adopted
      // as it is; the guard verb's apply reads once and adds what is missing (a partition: nothing).
      // Until the verb has loaded, a stop reverts here.
      markPreludeApplied(shellAppliedAt ?? now);
      stopRevertsHere(revert, record);
      return true;
    }
    await apply();
  } catch (err) {
    record(
      { event: "prelude-skipped", err: err instanceof Error ? err.message : String(err) },
      "prelude did not apply",
    );
    return false;
  }
  markPreludeApplied(Date.now());
  record({ event: "applied", by: "prelude", ms: Math.round(performance.now() - t0) }, "fault applied (prelude)");
  stopRevertsHere(revert, record);
  return true;
}

/**
 * The shell prelude's `stopped` mode: a stop came before the guard verb could take it (while the
 * shell applied, or while Node.js was still loading, which a signal ends). Revert this guard's
 * injection (a node partition: its jumps and chain), whatever of it is there, and say so as the
 * guard verb would; the exit code.
 */
export async function preludeStopped(
  argv: readonly string[],
  exec: NetnsExec = localExec(),
  write: (line: string) => void = stdoutSync,
): Promise<number> {
  const record = recorder(write);
  try {
    const fault = guardOption(argv, "fault");
    if (argv[0] !== "guard" || (fault !== "network" && fault !== "netem" && fault !== "node"))
      throw new Error(`the stopped mode is a network, netem or node partition guard's, not ${String(fault)}'s`);
    const raw: unknown = JSON.parse(guardOption(argv, "spec") ?? "null");
    if (fault === "node") {
      const s = unwrapNodeSpec(raw);
      if (s.action !== "partition") throw new Error(`the stopped mode is a node partition's, not ${s.action}'s`);
      await removePartition(exec, s.owner);
    } else {
      const { key } = unwrapSpec<never>(fault, raw);
      await revertInjection(exec, key);
    }
  } catch (err) {
    record(
      { event: "revert", result: "failed", reason: "RevertError", err: String(err) },
      "revert failed (stopped before the guard verb)",
    );
    return 1;
  }
  record({ event: "reverted", result: "reverted", by: "prelude" }, "fault reverted (stopped before the guard verb)");
  return 0;
}

/**
 * Until the guard verb has loaded and installed its own handlers, a SIGTERM/SIGINT (an early
 * revert, the kill switch) is the prelude's: it reverts with the same light modules and exits 0
 * saying so, as the verb would, instead of dying with the fault in place.
 */
function stopRevertsHere(revert: () => Promise<unknown>, record: Record_): void {
  let reverting: Promise<void> | undefined;
  const onSignal = (): void => {
    reverting ??= revert().then(
      () => {
        record({ event: "reverted", result: "reverted", by: "prelude" }, "fault reverted (prelude, stopped)");
        process.exit(0);
      },
      (err: unknown) => {
        record({ event: "revert", result: "failed", reason: "RevertError", err: String(err) }, "revert failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  setPreludeHandOff(() => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    return reverting;
  });
}
