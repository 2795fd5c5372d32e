// Status is derived, never stored as a working state of its own: from the previous status, what the cluster shows, and what
// this pass did. Pure; the caller compares before writing.
// size: over 400 lines with deriveStatus itself; see the note on deriveStatus.
import type { ChaosSchedule, ChaosScheduleStatus, RunRecord, ActiveInjection, Condition } from "../api/types.js";
import { targetsFound } from "./targets.js";
import type { SelectorSpec } from "./select.js";
import type { ClusterSnapshot, TaskInfo } from "../engine/engine.js";
import type { FaultKind, InjectionHandle, Target } from "../faults/driver.js";
import { DURATIVE, isActive } from "../faults/driver.js";
import { isRunningTask } from "./select.js";
import { desiredTasks } from "./safety.js";

export type RunEvent =
  | {
      type: "skipped";
      run: string;
      generation: number;
      fault: FaultKind;
      scheduledAt: Date;
      reason: string;
      message: string;
      /** Held back, not spent: shown as status.waiting until then. */
      retryUntil?: Date;
      /** The manifest's commit and path (git store), as applied runs carry it. */
      source?: { commit: string; path: string };
    }
  | {
      type: "started";
      run: string;
      generation: number;
      fault: FaultKind;
      scheduledAt: Date;
      targets: Target[];
      services: string[];
      note?: string;
      source?: { commit: string; path: string };
    }
  | { type: "applied"; run: string; results: TargetResult[] }
  | { type: "reverted"; run: string; reason: string; ok: boolean; message?: string; task?: string }
  /** A replacement task joined an active run (mode all). */
  | { type: "extended"; run: string; replaces: string; result: TargetResult }
  /** An injection's destinations moved and it was applied again. */
  | { type: "reapplied"; run: string; task?: string; ok: boolean; reason?: string; message?: string }
  /** --dry-run: a run planned and recorded with its targets, nothing injected. */
  | {
      type: "dryRun";
      run: string;
      generation: number;
      fault: FaultKind;
      scheduledAt: Date;
      targets: Target[];
      services: string[];
      note?: string;
    };

export interface TargetResult {
  target: Target;
  ok: boolean;
  /** What the driver reported when ok: "Injected" (in effect now) or "Done" (nothing left in effect). */
  phase?: "Injected" | "Done";
  reason?: string;
  message?: string;
}

export interface StatusInput {
  now: Date;
  manifest: ChaosSchedule;
  prev?: ChaosScheduleStatus;
  next?: Date;
  /** Injections of this schedule in the cluster (guards, any state), after this pass's actions. */
  injections: readonly InjectionHandle[];
  events: readonly RunEvent[];
  snapshot: ClusterSnapshot;
  recoveryTimeoutMs: number;
}

const iso = (d: Date): string => d.toISOString();

