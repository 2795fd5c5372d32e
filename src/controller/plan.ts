// plan(desired, observed, now) → actions. Pure: no I/O, no clock, randomness injected.
// `chaosctl diff`, dry-run and the table tests all call this one function, so what they show is
// what the controller does.
// size: over 400 lines with plan() itself; see the note on plan().
import { createHash } from "node:crypto";
import type { ClusterSnapshot, ServiceInfo } from "../engine/engine.js";
import { DURATIVE, isActive, type FaultKind, type InjectionHandle, type Target } from "../faults/driver.js";
import type { StoredManifest } from "../store/store.js";
import { parseDuration } from "../api/duration.js";
import { dueRun } from "./schedule.js";
import {
  candidates,
  candidatesAllowed,
  countForMode,
  isRunningTask,
  pick,
  serviceMatches,
  type SelectorSpec,
} from "./select.js";
import { maxUnavailableFor, desiredTasks, runningTasks, UnavailabilityLedger } from "./safety.js";
import { chooseNodes } from "./node-targets.js";
import type { NodeFault } from "../api/types.js";
import { checkStressPlan } from "../faults/stress/plan-note.js";
import type { StressSpec } from "../faults/stress/spec.js";
import { MIN_REST_MS, NETWORK_FAULTS, replacementsOf, reresolve, resolveTargets, targetGone } from "./network.js";

export interface PlanConfig {
  /** For schedules without spec.startingDeadline. */
  startingDeadlineMs: number;
  /** Controller-wide cap on any fault's duration. */
  maxDurationMs: number;
  /** Only services/nodes labelled chaosctl.io/enabled=true are candidates. */
  requireOptIn: boolean;
  /** Revert everything and start nothing (the kill switch). */
  killSwitch: boolean;
  /**
   * Plan as usual, execute nothing: starts are recorded in status as DryRun runs with the targets
   * chosen, reverts are only logged. The controller makes no mutating engine call.
   */
  dryRun: boolean;
  /** A guard still running this long after its expiry is reverted by the controller itself. */
  guardGraceMs: number;
  /** Fault kinds this controller can execute; others are skipped with FaultUnsupported. */
  supportedFaults: ReadonlySet<FaultKind>;
}

export const defaultPlanConfig: PlanConfig = {
  startingDeadlineMs: 60_000,
  maxDurationMs: 24 * 3600_000,
  requireOptIn: false,
  killSwitch: false,
  dryRun: false,
  guardGraceMs: 5_000,
  supportedFaults: new Set<FaultKind>(["kill", "stop", "restart", "pause", "netem", "network", "stress", "process"]),
};

export interface PlanInput {
  now: Date;
  manifests: readonly StoredManifest[];
  /** Keys of manifests that exist but are invalid: start nothing, keep what runs until expiry. */
  invalidKeys: ReadonlySet<string>;
  snapshot: ClusterSnapshot;
  injections: readonly InjectionHandle[];
  config: PlanConfig;
  random: () => number;
  /** Runs a stopOnFailure probe aborted: every injection of them is reverted now. */
  aborted?: ReadonlySet<string>;
  /** Schedules halted after an abort: they start nothing until resumed. */
  halted?: ReadonlySet<string>;
  /** Why the controller's stop condition fails, while it does: as the kill switch, with its own reason. */
  stopCondition?: string;
}

/** TargetGone: the target task is over; its namespace or container went with it, nothing to undo. */
export type RevertReason =
  | "Expired"
  | "Suspended"
  | "Deleted"
  | "SpecChanged"
  | "Replaced"
  | "KillSwitch"
  | "GuardFailed"
  | "TargetGone"
  | "DestinationsChanged"
  | "ProbeFailed"
  | "StopCondition";

export interface StartRun {
  type: "start";
  key: string;
  generation: number;
  run: string;
  scheduledAt: Date;
  fault: FaultKind;
  faultSpec: unknown;
  targets: Target[];
  /** Network faults: the spec resolved for each target (same order as targets), for its driver. */
  targetSpecs?: unknown[];
  services: string[];
  durationMs?: number;
  /** Targets dropped by the never-all-tasks rule, for the record. */
  note?: string;
}

export interface SkipRun {
  type: "skip";
  key: string;
  generation: number;
  run: string;
  scheduledAt: Date;
  fault: FaultKind;
  reason: string;
  message: string;
  /**
   * Held back, not spent: the reason may pass (a safety budget, tasks still recovering or held by
   * other schedules), so the run is tried again on later passes until this time (its nominal time
   * plus the starting deadline), and only then recorded as Skipped.
   */
  retryUntil?: Date;
}

