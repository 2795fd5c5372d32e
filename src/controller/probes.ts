// Probes in the reconcile pass (the runtime and the verdict logic live in src/probes/):
//  - observe: runs a probe aborted, schedules halted, the stop condition's state;
//  - act, before the starts (probeGateStep): SOT checks; a start whose SOT fails becomes a
//    Skipped run (SteadyStateNotMet) and nothing is injected; Continuous probes begin;
//  - act, after the starts (probeStartedStep): OnChaos probes begin once the fault is in;
//  - record: each status gets its probe lines, verdicts, Aborted runs, Halted and StopCondition
//    (withProbes), and the monitor follows the runs as recorded (followRuns): a run whose fault
//    is over starts its EOT checks, a run settled and stored is forgotten.
import type { DefaultedProbe } from "../api/types.js";
import type { StoredManifest } from "../store/store.js";
import { haltInForce } from "../probes/halt.js";
import type { Abort, ProbeMonitor } from "../probes/monitor.js";
import type { StopConditionWatch } from "../probes/stop-condition.js";
import { phasesOf } from "../probes/evaluate.js";
import { skipRecord } from "./audit-log.js";
import type { SkipRun, StartRun } from "./plan.js";
import type { PassEnv, PassState } from "./pass.js";
import { manifestProbes, type ProbeObservation } from "./probe-status.js";

/** An act step (the type act.ts's ACT_STEPS hold), written out here to keep act.ts out of our imports. */
type ActStep = (s: PassState) => Promise<void>;

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

/** The monitor and the stop condition a controller runs with (ControllerOptions). */
export interface ProbeParts {
  probes?: ProbeMonitor;
  stopCondition?: StopConditionWatch;
}
