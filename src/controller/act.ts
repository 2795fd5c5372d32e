// The act phase: the plan's actions carried out, one step per kind of action, in ACT_STEPS order.
// Each step calls the gate before every effect, turns what happened into run events (for the
// record phase) and audit records, and keeps PassState.current true to what is now injected.
// Under --dry-run the steps log what they would do and change nothing.
import type { Action } from "./plan.js";
import type { RunEvent } from "./status.js";
import { appliedRecords, revertRecord, skipRecord } from "./audit-log.js";
import { executeExtend, executeReapply, executeRevert, executeStart } from "./execute.js";
import { pushEvent, statusFor, type PassState } from "./pass.js";
import { probeGateStep, probeStartedStep } from "./probes.js";
import { killSwitchRaised } from "./kill-switch.js";

/**
 * The kill switch went on after this pass observed it off: drop the rest of its starts (the pass
 * that follows, woken by the file's watch, reverts what is injected and records the runs).
 */
function switchedOff(s: PassState, what: { key: string; run: string }): boolean {
  if (s.obs.killSwitch || !killSwitchRaised(s.env.killSwitchFile)) return false;
  s.env.logger.warn(
    { event: "skip", schedule: what.key, run: what.run, reason: "KillSwitch" },
    "kill switch raised during the pass: not started",
  );
  return true;
}

/** One step of the act phase. */
export type ActStep = (s: PassState) => Promise<void>;

const actionsOf = <T extends Action["type"]>(s: PassState, type: T): Extract<Action, { type: T }>[] =>
  s.plan.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

/** Reverts first: they free safety budget and end what is no longer wanted. */
export const revertStep: ActStep = async (s) => {
  const { env, deps } = s;
  for (const a of actionsOf(s, "revert")) {
    if (env.config.dryRun) {
      const { schedule, run } = a.handle.owner;
      env.logger.info({ event: "dry-run", action: "revert", schedule, run, reason: a.reason }, "dry run: would revert");
      continue;
    }
    env.gate();
    const r = await executeRevert(a, deps, env.clock());
    s.audit.push(revertRecord(a, r.ok, r.message, env.clock(), env.instance));
    if (r.ok) s.current = s.current.map((h) => (h === a.handle ? { ...h, guardState: "exited", guardExitCode: 0 } : h));
    pushEvent(s, a.handle.owner.schedule, {
      type: "reverted",
      run: a.handle.owner.run,
      reason: a.reason,
      ok: r.ok,
      ...(r.message ? { message: r.message } : {}),
      ...(a.handle.target.taskId ? { task: a.handle.target.taskId } : {}),
    });
  }
};

/** Network injections whose destinations moved: same owner and expiry, fresh addresses. */
export const reapplyStep: ActStep = async (s) => {
  const { env, deps } = s;
  if (env.config.dryRun) return;
  for (const a of actionsOf(s, "reapply")) {
    env.gate();
    const r = await executeReapply(a, deps, env.clock());
    s.audit.push(revertRecord(a, r.ok, r.message, env.clock(), env.instance));
    // The new guard; or, when nothing was re-applied, the old one reverted (kept if its revert failed).
    const after =
      r.handle ?? (r.reason === "RevertFailed" ? a.handle : { ...a.handle, guardState: "exited", guardExitCode: 0 });
    s.current = s.current.map((h) => (h === a.handle ? after : h));
    const { run, schedule } = a.handle.owner;
    pushEvent(s, schedule, {
      type: "reapplied",
      run,
      ok: r.ok,
      ...(a.handle.target.taskId ? { task: a.handle.target.taskId } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.message ? { message: r.message } : {}),
    });
  }
};

/**
 * Runs the plan skipped (late, unsafe, no target...): recorded as Skipped. A run held back for a
 * reason that may pass (retryUntil) is not spent: status shows it as waiting, the audit log and
 * the info log get it once, when it is first held.
 */