/** How soon a held-back run is tried again (task changes wake the loop sooner). */
export const HOLD_RETRY_MS = 2_000;

export interface Revert {
  type: "revert";
  handle: InjectionHandle;
  reason: RevertReason;
}

/** A task Swarm started in place of a target of an active mode-all run: injected for the rest of it. */
export interface ExtendRun {
  type: "extend";
  key: string;
  generation: number;
  run: string;
  fault: FaultKind;
  /** The run's own expiry (taken from the replaced target's injection). */
  expires: Date;
  target: Target;
  /** The spec for this target (resolved for network faults). */
  faultSpec: unknown;
  /** Task id of the run's target it replaces. */
  replaces: string;
}

/** Destinations of an active network injection moved: revert and apply again, same owner and expiry. */
export interface Reapply {
  type: "reapply";
  handle: InjectionHandle;
  /** The freshly resolved spec for the handle's target. */
  faultSpec: unknown;
}

export type Action = StartRun | SkipRun | Revert | ExtendRun | Reapply;

export interface SchedulePlan {
  /** Next nominal run time, written to status.nextScheduleTime. */
  next?: Date;
}

export interface Plan {
  actions: Action[];
  schedules: Map<string, SchedulePlan>;
  /** When the loop wants to run again without any event. */
  wakeAt?: Date;
}

export function faultKindOf(fault: object): FaultKind {
  const keys = Object.keys(fault);
  return keys[0] as FaultKind;
}

/** Stable, label-safe run id: schedule hash, generation, nominal time. */
export function runId(key: string, generation: number, scheduledAt: Date): string {
  const h = createHash("sha256").update(key).digest("hex").slice(0, 8);
  return `${h}-g${generation}-${Math.floor(scheduledAt.getTime() / 1000).toString(36)}`;
}

