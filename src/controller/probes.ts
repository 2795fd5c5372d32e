// Probes in the reconcile pass (the runtime and the verdict logic live in src/probes/):
//  - observe: runs a probe aborted, schedules halted, the stop condition's state;
//  - act, before the starts (probeGateStep): SOT checks; a start whose SOT fails becomes a
//    Skipped run (SteadyStateNotMet) and nothing is injected; Continuous probes begin;
//  - act, after the starts (probeStartedStep): OnChaos probes begin once the fault is in;
//  - record: each status gets its probe lines, verdicts, Aborted runs, Halted and StopCondition
//    (withProbes), and the monitor follows the runs as recorded (followRuns): a run whose fault
//    is over starts its EOT checks, a run settled and stored is forgotten.
import type { ChaosScheduleStatus, DefaultedProbe } from "../api/types.js";
import type { StoredManifest } from "../store/store.js";
import { haltInForce } from "../probes/halt.js";
import type { Abort, ProbeMonitor } from "../probes/monitor.js";
import { probeStatus, STOP_CONDITION, type RunProbeView } from "../probes/status.js";
import type { StopConditionWatch } from "../probes/stop-condition.js";
import { phasesOf } from "../probes/evaluate.js";
import { skipRecord } from "./audit-log.js";
import type { SkipRun, StartRun } from "./plan.js";
import { DURATIVE, type FaultKind } from "../faults/driver.js";
import type { ActStep } from "./act.js";
import type { PassEnv, PassState } from "./pass.js";

/** What the observe phase reads about probes. */
export interface ProbeObservation {
  /** Runs a stopOnFailure probe aborted (revert every injection of them). */
  aborted: ReadonlyMap<string, Abort>;
  /** Schedules that start nothing: halted by an earlier abort, or by one decided now. */
  halted: ReadonlySet<string>;
  /** Why the stop condition fails, while it does. */
  stopCondition?: string;
}

export async function observeProbes(env: PassEnv, manifests: readonly StoredManifest[]): Promise<ProbeObservation> {
  const stop = env.stopCondition;
  if (stop) {
    // Nothing starts before the stop condition has been checked once.
    if (stop.running) await stop.ready();
    else await stop.refresh();
  }
  const aborted = env.probes?.aborted() ?? new Map<string, Abort>();
  const abortedKeys = new Set([...aborted.values()].map((a) => a.schedule));
  const halted = new Set<string>();
  for (const m of manifests) {
    const haltsOnAbort = m.manifest.spec.abort?.haltSchedule !== false;
    if (haltInForce(m.manifest.spec, m.status) || (haltsOnAbort && abortedKeys.has(m.key) && !resumedSince(m, aborted)))
      halted.add(m.key);
  }
  const failing = stop?.state();
  return { aborted, halted, ...(failing !== undefined ? { stopCondition: failing } : {}) };
}

/** A resume recorded after every abort of this schedule's runs that the monitor still holds. */
function resumedSince(m: StoredManifest, aborted: ReadonlyMap<string, Abort>): boolean {
  const at = m.manifest.spec.abort?.resumedAt ? Date.parse(m.manifest.spec.abort.resumedAt) : NaN;
  if (Number.isNaN(at)) return false;
  return [...aborted.values()].filter((a) => a.schedule === m.key).every((a) => a.at.getTime() <= at);
}

/** A stored manifest's probes, with their defaults: a store hands out manifests the loader validated and defaulted. */
function manifestProbes(m: StoredManifest | undefined): DefaultedProbe[] {
  return (m?.manifest.spec.probes ?? []) as DefaultedProbe[];
}
const probesOf = (s: PassState, key: string): DefaultedProbe[] => manifestProbes(s.byKey.get(key));