export const skipStep: ActStep = async (s) => {
  const { env } = s;
  for (const a of actionsOf(s, "skip")) {
    const log = { event: a.retryUntil ? "hold" : "skip", schedule: a.key, run: a.run, fault: a.fault };
    if (a.retryUntil) {
      const first = s.statusOf.get(a.key)?.waiting?.run !== a.run;
      env.logger[first ? "info" : "debug"](
        { ...log, reason: a.reason, message: a.message, retryUntil: a.retryUntil.toISOString() },
        "run held back: tried again until the starting deadline",
      );
    } else {
      s.audit.push(skipRecord(a, env.clock(), env.instance));
      env.logger.info({ ...log, reason: a.reason, message: a.message }, "run skipped");
    }
    const source = s.byKey.get(a.key)?.provenance;
    pushEvent(s, a.key, {
      type: "skipped",
      run: a.run,
      generation: a.generation,
      fault: a.fault,
      scheduledAt: a.scheduledAt,
      reason: a.reason,
      message: a.message,
      ...(a.retryUntil ? { retryUntil: a.retryUntil } : {}),
      ...(source ? { source } : {}),
    });
  }
};

/**
 * New runs. Status first: the run is recorded before anything is injected, so a crash can lose a
 * run but never repeat one. A run whose record cannot be written is not started.
 */
export const startStep: ActStep = async (s) => {
  const { env, deps } = s;
  for (const a of actionsOf(s, "start")) {
    const m = s.byKey.get(a.key);
    if (!m || switchedOff(s, a)) continue;
    const run = {
      run: a.run,
      generation: a.generation,
      fault: a.fault,
      scheduledAt: a.scheduledAt,
      targets: a.targets,
      services: a.services,
      ...(a.note ? { note: a.note } : {}),
    };
    if (env.config.dryRun) {
      const targets = a.targets.map((t) => t.taskId ?? t.nodeId);
      env.logger.info(
        { event: "dry-run", action: "start", schedule: a.key, run: a.run, fault: a.fault, targets },
        "dry run: would inject",
      );
      pushEvent(s, a.key, { type: "dryRun", ...run });
      continue;
    }
    const started: RunEvent = { type: "started", ...run, ...(m.provenance ? { source: m.provenance } : {}) };
    const pre = statusFor(s, m, s.statusOf.get(a.key), [...(s.events.get(a.key) ?? []), started]);
    env.gate();
    const w = await env.store.writeStatus(a.key, a.generation, pre);
    if (w !== "written" && w !== "unchanged") {
      env.logger.warn(
        { event: "skip", schedule: a.key, run: a.run, reason: "StatusNotWritten", result: w },
        "run not started: its record could not be written first",
      );
      s.writes.set(a.key, w);
      continue;
    }
    s.statusOf.set(a.key, pre);
    s.events.set(a.key, []);
    const out = await executeStart(a, deps, env.clock(), m.provenance);
    s.current = s.current.concat(out.handles);
    pushEvent(s, a.key, { type: "applied", run: a.run, results: out.results });
    s.audit.push(...appliedRecords(a, out.results, env.clock(), env.instance, m.provenance));
  }
};

/** Replacements join their active run (after the reverts that dropped the tasks they replace). */
export const extendStep: ActStep = async (s) => {
  const { env, deps } = s;
  if (env.config.dryRun) return;
  for (const a of actionsOf(s, "extend")) {
    if (switchedOff(s, a)) continue;
    env.gate();
    // A replacement carries its run's provenance (the commit that started the run).
    const source = s.statusOf.get(a.key)?.history?.find((r) => r.run === a.run)?.source;
    const out = await executeExtend(a, deps, env.clock(), source);
    s.current = s.current.concat(out.handles);
    for (const result of out.results)
      pushEvent(s, a.key, { type: "extended", run: a.run, replaces: a.replaces, result });
    s.audit.push(...appliedRecords(a, out.results, env.clock(), env.instance, source));
  }
};

/** The act phase, in order. Reverts come before starts so that a start sees the budget they freed. */
export const ACT_STEPS: readonly ActStep[] = [
  revertStep,
  reapplyStep,
  skipStep,
  probeGateStep,
  startStep,
  probeStartedStep,
  extendStep,
];