// size: the planner's main loop over schedules; to be cut into steps (as the pass was) once the
// probe and status-truth work now landing on it is in, so that work is not rebased onto a rewrite.
export function plan(input: PlanInput): Plan {
  const { now, snapshot, config } = input;
  const actions: Action[] = [];
  const schedules = new Map<string, SchedulePlan>();
  const byKey = new Map(input.manifests.map((m) => [m.key, m]));
  const active = input.injections.filter(isActive);
  const ledger = new UnavailabilityLedger(snapshot, active);
  /** Nodes under a node fault now, or chosen for one in this pass. */
  const nodesOut = new Set(active.filter((h) => h.fault === "node").map((h) => h.target.nodeId));
  const reverted = new Set<InjectionHandle>();
  let wakeAt: number | undefined;
  const wake = (t: Date | number | undefined): void => {
    if (t === undefined) return;
    const ms = typeof t === "number" ? t : t.getTime();
    wakeAt = wakeAt === undefined ? ms : Math.min(wakeAt, ms);
  };
  const revert = (handle: InjectionHandle, reason: RevertReason): void => {
    if (reverted.has(handle)) return;
    reverted.add(handle);
    actions.push({ type: "revert", handle, reason });
  };

  // 1. Reverts: what is injected but no longer wanted, and what a dead guard left behind.
  //    A guard that exited non-zero (crashed past its restarts, killed) may have left its fault
  //    in place: the driver's recover reverts directly, whatever the owner wants.
  for (const h of input.injections) {
    if (!isActive(h) && h.guardExitCode !== undefined && h.guardExitCode !== 0) revert(h, "GuardFailed");
  }
  for (const h of active) {
    const m = byKey.get(h.owner.schedule);
    if (config.killSwitch) revert(h, "KillSwitch");
    else if (input.stopCondition !== undefined) revert(h, "StopCondition");
    else if (input.aborted?.has(h.owner.run)) revert(h, "ProbeFailed");
    else if (!m) {
      // An invalid manifest keeps what it injected until expiry; a deleted one loses it now.
      if (!input.invalidKeys.has(h.owner.schedule)) revert(h, "Deleted");
    } else if (m.manifest.spec.suspend) revert(h, "Suspended");
    else if (h.owner.generation !== m.manifest.metadata.generation) revert(h, "SpecChanged");
    if (reverted.has(h)) continue;
    const exp = h.owner.expires?.getTime();
    if (exp !== undefined) {
      if (now.getTime() >= exp + config.guardGraceMs) revert(h, "Expired");
      else wake(exp + (now.getTime() >= exp ? config.guardGraceMs : 50));
    }
  }

  // 1b. Active runs: targets that are gone, their replacements (mode all), moved destinations.
  convergeActive(
    input,
    active.filter((h) => !reverted.has(h)),
    ledger,
    actions,
    revert,
  );

  // 2. Runs: what is due now.
  // Code-unit order (stable and cheap: localeCompare over 1,000 keys was a visible part of an idle pass).
  for (const m of [...input.manifests].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const spec = m.manifest.spec;
    const generation = m.manifest.metadata.generation ?? 1;
    if (spec.suspend || config.killSwitch || input.stopCondition !== undefined || input.halted?.has(m.key)) {
      schedules.set(m.key, {});
      continue;
    }
    const st = m.status;
    const deadlineMs = spec.startingDeadline ? parseDuration(spec.startingDeadline) : config.startingDeadlineMs;
    const due = dueRun({
      schedule: spec.schedule ?? "@once",
      ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
      generation,
      state: {
        ...(st?.lastScheduleTime ? { lastScheduleTime: new Date(st.lastScheduleTime) } : {}),
        ...(st?.lastScheduleGeneration !== undefined ? { lastScheduleGeneration: st.lastScheduleGeneration } : {}),
        ...(st?.nextScheduleTime ? { nextScheduleTime: new Date(st.nextScheduleTime) } : {}),
      },
      now,
      startingDeadlineMs: deadlineMs,
    });
    schedules.set(m.key, due.next ? { next: due.next } : {});
    wake(due.next);
    if (due.kind === "wait") continue;

    const fault = faultKindOf(spec.fault);
    // A run held back on an earlier pass keeps its nominal time (and so its run id); an @once
    // run would otherwise be "due now" at every pass.
    const held = st?.waiting?.generation === generation ? st.waiting : undefined;
    const once = (spec.schedule ?? "@once") === "@once";
    const scheduledAt = once && held?.scheduledAt ? new Date(held.scheduledAt) : due.scheduledAt;
    const run = runId(m.key, generation, scheduledAt);
    const skip = (reason: string, message: string): void => {
      actions.push({ type: "skip", key: m.key, generation, run, scheduledAt, fault, reason, message });
    };
    const wasHeld = held?.run === run;
    if (due.kind === "missed") {
      if (wasHeld && held?.reason)
        skip(held.reason, `${held.message ?? ""}; held back until the starting deadline passed`);
      else
        skip(
          "MissedStartingDeadline",
          `run due at ${scheduledAt.toISOString()} was missed by more than the starting deadline`,
        );
      continue;
    }
    // A reason that may pass: try again on later passes until the starting deadline, then spend the run.
    const retryUntil = new Date(scheduledAt.getTime() + deadlineMs);
    const holdOrSkip = (reason: string, message: string): void => {
      if (now.getTime() < retryUntil.getTime()) {
        actions.push({ type: "skip", key: m.key, generation, run, scheduledAt, fault, reason, message, retryUntil });
        // Tried again at the same nominal time: status keeps it as the next run.
        schedules.set(m.key, { next: scheduledAt });
        wake(Math.min(now.getTime() + HOLD_RETRY_MS, retryUntil.getTime()));
      } else skip(reason, wasHeld ? `${message}; held back until the starting deadline passed` : message);
    };
    if (!config.supportedFaults.has(fault)) {
      skip("FaultUnsupported", `fault "${fault}" is not supported by this controller`);
      continue;
    }
    const mine = active.filter((h) => h.owner.schedule === m.key && !reverted.has(h));
    if (mine.length > 0) {
      const policy = spec.concurrencyPolicy ?? "Forbid";
      if (policy === "Forbid") {
        skip(
          "ConcurrencyForbid",
          `a previous run is still active (${mine.length} injection(s)); concurrencyPolicy is Forbid`,
        );
        continue;
      }
      if (policy === "Replace") for (const h of mine) revert(h, "Replaced");
    }
    const chosen = chooseTargets(m, fault, input, ledger, nodesOut);
    if ("reason" in chosen) {
      if (chosen.transient) holdOrSkip(chosen.reason, chosen.message);
      else skip(chosen.reason, chosen.message);
      continue;
    }
    let targetSpecs: unknown[] | undefined;
    let note = chosen.note;
    if (NETWORK_FAULTS.has(fault)) {
      const r = resolveTargets(fault, (spec.fault as Record<string, unknown>)[fault] ?? {}, chosen.targets, snapshot);
      if ("error" in r) {
        skip("InvalidSpec", r.error);
        continue;
      }
      targetSpecs = r.specs;
      note = [note, r.note].filter(Boolean).join("; ") || undefined;
    }
    if (fault === "stress") {
      const ids = new Set(chosen.targets.map((t) => t.serviceId));
      const c = checkStressPlan(
        (spec.fault as { stress?: StressSpec }).stress ?? {},
        snapshot.services.filter((s) => ids.has(s.id)),
      );
      if ("error" in c) {
        skip("InvalidSpec", c.error);
        continue;
      }
      note = [note, c.note].filter(Boolean).join("; ") || undefined;
    }
    ledger.commit(chosen.targets, fault);
    for (const t of chosen.targets) if (t.kind === "node") nodesOut.add(t.nodeId);
    const durationMs =
      DURATIVE.has(fault) && spec.duration ? Math.min(parseDuration(spec.duration), config.maxDurationMs) : undefined;
    ledger.hold(chosen.targets, m.key);
    actions.push({
      type: "start",
      key: m.key,
      generation,
      run,
      scheduledAt,
      fault,
      faultSpec: (spec.fault as Record<string, unknown>)[fault] ?? {},
      targets: chosen.targets,
      ...(targetSpecs ? { targetSpecs } : {}),
      services:
        chosen.services ??
        [...new Set(chosen.targets.map((t) => t.serviceName).filter((s): s is string => !!s))].sort(),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(note ? { note } : {}),
    });
    if (durationMs !== undefined) wake(now.getTime() + durationMs + 50);
  }
  return { actions, schedules, ...(wakeAt !== undefined ? { wakeAt: new Date(wakeAt) } : {}) };
}

