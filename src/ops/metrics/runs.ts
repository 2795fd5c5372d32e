// Pure: which runs ended and which recoveries completed between two statuses of one schedule,
// so counters move once per event seen by this process, never once per pass.
import type { ChaosScheduleStatus, RunRecord } from "../../api/types.js";

const FINAL = new Set(["Succeeded", "Failed", "Skipped", "Interrupted", "Aborted"]);

export interface EndedRun {
  fault: string;
  result: string;
  reason: string;
}

export interface Recovery {
  service: string;
  seconds: number;
}

export interface RunChanges {
  ended: EndedRun[];
  recovered: Recovery[];
}

function byRun(s: ChaosScheduleStatus | undefined): Map<string, RunRecord> {
  return new Map((s?.history ?? []).filter((r) => r.run).map((r) => [r.run as string, r]));
}

export function runChanges(prev: ChaosScheduleStatus | undefined, next: ChaosScheduleStatus): RunChanges {
  const before = byRun(prev);
  const ended: EndedRun[] = [];
  const recovered: Recovery[] = [];
  for (const r of next.history ?? []) {
    const b = r.run ? before.get(r.run) : undefined;
    if (r.result && FINAL.has(r.result) && !(b?.result && FINAL.has(b.result))) {
      // A run that ended cleanly has no reason; a skipped or failed one says why (a stable code).
      ended.push({
        fault: r.fault ?? "unknown",
        result: r.result.toLowerCase(),
        reason: r.result === "Succeeded" ? "" : (r.reason ?? ""),
      });
    }
    if (r.recovery === "Recovered" && b?.recovery !== "Recovered" && typeof r.recoverySeconds === "number") {
      for (const service of r.services ?? []) recovered.push({ service, seconds: r.recoverySeconds });
    }
  }
  return { ended, recovered };
}

/** Verdicts that appeared between two statuses (a run's verdict is set once its probes are settled). */
export function newVerdicts(prev: ChaosScheduleStatus | undefined, next: ChaosScheduleStatus): Array<"Pass" | "Fail"> {
  const before = byRun(prev);
  const out: Array<"Pass" | "Fail"> = [];
  for (const r of next.history ?? []) {
    const b = r.run ? before.get(r.run) : undefined;
    if (r.verdict && !b?.verdict) out.push(r.verdict);
  }
  return out;
}
