// The record phase: the audit log appended, every valid schedule's status derived from what the
// pass saw and did, written when it changed, and guards whose outcome is recorded removed.
import fastJsonPatch from "fast-json-patch";
import type { ClusterSnapshot } from "../engine/engine.js";
import type { InjectionHandle } from "../faults/driver.js";
import type { ChaosScheduleStatus } from "../api/types.js";
import type { StoredManifest } from "../store/store.js";
import { routeTo } from "./execute.js";
import type { NodeDirectory } from "../nodes/directory.js";
import { statusFor, type PassMemory, type PassResult, type PassState } from "./pass.js";
import { followRuns, stopConditionChanged } from "./probe-status.js";
import { verdictRecords } from "./audit-log.js";
import { selectorInputs } from "./targets.js";

const { compare } = fastJsonPatch;

/** How soon a pass looks again at a node it could not see while a run there awaits it. */
const BLIND_RETRY_MS = 2_000;

/**
 * How soon a pass looks again while a recovery is pending. The replacement task's container
 * start wakes a pass, but Swarm marks the task running a moment later; nothing else wakes the
 * loop until the resync (30 s), so recoverySeconds stayed Pending that long.
 */
export const RECOVERY_POLL_MS = 1_000;

/** Nothing in flight: no active injection, no running run, no recovery being measured. */
const isSettled = (st: ChaosScheduleStatus): boolean =>
  !st.active?.length && !(st.history ?? []).some((r) => r.result === "Running" || r.recovery === "Pending");

export async function record(s: PassState, memory: PassMemory): Promise<PassResult> {
  const { env, obs, plan: p } = s;
  await env.auditLog
    ?.append(s.audit)
    .catch((e: unknown) => env.logger.warn({ err: String(e) }, "could not append to the audit log"));

  // Final status for every valid manifest; written only when it changed.
  const after = env.clock();
  const injected = new Set(s.current.map((h) => h.owner.schedule));
  const statuses: NonNullable<PassResult["statuses"]> = new Map();
  let blindUntil: number | undefined;
  let recoveryAt: number | undefined;
  for (const m of obs.stored.manifests) {
    if (s.writes.has(m.key)) continue;
    // Its running run has targets on a node whose agent did not answer: what is injected there is
    // unknown, so the record waits for the agent instead of settling the run from an absence.
    if (!s.events.get(m.key)?.length && env.nodes && awaitsNode(s.statusOf.get(m.key), obs.snapshot, env.nodes)) {
      // No event says when the agent is back (a healed partition): look again soon.
      blindUntil = after.getTime() + BLIND_RETRY_MS;
      continue;
    }
    // A schedule whose probes are being checked, or whose StopCondition must flip, is never idle.
    const idle =
      !s.events.get(m.key)?.length &&
      !injected.has(m.key) &&
      !env.probes?.watching(m.key) &&
      !stopConditionChanged(s.statusOf.get(m.key), obs.probes.stopCondition);
    await recordSchedule(s, memory, m, after, statuses, idle);
    if (statuses.get(m.key)?.next.history?.some((r) => r.recovery === "Pending"))
      recoveryAt = after.getTime() + RECOVERY_POLL_MS;
  }
  // Verdicts settled in this pass, into the audit log (after the statuses that carry them).
  const verdicts = [...statuses].flatMap(([key, { prev, next }]) =>
    verdictRecords(key, prev, next, after, env.instance),
  );
  if (verdicts.length)
    await env.auditLog
      ?.append(verdicts)
      .catch((e: unknown) => env.logger.warn({ err: String(e) }, "could not append to the audit log"));
  // Exited guards whose schedule is gone: nothing more to record.
  await collect(s, (h) => !s.byKey.has(h.owner.schedule));
  env.logger.debug(
    {
      event: "pass",
      actions: p.actions.length,
      ms: env.clock().getTime() - obs.now.getTime(),
      wakeAt: p.wakeAt?.toISOString(),
    },
    "reconcile pass",
  );
  const soonest = Math.min(blindUntil ?? Infinity, recoveryAt ?? Infinity, p.wakeAt?.getTime() ?? Infinity);
  const wakeAt = Number.isFinite(soonest) ? new Date(soonest) : undefined;
  return {
    plan: p,
    writes: s.writes,
    injections: s.current,
    statuses,
    manifests: { valid: obs.stored.manifests.length, invalid: obs.stored.invalid.length },
    ...(wakeAt ? { wakeAt } : {}),
  };
}