/**
 * What an active run needs besides its reverts (docs/network-faults.md, "Targets that go away"):
 * - a target whose task is over is reverted as TargetGone (nothing to undo, recorded once) and,
 *   in the other modes, not replaced;
 * - mode all, network faults: the task Swarm starts in the same slot (node, for global services)
 *   is injected for the rest of the run, and only then is the gone target's injection dropped
 *   (it carries the run's expiry until a replacement exists);
 * - network faults whose destination tasks moved are re-applied with the fresh addresses.
 */
function convergeActive(
  input: PlanInput,
  active: readonly InjectionHandle[],
  ledger: UnavailabilityLedger,
  actions: Action[],
  revert: (h: InjectionHandle, r: RevertReason) => void,
): void {
  const { now, snapshot } = input;
  const byKey = new Map(input.manifests.map((m) => [m.key, m]));
  const tasks = new Map(snapshot.tasks.map((t) => [t.id, t]));
  const services = new Map(snapshot.services.map((s) => [s.id, s]));
  const planned = new Set<string>();
  for (const h of active) {
    const m = byKey.get(h.owner.schedule);
    if (!m) continue; // an invalid manifest: its guards finish on their own
    const spec = m.manifest.spec;
    const faultSpec = (spec.fault as Record<string, unknown>)[h.fault] ?? {};
    const left = (h.owner.expires?.getTime() ?? Infinity) - now.getTime();
    const network = NETWORK_FAULTS.has(h.fault);
    if (!targetGone(h, tasks)) {
      if (!network || left < MIN_REST_MS) continue;
      const fresh = reresolve(h, faultSpec, snapshot);
      if (fresh !== undefined) actions.push({ type: "reapply", handle: h, faultSpec: fresh });
      continue;
    }
    const sel = spec.selector as SelectorSpec;
    if (!network || (sel.mode ?? "one") !== "all") {
      revert(h, "TargetGone");
      continue;
    }
    const old = h.target.taskId ? tasks.get(h.target.taskId) : undefined;
    if (!old || !h.owner.expires || left < MIN_REST_MS) continue; // held: its guard ends with the run
    // Every task this run has ever targeted: its guards (any state) and its record.
    const record = m.status?.history?.find((r) => r.run === h.owner.run);
    const mine = new Set([
      ...(record?.tasks ?? []),
      ...input.injections
        .filter((x) => x.owner.schedule === h.owner.schedule && x.owner.run === h.owner.run)
        .map((x) => x.target.taskId ?? ""),
    ]);
    const eligible = new Map(
      [...candidates(sel, snapshot, { requireOptIn: input.config.requireOptIn }).byService.values()]
        .flat()
        .map((t) => [t.taskId ?? "", t]),
    );
    const next = replacementsOf(old, snapshot, mine).find(
      (t) => eligible.has(t.id) && !planned.has(t.id) && !ledger.isFaulted(t.serviceId, t.id),
    );
    const target = next ? eligible.get(next.id) : undefined;
    if (!target) continue; // Swarm has not started it yet
    const svc = services.get(old.serviceId);
    const safety = (spec.safety ?? {}) as { maxUnavailable?: number | string; allowAll?: boolean };
    if (!safety.allowAll && runningTasks(old.serviceId, snapshot) - 1 - ledger.faultedRunning(old.serviceId) < 1)
      continue;
    const max = svc ? maxUnavailableFor(safety.maxUnavailable, desiredTasks(svc, snapshot)) : undefined;
    if (svc && max !== undefined && ledger.unavailable(svc) + 1 > max) continue;
    const resolved = resolveTargets(h.fault, faultSpec, [target], snapshot);
    if ("error" in resolved) continue; // cannot happen for a spec that started this run
    planned.add(target.taskId ?? "");
    ledger.commit([target], h.fault);
    revert(h, "TargetGone");
    actions.push({
      type: "extend",
      key: m.key,
      generation: h.owner.generation,
      run: h.owner.run,
      fault: h.fault,
      expires: h.owner.expires,
      target,
      faultSpec: resolved.specs[0],
      replaces: old.id,
    });
  }
}

