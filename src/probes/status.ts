// What probes add to a derived status, pure: the probe lines and verdict of each run, a run
// aborted by a probe (Aborted/ProbeFailed), the Halted and StopCondition conditions, and the
// resilience score. Applied after the controller's own status derivation, as one more step.
import type { ChaosScheduleSpec, ChaosScheduleStatus, Condition, ProbeResult, RunRecord } from "../api/types.js";
import { HALTED, haltInForce } from "./halt.js";
import type { Abort } from "./monitor.js";
import { resilience, runVerdict } from "./evaluate.js";

export const STOP_CONDITION = "StopCondition";

/** What the monitor knows of a run. */
export interface RunProbeView {
  lines: ProbeResult[];
  abort?: Abort;
}

export interface ProbeStatusInput {
  spec: Pick<ChaosScheduleSpec, "probes" | "abort">;
  /** The status as the controller derived it for this pass. */
  status: ChaosScheduleStatus;
  /** The stored status before this pass (conditions carry over from it). */
  prev?: ChaosScheduleStatus;
  /** By run id. */
  views: ReadonlyMap<string, RunProbeView>;
  /** The controller-wide stop condition's failure, while it fails. */
  stopCondition?: string;
  now: Date;
}

// size: one pass over the runs, then the two conditions with their transitions, then the score.
export function probeStatus(input: ProbeStatusInput): ChaosScheduleStatus {
  const { spec, views, now } = input;
  let haltedBy: { run: string; abort: Abort } | undefined;
  const history = (input.status.history ?? []).map((r): RunRecord => {
    const view = r.run ? views.get(r.run) : undefined;
    if (!view) return r;
    const out: RunRecord = { ...r, probes: view.lines };
    const verdict = runVerdict(view.lines);
    if (verdict) out.verdict = verdict;
    else delete out.verdict;
    const a = view.abort;
    // The abort decided the run's end (not a failure seen after it ended on its own).
    if (
      a &&
      (r.result === "Running" || r.result === "Aborted" || (r.endedAt && Date.parse(r.endedAt) >= a.at.getTime()))
    ) {
      out.result = "Aborted";
      out.reason = "ProbeFailed";
      out.message = `probe ${a.probe} failed: ${a.message}`;
      out.endedAt ??= a.at.toISOString();
      out.verdict = "Fail";
      haltedBy = { run: r.run ?? "", abort: a };
    }
    return out;
  });

  const conditions = (input.status.conditions ?? []).filter((c) => c.type !== HALTED && c.type !== STOP_CONDITION);
  const prevHalt = input.prev?.conditions?.find((c) => c.type === HALTED);
  const haltWanted = spec.abort?.haltSchedule !== false;
  if (haltedBy && haltWanted && !haltInForce(spec, input.prev)) {
    // A new halt (or the first), unless this very abort was already lifted by a resume after it.
    const resumed = spec.abort?.resumedAt ? Date.parse(spec.abort.resumedAt) : NaN;
    const alreadyLifted = !Number.isNaN(resumed) && resumed >= haltedBy.abort.at.getTime();
    if (!alreadyLifted) {
      conditions.push({
        type: HALTED,
        status: "True",
        reason: "ProbeFailed",
        message: `run ${haltedBy.run} aborted: probe ${haltedBy.abort.probe} failed: ${haltedBy.abort.message}; no run starts until \`chaosctl resume\``,
        lastTransitionTime: haltedBy.abort.at.toISOString(),
      });
    } else if (prevHalt) conditions.push(lifted(prevHalt, spec, now));
  } else if (prevHalt) {
    conditions.push(haltInForce(spec, input.prev) ? prevHalt : lifted(prevHalt, spec, now));
  }

  const prevStop = input.prev?.conditions?.find((c) => c.type === STOP_CONDITION);
  if (input.stopCondition !== undefined) {
    conditions.push(
      transition(
        prevStop,
        { type: STOP_CONDITION, status: "True", reason: "StopConditionFailing", message: input.stopCondition },
        now,
      ),
    );
  } else if (prevStop) {
    conditions.push(
      transition(
        prevStop,
        {
          type: STOP_CONDITION,
          status: "False",
          reason: "StopConditionMet",
          message: "the controller's stop condition holds",
        },
        now,
      ),
    );
  }

  const out: ChaosScheduleStatus = { ...input.status, conditions, history };
  const score = resilience(history);
  if (score) {
    out.resilienceScore = score.score;
    out.resilienceRuns = score.runs;
  } else {
    delete out.resilienceScore;
    delete out.resilienceRuns;
  }
  return out;
}

function lifted(prev: Condition, spec: ProbeStatusInput["spec"], now: Date): Condition {
  const reason = spec.abort?.haltSchedule === false ? "HaltDisabled" : "Resumed";
  return transition(
    prev,
    {
      type: HALTED,
      status: "False",
      reason,
      message: prev.status === "True" ? `lifted: ${prev.message ?? ""}` : (prev.message ?? ""),
    },
    now,
  );
}

/** lastTransitionTime moves only when the status flips. */
function transition(prev: Condition | undefined, next: Condition, now: Date): Condition {
  const same = prev && prev.status === next.status;
  const message = same && prev.status === "False" && prev.type === HALTED ? prev.message : next.message;
  return {
    ...next,
    ...(message !== undefined ? { message } : {}),
    lastTransitionTime: same && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString(),
  };
}
