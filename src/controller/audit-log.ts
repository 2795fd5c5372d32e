// The controller's audit-log records (audit/log.ts): one per target applied, per revert and per
// skipped run, built from the pass's own actions and outcomes. Pure; the pass appends them once
// at its end, and a failing log never fails the pass.
import type { AuditRecord } from "../audit/log.js";
import type { ChaosScheduleStatus } from "../api/types.js";
import type { InjectionHandle, Target } from "../faults/driver.js";
import type { ExtendRun, Reapply, Revert, SkipRun, StartRun } from "./plan.js";
import type { TargetResult } from "./status.js";

export type { AuditSink } from "../audit/log.js";

const targetText = (t: Target): string =>
  t.kind === "node"
    ? `node/${t.nodeHostname ?? t.nodeId}`
    : [
        t.serviceName,
        t.taskId ? `task/${t.taskId}` : undefined,
        t.containerId ? `container/${t.containerId.slice(0, 12)}` : undefined,
      ]
        .filter(Boolean)
        .join(" ");

const base = (now: Date, instance: string): Pick<AuditRecord, "time" | "actor" | "origin"> => ({
  time: now.toISOString(),
  actor: "controller",
  origin: `controller/${instance}`,
});

export function appliedRecords(
  a: StartRun | ExtendRun,
  results: readonly TargetResult[],
  now: Date,
  instance: string,
  source?: AuditRecord["source"],
): AuditRecord[] {
  return results.map((r) => ({
    ...base(now, instance),
    action: a.type === "start" ? "apply" : "extend",
    schedule: a.key,
    generation: a.generation,
    run: a.run,
    fault: a.fault,
    target: targetText(r.target),
    node: r.target.nodeHostname ?? r.target.nodeId,
    result: r.ok ? "ok" : "failed",
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.message ? { message: r.message } : {}),
    ...(source ? { source } : {}),
  }));
}

export function revertRecord(
  a: Revert | Reapply,
  ok: boolean,
  message: string | undefined,
  now: Date,
  instance: string,
): AuditRecord {
  const h: InjectionHandle = a.handle;
  return {
    ...base(now, instance),
    action: a.type === "revert" ? "revert" : "reapply",
    schedule: h.owner.schedule,
    generation: h.owner.generation,
    run: h.owner.run,
    fault: h.fault,
    target: targetText(h.target),
    node: h.target.nodeHostname ?? h.target.nodeId,
    result: ok ? "ok" : "failed",
    ...(a.type === "revert" ? { reason: a.reason } : { reason: "DestinationsChanged" }),
    ...(message ? { message } : {}),
    ...(h.owner.source ? { source: h.owner.source } : {}),
  };
}

/** One record per run whose verdict appeared between two statuses of a schedule. */
export function verdictRecords(
  key: string,
  prev: ChaosScheduleStatus | undefined,
  next: ChaosScheduleStatus,
  now: Date,
  instance: string,
): AuditRecord[] {
  const before = new Map((prev?.history ?? []).map((r) => [r.run, r]));
  return (next.history ?? [])
    .filter((r) => r.verdict && !before.get(r.run)?.verdict)
    .map((r) => ({
      ...base(now, instance),
      action: "verdict" as const,
      schedule: key,
      ...(r.generation !== undefined ? { generation: r.generation } : {}),
      ...(r.run ? { run: r.run } : {}),
      ...(r.fault ? { fault: r.fault } : {}),
      result: r.verdict ?? "",
      ...(r.result === "Aborted" || r.result === "Skipped" ? { reason: r.reason ?? r.result } : {}),
      message: (r.probes ?? [])
        .map(
          (p) =>
            `${p.name} (${p.mode}) ${p.verdict ?? "?"}: ${p.passed} passed, ${p.failed} failed${p.lastError ? `; last error: ${p.lastError}` : ""}`,
        )
        .join("; "),
    }));
}

export function skipRecord(a: SkipRun, now: Date, instance: string): AuditRecord {
  return {
    ...base(now, instance),
    action: "skip",
    schedule: a.key,
    generation: a.generation,
    run: a.run,
    fault: a.fault,
    result: "skipped",
    reason: a.reason,
    message: a.message,
  };
}