/**
 * `transient`: the reason may pass within the starting deadline (tasks held by other schedules or
 * still recovering, a safety budget in use), so the run is held back rather than spent. Reasons
 * of configuration (protected, opt-in, manager safety, a selector that matches no service) are not.
 */
type Chosen =
  { targets: Target[]; note?: string; services?: string[] } | { reason: string; message: string; transient?: boolean };

// size: target choice per selector mode and fault kind, one branch each.
function chooseTargets(
  m: StoredManifest,
  fault: FaultKind,
  input: PlanInput,
  ledger: UnavailabilityLedger,
  nodesOut: ReadonlySet<string>,
): Chosen {
  const spec = m.manifest.spec;
  const sel = spec.selector as SelectorSpec;
  const cands = candidates(sel, input.snapshot, { requireOptIn: input.config.requireOptIn });
  if (fault === "node") {
    // Manager safety (quorum, last active manager) and one node fault per node at a time.
    const node = (spec.fault as { node?: NodeFault }).node;
    return chooseNodes({
      candidates: cands.nodes,
      snapshot: input.snapshot,
      action: node?.action ?? "drain",
      allowManagers: !!node?.allowManagers,
      allowManagerLoss: !!spec.safety?.allowManagerLoss,
      busy: nodesOut,
      count: (n) => countForMode(sel.mode, sel.value, n, input.random),
      pick: (pool, k) => pick(pool, k, input.random),
    });
  }
  const matching = [...cands.byService.values()].flat();
  if (matching.length === 0) {
    // Matching services that want tasks but run none right now are recovering: that passes.
    const recovering = input.snapshot.services.filter(
      (svc) =>
        serviceMatches(sel, svc) &&
        desiredTasks(svc, input.snapshot) > runningTasks(svc.id, input.snapshot) &&
        candidatesAllowed(svc, input),
    );
    if (recovering.length)
      return {
        reason: "NoTargets",
        transient: true,
        message: `no running task matches the selector yet: ${recovering.map((svc) => serviceTasksInWords(svc, input.snapshot, ledger)).join("; ")}`,
      };
    return { reason: "NoTargets", message: "no running task matches the selector" };
  }
  // A task that is already faulted (another schedule, or earlier in this pass) is not a candidate,
  // unless this network fault composes with the network faults it carries (no budget: it already counts).
  const stacked = (t: Target): boolean => ledger.isFaulted(t.serviceId, t.taskId) && ledger.canStack(t.taskId, fault);
  const pool = matching.filter((t) => !ledger.isFaulted(t.serviceId, t.taskId) || stacked(t));
  const servicesById = new Map(input.snapshot.services.map((s) => [s.id, s]));
  const inWords = (ids: Iterable<string>): string =>
    [...new Set(ids)]
      .map((id) => servicesById.get(id))
      .filter((svc): svc is NonNullable<typeof svc> => !!svc)
      .map((svc) => serviceTasksInWords(svc, input.snapshot, ledger))
      .join("; ");
  if (pool.length === 0)
    return {
      reason: "NoTargets",
      transient: true,
      message: `all ${matching.length} matching task(s) are already faulted: ${inWords(matching.map((t) => t.serviceId ?? ""))}`,
    };
  let targets = pick(pool, countForMode(sel.mode, sel.value, pool.length, input.random), input.random);
  if (targets.length === 0)
    return { reason: "NoTargets", message: `mode ${sel.mode ?? "one"} selects no task of ${pool.length}` };

  const services = new Map(input.snapshot.services.map((s) => [s.id, s]));
  const safety = (spec.safety ?? {}) as { maxUnavailable?: number | string; allowAll?: boolean };
  const notes: string[] = [];
  // By default a run never faults every running task of a service: keep one untouched.
  if (!safety.allowAll) {
    const kept: Target[] = [];
    const perService = new Map<string, number>();
    for (const t of targets) {
      const sid = t.serviceId ?? "";
      if (stacked(t)) {
        kept.push(t);
        continue;
      }
      const room = runningTasks(sid, input.snapshot) - 1 - ledger.faultedRunning(sid);
      const used = perService.get(sid) ?? 0;
      if (used < room) {
        kept.push(t);
        perService.set(sid, used + 1);
      }
    }
    const dropped = targets.filter((t) => !kept.includes(t));
    if (kept.length === 0)
      return {
        reason: "WouldFaultAllTasks",
        transient: true,
        message: `faulting any more would leave no running task untouched (safety.allowAll is false): ${inWords(dropped.map((t) => t.serviceId ?? ""))}`,
      };
    if (dropped.length)
      notes.push(
        `${dropped.length} of ${targets.length} chosen target(s) left untouched so no service loses all its running tasks (safety.allowAll is false): ${inWords(dropped.map((t) => t.serviceId ?? ""))}`,
      );
    targets = kept;
  }
  // safety.maxUnavailable holds across all schedules: skip the whole run, and say why.
  const perService = new Map<string, number>();
  for (const t of targets)
    if (!stacked(t)) perService.set(t.serviceId ?? "", (perService.get(t.serviceId ?? "") ?? 0) + 1);
  for (const [sid, n] of perService) {
    const svc = services.get(sid);
    if (!svc) continue;
    const max = maxUnavailableFor(safety.maxUnavailable, desiredTasks(svc, input.snapshot));
    if (max === undefined) continue;
    const now = ledger.unavailable(svc);
    if (now + n > max) {
      return {
        reason: "MaxUnavailable",
        transient: true,
        message: `service ${svc.name}: ${now} task(s) unavailable + ${n} more would exceed maxUnavailable ${String(safety.maxUnavailable)} (${serviceTasksInWords(svc, input.snapshot, ledger)})`,
      };
    }
  }
  return notes.length ? { targets, note: notes.join("; ") } : { targets };
}