/** SOT checks before the starts; a failed one turns its start into a Skipped run. Continuous probes begin. */
export const probeGateStep: ActStep = async (s) => {
  const { env } = s;
  const monitor = env.probes;
  if (!monitor || env.config.dryRun) return;
  const starts = s.plan.actions.filter((a): a is StartRun => a.type === "start" && probesOf(s, a.key).length > 0);
  if (starts.length === 0) return;
  const dropped = new Set<StartRun>();
  await Promise.all(
    starts.map(async (a) => {
      const probes = probesOf(s, a.key);
      const failed = probes.some((p) => phasesOf(p.mode).includes("SOT"))
        ? await monitor.sot(a.key, a.run, probes)
        : undefined;
      if (!failed) {
        monitor.startDuring(a.key, a.run, probes, "before");
        return;
      }
      dropped.add(a);
      const skip: SkipRun = {
        type: "skip",
        key: a.key,
        generation: a.generation,
        run: a.run,
        scheduledAt: a.scheduledAt,
        fault: a.fault,
        reason: "SteadyStateNotMet",
        message: `SOT probe ${failed.probe} failed: ${failed.message}; nothing was injected`,
      };
      s.audit.push(skipRecord(skip, env.clock(), env.instance));
      env.logger.info(
        { event: "skip", schedule: a.key, run: a.run, reason: skip.reason, probe: failed.probe, err: failed.message },
        "run skipped: steady state not met",
      );
      s.events.set(a.key, [
        ...(s.events.get(a.key) ?? []),
        {
          type: "skipped",
          run: a.run,
          generation: a.generation,
          fault: a.fault,
          scheduledAt: a.scheduledAt,
          reason: skip.reason,
          message: skip.message,
        },
      ]);
    }),
  );
  if (dropped.size) s.plan = { ...s.plan, actions: s.plan.actions.filter((a) => !dropped.has(a as StartRun)) };
};

/** OnChaos probes begin once the fault is in; a run that did not start is forgotten. */
export const probeStartedStep: ActStep = async (s) => {
  const monitor = s.env.probes;
  if (!monitor || s.env.config.dryRun) return;
  for (const a of s.plan.actions) {
    if (a.type !== "start" || !monitor.has(a.run)) continue;
    const applied = (s.events.get(a.key) ?? []).some(
      (e) => e.type === "applied" && e.run === a.run && e.results.some((r) => r.ok),
    );
    if (applied) monitor.startDuring(a.key, a.run, probesOf(s, a.key), "injected");
    else if (!s.statusOf.get(a.key)?.history?.some((r) => r.run === a.run)) monitor.forget(a.run);
  }
};

/** The probe part of a schedule's status (pure given the monitor's views). */
export function withProbes(
  env: PassEnv,
  obs: { stopCondition?: string },
  m: StoredManifest,
  derived: ChaosScheduleStatus,
  prev: ChaosScheduleStatus | undefined,
  now: Date,
): ChaosScheduleStatus {
  const monitor = env.probes;
  const views = new Map<string, RunProbeView>();
  if (monitor)
    for (const r of derived.history ?? []) {
      const lines = r.run ? monitor.lines(r.run) : undefined;
      if (!lines) continue;
      const abort = monitor.abortOf(r.run ?? "");
      views.set(r.run ?? "", { lines, ...(abort ? { abort } : {}) });
    }
  return probeStatus({
    spec: m.manifest.spec,
    status: derived,
    ...(prev ? { prev } : {}),
    views,
    ...(obs.stopCondition !== undefined ? { stopCondition: obs.stopCondition } : {}),
    now,
  });
}

/** The stored StopCondition condition disagrees with the stop condition now: the status must change. */
export function stopConditionChanged(prev: ChaosScheduleStatus | undefined, failing: string | undefined): boolean {
  const c = prev?.conditions?.find((x) => x.type === STOP_CONDITION);
  return failing !== undefined ? c?.status !== "True" : c?.status === "True";
}

/** The monitor follows the runs as this status records them (`stored`: the status is in the store). */
export function followRuns(env: PassEnv, m: StoredManifest, st: ChaosScheduleStatus, stored: boolean): void {
  const monitor = env.probes;
  const probes = manifestProbes(m);
  if (!monitor || probes.length === 0 || env.config.dryRun) return;
  for (const r of st.history ?? []) {
    if (!r.run) continue;
    if (r.result === "Running") {
      monitor.adopt(m.key, r.run, probes);
      continue;
    }
    if (!monitor.has(r.run)) continue;
    if (r.result !== "Succeeded" && r.result !== "Aborted" && r.result !== "Failed") {
      // Skipped (an SOT failure, recorded with its lines), interrupted, dry run: nothing more to check.
      if (stored) monitor.forget(r.run);
      continue;
    }
    // For an instant fault the chaos window is the recovery window: until the service is back.
    const instant =
      !DURATIVE.has(r.fault as FaultKind) || (r.fault === "node" && m.manifest.spec.fault.node?.action === "reboot");
    if (!instant || r.recovery !== "Pending") monitor.endDuring(m.key, r.run, probes);
    if (stored && r.verdict && monitor.settled(r.run)) monitor.forget(r.run);
  }
}

/** The monitor and the stop condition a controller runs with (ControllerOptions). */
export interface ProbeParts {
  probes?: ProbeMonitor;
  stopCondition?: StopConditionWatch;
}