// size: status derivation, run by run; to be cut into steps once the status-truth work now
// landing on it is in, so that work is not rebased onto a rewrite.
export function deriveStatus(input: StatusInput): ChaosScheduleStatus {
  const { now, manifest, prev, events } = input;
  const generation = manifest.metadata.generation ?? 1;
  let history: RunRecord[] = (prev?.history ?? []).map((r) => ({ ...r }));
  let lastScheduleTime = prev?.lastScheduleTime;
  let lastScheduleGeneration = prev?.lastScheduleGeneration;
  const find = (run: string): RunRecord | undefined => history.find((r) => r.run === run);
  /** Runs this pass started or applied: still in flight, not to be settled from the cluster. */
  const appliedNow = new Set<string>();

  let waiting: ChaosScheduleStatus["waiting"];
  for (const e of events) {
    if (e.type === "skipped" && e.retryUntil) {
      waiting = {
        run: e.run,
        generation: e.generation,
        scheduledAt: iso(e.scheduledAt),
        retryUntil: iso(e.retryUntil),
        reason: e.reason,
        message: e.message,
      };
      continue;
    }
    if (e.type === "skipped" || e.type === "started" || e.type === "dryRun") {
      lastScheduleTime = iso(e.scheduledAt);
      lastScheduleGeneration = e.generation;
    }
    if (e.type === "skipped") {
      history.push({
        run: e.run,
        generation: e.generation,
        fault: e.fault,
        scheduledAt: iso(e.scheduledAt),
        startedAt: iso(now),
        endedAt: iso(now),
        targets: 0,
        result: "Skipped",
        reason: e.reason,
        message: e.message,
        ...(e.source ? { source: e.source } : {}),
      });
    } else if (e.type === "dryRun" && !find(e.run)) {
      const what = e.targets
        .map((t) =>
          t.kind === "node"
            ? `node ${t.nodeHostname ?? t.nodeId}`
            : `task ${t.taskId ?? "?"} of ${t.serviceName ?? t.serviceId ?? "?"}`,
        )
        .join(", ");
      history.push({
        run: e.run,
        generation: e.generation,
        fault: e.fault,
        scheduledAt: iso(e.scheduledAt),
        startedAt: iso(now),
        endedAt: iso(now),
        targets: e.targets.length,
        services: e.services,
        tasks: e.targets.map((t) => t.taskId).filter((t): t is string => !!t),
        ...nodesOf(e.targets),
        result: "DryRun",
        recovery: "NotApplicable",
        reason: "DryRun",
        message: [`dry run: would inject ${e.fault} into ${what || "no target"}; nothing was injected`, e.note]
          .filter(Boolean)
          .join("; "),
      });
    } else if (e.type === "started" && !find(e.run)) {
      appliedNow.add(e.run);
      history.push({
        run: e.run,
        generation: e.generation,
        fault: e.fault,
        scheduledAt: iso(e.scheduledAt),
        startedAt: iso(now),
        targets: e.targets.length,
        services: e.services,
        tasks: e.targets.map((t) => t.taskId).filter((t): t is string => !!t),
        ...nodesOf(e.targets),
        result: "Running",
        ...(e.note ? { message: e.note } : {}),
        ...(e.source ? { source: e.source } : {}),
      });
    } else if (e.type === "applied") {
      const r = find(e.run);
      if (!r) continue;
      appliedNow.add(e.run);
      const failed = e.results.filter((x) => !x.ok);
      const durative =
        DURATIVE.has(r.fault as FaultKind) && !(r.fault === "node" && manifest.spec.fault.node?.action === "reboot");
      if (failed.length) {
        const detail = failed
          .map(
            (f) =>
              `${f.target.taskId ?? f.target.nodeId}: ${f.reason ?? "Failed"}${f.message ? ` (${f.message})` : ""}`,
          )
          .join("; ");
        r.message = [r.message, `${failed.length} of ${e.results.length} target(s) failed: ${detail}`]
          .filter(Boolean)
          .join("; ");
        r.reason = failed[0]?.reason ?? "Failed";
      }
      if (failed.length === e.results.length) {
        Object.assign(r, { result: "Failed", endedAt: iso(now), recovery: "NotApplicable" });
      } else if (durative && e.results.every((x) => !x.ok || x.phase === "Done")) {
        // A durative fault whose whole window passed while its guard was starting (a slow node):
        // nothing was ever seen in effect, so the experiment did not happen as asked.
        Object.assign(r, {
          result: "Failed",
          endedAt: iso(now),
          recovery: "NotApplicable",
          reason: "ExpiredBeforeApplied",
          message: [
            r.message,
            "the fault's duration ended before its guard was seen applying it: raise the duration or the controller's --guard-timeout",
          ]
            .filter(Boolean)
            .join("; "),
        });
      } else if (!durative) {
        Object.assign(r, {
          result: "Succeeded",
          endedAt: iso(now),
          recovery: awaitsRecovery(r) ? "Pending" : "NotApplicable",
        });
      }
    } else if (e.type === "reverted") {
      const r = find(e.run);
      const what =
        e.reason === "TargetGone" ? `target task ${e.task ?? "?"} gone: nothing to revert` : `reverted: ${e.reason}`;
      if (r)
        r.message = [r.message, e.ok ? what : `revert failed (${e.reason}): ${e.message ?? ""}`]
          .filter(Boolean)
          .join("; ");
    } else if (e.type === "extended") {
      const r = find(e.run);
      if (!r) continue;
      const task = e.result.target.taskId ?? e.result.target.containerId ?? "?";
      r.targets = (r.targets ?? 0) + 1;
      // Listed even when its apply failed, so it is tried once only.
      if (e.result.target.taskId && !r.tasks?.includes(task)) r.tasks = [...(r.tasks ?? []), task];
      const what = e.result.ok
        ? "injected for the rest of the run"
        : `not injected: ${e.result.reason ?? "Failed"}${e.result.message ? ` (${e.result.message})` : ""}`;
      r.message = [r.message, `task ${task} replaced ${e.replaces}: ${what}`].filter(Boolean).join("; ");
    } else if (e.type === "reapplied") {
      const r = find(e.run);
      const what = e.ok
        ? "destinations moved: re-applied"
        : `destinations moved: re-apply failed: ${e.reason ?? "Failed"}${e.message ? ` (${e.message})` : ""}`;
      if (r) r.message = [r.message, `task ${e.task ?? "?"} ${what}`].filter(Boolean).join("; ");
    }
  }

  // Runs still marked Running: settle them from what the cluster shows.
  const mine = input.injections;
  const taskById = tasksById(input.snapshot);
  for (const r of history) {
    if (r.result !== "Running" || appliedNow.has(r.run ?? "")) continue;
    const guards = mine.filter((h) => h.owner.run === r.run);
    if (guards.some(isActive)) continue;
    if (DURATIVE.has(r.fault as FaultKind) && guards.length > 0) {
      // A target's fault ends at its expiry, or sooner when its task ended first (Swarm replaced
      // it: the fault went with its container), at the time Swarm gives for that end; the run's
      // healing is measured from there, not from when the controller noticed.
      const endOf = (g: InjectionHandle): number =>
        Math.min(g.owner.expires?.getTime() ?? now.getTime(), taskEndedAt(g, taskById) ?? Infinity);
      const since = Date.parse(r.startedAt ?? "");
      const latest = Math.max(...guards.map(endOf));
      const ended = new Date(Math.min(now.getTime(), Number.isFinite(since) ? Math.max(since, latest) : latest));
      const failed = guards.filter((g) => g.guardExitCode !== undefined && g.guardExitCode !== 0);
      Object.assign(r, {
        result: failed.length === guards.length ? "Failed" : "Succeeded",
        endedAt: iso(ended),
        recovery: awaitsRecovery(r) ? "Pending" : "NotApplicable",
        ...(failed.length
          ? {
              reason: "RevertFailed",
              message: [r.message, `${failed.length} guard(s) exited with an error`].filter(Boolean).join("; "),
            }
          : {}),
      });
    } else {
      // Its outcome was never recorded (the controller stopped mid-run): never repeated.
      Object.assign(r, {
        result: "Interrupted",
        endedAt: iso(now),
        recovery: "NotApplicable",
        reason: "ControllerRestarted",
        message: [r.message, "the controller stopped during this run; it is not repeated"].filter(Boolean).join("; "),
      });
    }
  }

  for (const r of history) if (r.recovery === "Pending") measureRecovery(r, input);

  // Bounded history; records still in progress are kept whatever the limit.
  const limit = manifest.spec.historyLimit ?? 10;
  const settled = history.filter((r) => r.result !== "Running" && r.recovery !== "Pending");
  const drop = new Set(settled.slice(0, Math.max(0, settled.length - limit)));
  history = history.filter((r) => !drop.has(r));

  const gone = (h: InjectionHandle): boolean => {
    const t = h.target.taskId ? taskById.get(h.target.taskId) : undefined;
    return !!h.target.taskId && !(t && isRunningTask(t));
  };
  const active: ActiveInjection[] = mine
    .filter(isActive)
    .map((h) => toActive(h, gone(h)))
    .sort((a, b) => (a.since ?? "").localeCompare(b.since ?? "") || (a.task ?? "").localeCompare(b.task ?? ""));
  const last = history[history.length - 1];
  const phase = derivePhase(
    manifest,
    active.length > 0 || history.some((r) => r.result === "Running"),
    last,
    lastScheduleGeneration,
    input.next,
  );
  const ready: Condition = {
    type: "Ready",
    status: "True",
    reason: "Reconciled",
    message: "spec observed and reconciled",
  };
  const found = targetsFound(
    manifest.spec.selector as SelectorSpec,
    "node" in (manifest.spec.fault ?? {}),
    input.snapshot,
  );
  const status: ChaosScheduleStatus = {
    observedGeneration: generation,
    phase,
    conditions: withTransitions([ready, found], prev?.conditions, now),
    ...(lastScheduleTime ? { lastScheduleTime } : {}),
    ...(lastScheduleGeneration !== undefined ? { lastScheduleGeneration } : {}),
    ...(input.next ? { nextScheduleTime: iso(input.next) } : {}),
    ...(waiting ? { waiting } : {}),
    active,
    history,
  };
  return status;
}