/**
 * A service's tasks as a skip explains them: desired and running counts, which running tasks are
 * held and by which schedule, which are still recovering (desired but not running yet).
 * E.g. "service web: 3 desired, 2 running; held: 1a2b3c4d5e6f by default/web-kill; 1 still
 * recovering (7f8e9d0c1b2a starting)".
 */
export function serviceTasksInWords(svc: ServiceInfo, snap: ClusterSnapshot, ledger: UnavailabilityLedger): string {
  const short = (id: string): string => id.slice(0, 12);
  const mine = snap.tasks.filter((t) => t.serviceId === svc.id && t.desiredState === "running");
  const running = mine.filter(isRunningTask);
  const desired = desiredTasks(svc, snap);
  const held = running
    .filter((t) => ledger.isFaulted(svc.id, t.id))
    .map((t) => `${short(t.id)} by ${ledger.holderOf(t.id) ?? "another schedule"}`);
  const parts = [`${desired} desired, ${running.length} running`];
  if (held.length) parts.push(`held: ${held.join(", ")}`);
  const missing = Math.max(0, desired - running.length);
  if (missing > 0) {
    const starting = mine.filter((t) => !isRunningTask(t)).map((t) => `${short(t.id)} ${t.state}`);
    parts.push(`${missing} still recovering${starting.length ? ` (${starting.join(", ")})` : ""}`);
  }
  return `service ${svc.name}: ${parts.join("; ")}`;
}