/**
 * One schedule's status: derived, compared, written when it changed; its exited guards collected
 * once their outcome is stored. `idle`: no event and nothing injected for it in this pass.
 */
async function recordSchedule(
  s: PassState,
  memory: PassMemory,
  m: StoredManifest,
  now: Date,
  statuses: NonNullable<PassResult["statuses"]>,
  idle: boolean,
): Promise<void> {
  const { env } = s;
  // A settled schedule whose inputs are those of a pass that changed nothing: nothing to derive.
  const nextAt = s.plan.schedules.get(m.key)?.next?.getTime();
  const prev = s.statusOf.get(m.key);
  const known = memory.settled.get(m);
  // TargetsFound reads the cluster's names: a settled status holds only while they stay the same.
  const cluster = selectorInputs(s.obs.snapshot);
  if (idle && prev && known?.status === prev && known.next === nextAt && known.cluster === cluster) {
    statuses.set(m.key, { prev, next: prev });
    s.writes.set(m.key, "unchanged");
    return;
  }
  const st = statusFor(s, m, prev, s.events.get(m.key) ?? [], now);
  statuses.set(m.key, { ...(prev ? { prev } : {}), next: st });
  logTransitions(s, m.key, prev, st);
  // Most passes change nothing: compare here, so an idle pass costs no store call per schedule.
  const w =
    prev && compare(prev, st).length === 0
      ? "unchanged"
      : await env.store.writeStatus(m.key, m.manifest.metadata.generation ?? 1, st);
  s.writes.set(m.key, w);
  followRuns(env.probes, env.config.dryRun, m, st, w === "written" || w === "unchanged");
  if (w === "unchanged" && idle && prev && isSettled(prev))
    memory.settled.set(m, { status: prev, next: nextAt, cluster });
  if (w === "written" || w === "unchanged") await collect(s, (h) => h.owner.schedule === m.key);
}

/** A running run of this status has a target task on a node whose guards this pass could not see. */
function awaitsNode(st: ChaosScheduleStatus | undefined, snapshot: ClusterSnapshot, nodes: NodeDirectory): boolean {
  const running = (st?.history ?? []).filter((r) => r.result === "Running");
  if (running.length === 0) return false;
  const blind = nodes.unobservable(snapshot);
  if (blind.size === 0) return false;
  const nodeOf = new Map(snapshot.tasks.map((t) => [t.id, t.nodeId]));
  // Node faults name their nodes: a partitioned node's agent is out of sight until it heals.
  return running.some(
    (r) => (r.tasks ?? []).some((t) => blind.has(nodeOf.get(t) ?? "")) || (r.nodes ?? []).some((n) => blind.has(n)),
  );
}

/** Runs that ended and services that healed since the stored status, for the log. */
function logTransitions(
  s: PassState,
  key: string,
  prev: ChaosScheduleStatus | undefined,
  next: ChaosScheduleStatus,
): void {
  const { logger } = s.env;
  const before = new Map((prev?.history ?? []).map((r) => [r.run, r]));
  for (const r of next.history ?? []) {
    const b = before.get(r.run);
    if (b?.result === "Running" && r.result !== "Running") {
      logger.info(
        { event: "end", schedule: key, run: r.run, fault: r.fault, result: r.result, reason: r.reason },
        `${r.fault} run ended`,
      );
    }
    if (r.recovery === "Recovered" && b?.recovery !== "Recovered") {
      logger.info(
        { event: "healed", schedule: key, run: r.run, services: r.services, recoverySeconds: r.recoverySeconds },
        `healed in ${r.recoverySeconds}s`,
      );
    }
  }
}

/** Removes the guards among the pass's injections that match `which` and have exited. */
async function collect(s: PassState, which: (h: InjectionHandle) => boolean): Promise<void> {
  const { env } = s;
  if (env.config.dryRun) return; // removing a container is a mutating call
  for (const h of s.current) {
    if (!which(h)) continue;
    if (!h.guardId || h.guardState === undefined || !["exited", "dead"].includes(h.guardState)) continue;
    const route = routeTo(s.deps, h.guardNodeId ?? h.target.nodeId);
    if ("unavailable" in route) continue; // collected once its node's agent answers again
    try {
      await route.engine.removeContainer(h.guardId, { force: true });
    } catch (e) {
      // Gone, or already being removed (by its driver's recover): nothing to do.
      const code = e instanceof Error && "code" in e ? e.code : undefined;
      if (code !== "ContainerNotFound" && code !== "ContainerStateConflict")
        env.logger.warn({ guard: h.guardId, err: String(e) }, "could not remove exited guard");
    }
  }
}