/** Node ids of a run's node targets, for its record. */
function nodesOf(targets: readonly Target[]): { nodes?: string[] } {
  const nodes = targets.filter((t) => t.kind === "node").map((t) => t.nodeId);
  return nodes.length ? { nodes } : {};
}

/** Something must heal after this run: services it touched, or nodes it faulted. */
const awaitsRecovery = (r: RunRecord): boolean => !!(r.services?.length || r.nodes?.length);

/** `gone`: its task is over (a mode-all run holds it until Swarm starts the replacement). */
/** One index per snapshot, shared by every schedule's status (a pass is O(schedules + tasks)). */
const taskIndex = new WeakMap<ClusterSnapshot, Map<string, ClusterSnapshot["tasks"][number]>>();
function tasksById(snapshot: ClusterSnapshot): Map<string, ClusterSnapshot["tasks"][number]> {
  let m = taskIndex.get(snapshot);
  if (!m) taskIndex.set(snapshot, (m = new Map(snapshot.tasks.map((t) => [t.id, t]))));
  return m;
}

function toActive(h: InjectionHandle, gone: boolean): ActiveInjection {
  return {
    run: h.owner.run,
    fault: h.fault,
    ...(h.target.serviceName ? { service: h.target.serviceName } : {}),
    ...(h.target.taskId ? { task: h.target.taskId } : {}),
    ...(h.target.containerId ? { container: h.target.containerId.slice(0, 12) } : {}),
    node: h.target.nodeHostname ?? h.target.nodeId,
    ...(h.since ? { since: h.since.toISOString() } : {}),
    ...(h.owner.expires ? { until: h.owner.expires.toISOString() } : {}),
    ...(gone ? { state: "TargetGone" } : {}),
    ...(h.owner.source ? { source: h.owner.source } : {}),
  };
}

