// The probe step of the record phase, and what observe hands the plan about probes: each status
// gets its probe lines, verdicts, Aborted runs, Halted and StopCondition (withProbes), and the
// monitor follows the runs as recorded (followRuns): a run whose fault is over starts its EOT
// checks, a run settled and stored is forgotten. Kept apart from the act steps (probes.ts) so the
// pass's shared helpers can use it without an import circle.
import type { ChaosScheduleStatus, DefaultedProbe } from "../api/types.js";
import type { StoredManifest } from "../store/store.js";
import type { Abort, ProbeMonitor } from "../probes/monitor.js";
import { probeStatus, STOP_CONDITION, type RunProbeView } from "../probes/status.js";
import { DURATIVE, type FaultKind } from "../faults/driver.js";

/** What the observe phase reads about probes. */
export interface ProbeObservation {
  /** Runs a stopOnFailure probe aborted (revert every injection of them). */
  aborted: ReadonlyMap<string, Abort>;
  /** Schedules that start nothing: halted by an earlier abort, or by one decided now. */
  halted: ReadonlySet<string>;
  /** Why the stop condition fails, while it does. */
  stopCondition?: string;
}

/** A stored manifest's probes, with their defaults: a store hands out manifests the loader validated and defaulted. */
export function manifestProbes(m: StoredManifest | undefined): DefaultedProbe[] {
  return (m?.manifest.spec.probes ?? []) as DefaultedProbe[];
}
/** The probe part of a schedule's status (pure given the monitor's views). */
export function withProbes(
  monitor: ProbeMonitor | undefined,
  obs: { stopCondition?: string },
  m: StoredManifest,
  derived: ChaosScheduleStatus,
  prev: ChaosScheduleStatus | undefined,
  now: Date,
): ChaosScheduleStatus {
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
export function followRuns(
  monitor: ProbeMonitor | undefined,
  dryRun: boolean,
  m: StoredManifest,
  st: ChaosScheduleStatus,
  stored: boolean,
): void {
  const probes = manifestProbes(m);
  if (!monitor || probes.length === 0 || dryRun) return;
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