function derivePhase(
  m: ChaosSchedule,
  active: boolean,
  last: RunRecord | undefined,
  lastGen: number | undefined,
  next: Date | undefined,
): NonNullable<ChaosScheduleStatus["phase"]> {
  if (m.spec.suspend) return "Suspended";
  if (active) return "Active";
  if (last?.result === "Failed") return "Failed";
  const once = (m.spec.schedule ?? "@once") === "@once";
  if (once && lastGen === (m.metadata.generation ?? 1)) return "Completed";
  if (next) return "Scheduled";
  return "Idle";
}

/** lastTransitionTime moves only when a condition's status flips. */
function withTransitions(conds: Condition[], prev: readonly Condition[] | undefined, now: Date): Condition[] {
  return conds.map((c) => {
    const p = prev?.find((x) => x.type === c.type);
    return {
      ...c,
      lastTransitionTime: p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : now.toISOString(),
    };
  });
}

/**
 * Healing, from Swarm's own task states: the run's services are back to their desired number of
 * running tasks (healthy, with a healthcheck), not counting the tasks the run faulted when the
 * fault removes them (kill, stop, restart).
 */
function measureRecovery(r: RunRecord, input: StatusInput): void {
  const { snapshot, now } = input;
  if (!r.endedAt) return;
  const ended = Date.parse(r.endedAt);
  if (snapshot.at.getTime() <= ended) return; // observed before the fault took effect
  // A process fault signals inside the task and leaves it: like a durative fault's, its task counts.
  const keepsTask = DURATIVE.has(r.fault as FaultKind) || r.fault === "process";
  const faulted = keepsTask ? new Set<string>() : new Set(r.tasks ?? []);
  const containers = new Map(snapshot.containers.map((c) => [c.id, c]));
  let recoveredAt = ended;
  // Node faults: the faulted nodes are Ready and active again first (seen at this observation).
  if (r.nodes?.length) {
    const back = r.nodes.every((id) =>
      snapshot.nodes.some((n) => n.id === id && n.state === "ready" && n.availability === "active"),
    );
    if (!back) {
      if (now.getTime() - ended > input.recoveryTimeoutMs) Object.assign(r, { recovery: "TimedOut" });
      return;
    }
    // When each node came back: Swarm's last update of the node object (its return is one), else
    // the first observation of it back; both are upper bounds, the first is the tighter.
    const backAt = (id: string): number => {
      const u = Date.parse(snapshot.nodes.find((n) => n.id === id)?.updatedAt ?? "");
      return Number.isFinite(u) ? Math.min(u, snapshot.at.getTime()) : snapshot.at.getTime();
    };
    recoveredAt = Math.max(ended, ...r.nodes.map(backAt));
  }
  for (const name of r.services ?? []) {
    const svc = snapshot.services.find((s) => s.name === name);
    if (!svc) continue; // service removed: nothing left to heal
    const tasks = snapshot.tasks.filter((t) => t.serviceId === svc.id && isRunningTask(t) && !faulted.has(t.id));
    const ready = tasks.filter((t) => {
      if (!svc.hasHealthcheck || !t.containerId) return true;
      const c = containers.get(t.containerId);
      return !c || c.health === "healthy"; // a container on another node: its task state is what we see
    });
    if (ready.length < desiredTasks(svc, snapshot)) {
      if (now.getTime() - ended > input.recoveryTimeoutMs) Object.assign(r, { recovery: "TimedOut" });
      return;
    }
    // When each task was back: without a healthcheck, Swarm's timestamp of its entering
    // "running"; with one, Docker's health_status event time, else the first observation of it
    // healthy for a task started after the fault. Tasks untouched by the fault count as `ended`.
    const backAt = (t: (typeof ready)[number]): number => {
      if (!svc.hasHealthcheck) return Date.parse(t.timestamp);
      const at = t.containerId ? snapshot.healthyAt?.[t.containerId] : undefined;
      if (at) return Date.parse(at);
      return Date.parse(t.createdAt) > ended ? snapshot.at.getTime() : ended;
    };
    const latest = Math.max(ended, ...ready.map(backAt).filter((x) => Number.isFinite(x)));
    recoveredAt = Math.max(recoveredAt, Math.min(latest, snapshot.at.getTime()));
  }
  r.recovery = "Recovered";
  r.recoveredAt = new Date(recoveredAt).toISOString();
  r.recoverySeconds = Math.round((recoveredAt - ended) / 100) / 10;
}

/** Swarm's states of a task that has ended (its container gone or stopped for good). */
const TASK_ENDED = new Set(["complete", "failed", "shutdown", "rejected", "orphaned", "remove"]);

/** When the target's task ended, as Swarm reports it; undefined while it runs (or is not seen). */
function taskEndedAt(h: InjectionHandle, taskById: ReadonlyMap<string, TaskInfo>): number | undefined {
  const t = h.target.taskId ? taskById.get(h.target.taskId) : undefined;
  if (!t || !TASK_ENDED.has(t.state)) return undefined;
  const at = Date.parse(t.timestamp);
  return Number.isFinite(at) ? at : undefined;
}
