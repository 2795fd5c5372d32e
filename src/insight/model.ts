// What the dashboard and `chaosctl report` show, derived from stored manifests and their status
// only (pure): runs, schedules, per-service recovery statistics and the active injections. The
// figures are those of status itself (recoverySeconds, resilienceScore, verdict), never recomputed
// differently, so a report says what `describe` says.
import type { ActiveInjection, ChaosScheduleStatus, RunRecord } from "../api/types.js";
import type { StoredManifest } from "../store/store.js";
import { percentile, trendOf, type Trend } from "./stats.js";

export type Verdict = "Pass" | "Fail";

export interface RunView {
  schedule: string;
  run: string;
  fault: string;
  services: string[];
  targets: number;
  result: string;
  reason?: string;
  message?: string;
  scheduledAt?: string;
  startedAt?: string;
  endedAt?: string;
  recovery?: string;
  recoveredAt?: string;
  recoverySeconds?: number;
  verdict?: Verdict;
  /** The run was cut short by a failing probe (result Aborted). */
  aborted: boolean;
  /** The run's probe lines as status holds them. */
  probes?: NonNullable<RunRecord["probes"]>;
  source?: { commit: string; path: string };
}

export interface ScheduleView {
  key: string;
  namespace: string;
  name: string;
  fault: string;
  schedule: string;
  phase: string;
  suspended: boolean;
  /** A Halted condition is True: no run starts until `chaosctl resume`. */
  halted: boolean;
  nextRun?: string;
  lastRun?: string;
  lastResult?: string;
  lastVerdict?: Verdict;
  /** status.resilienceScore as stored (0-100); undefined when status has none. */
  score?: number;
  /** status.resilienceRuns: how many runs the score covers. */
  scoreRuns?: number;
  active: number;
  runs: number;
  /** recoverySeconds of the recorded runs, oldest first. */
  recoveryTrend: number[];
  trend: Trend;
}

export interface ServiceStats {
  service: string;
  runs: number;
  recovered: number;
  timedOut: number;
  /** Seconds (nearest-rank percentiles of recoverySeconds); undefined when nothing recovered. */
  p50?: number;
  p95?: number;
  max?: number;
}

export interface ActiveView {
  schedule: string;
  run?: string;
  fault: string;
  service?: string;
  task?: string;
  container?: string;
  node?: string;
  since?: string;
  until?: string;
  source?: { commit: string; path: string };
}

export interface Totals {
  schedules: number;
  runs: number;
  results: Record<string, number>;
  verdicts: { Pass: number; Fail: number; none: number };
  aborts: number;
  active: number;
  halted: number;
}

export interface Overview {
  generatedAt: string;
  /** Runs are those that started (or were scheduled) at or after this instant; all when absent. */
  since?: string;
  totals: Totals;
  schedules: ScheduleView[];
  services: ServiceStats[];
  active: ActiveView[];
}

const faultOf = (m: StoredManifest): string => Object.keys(m.manifest.spec.fault ?? {})[0] ?? "";

/** When a run happened, for windows and ordering: start, else schedule time, else end. */
export function runTime(r: Pick<RunView, "startedAt" | "scheduledAt" | "endedAt">): number {
  return Date.parse(r.startedAt ?? r.scheduledAt ?? r.endedAt ?? "");
}

/** Cut short by a failing probe (a stopOnFailure probe: result Aborted, reason ProbeFailed). */
export function isAborted(r: Pick<RunRecord, "result">): boolean {
  return (r.result as string | undefined) === "Aborted";
}

/** Oldest first (a run without a time first); each time parsed once (10,000 runs: a sort's worth of Date.parse). */
function byTime(runs: readonly RunView[]): RunView[] {
  return runs
    .map((r) => ({ r, t: runTime(r) || 0 }))
    .sort((a, b) => a.t - b.t)
    .map((x) => x.r);
}

export function runView(schedule: string, r: RunRecord): RunView {
  const verdict = r.verdict;
  const result = r.result ?? "Unknown";
  return {
    schedule,
    run: r.run ?? "",
    fault: r.fault ?? "",
    services: r.services ?? [],
    targets: r.targets ?? 0,
    result,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.message ? { message: r.message } : {}),
    ...(r.scheduledAt ? { scheduledAt: r.scheduledAt } : {}),
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.endedAt ? { endedAt: r.endedAt } : {}),
    ...(r.recovery ? { recovery: r.recovery } : {}),
    ...(r.recoveredAt ? { recoveredAt: r.recoveredAt } : {}),
    ...(typeof r.recoverySeconds === "number" ? { recoverySeconds: r.recoverySeconds } : {}),
    ...(verdict ? { verdict } : {}),
    aborted: isAborted(r),
    ...(r.probes?.length ? { probes: r.probes } : {}),
    ...(r.source ? { source: r.source } : {}),
  };
}

/** The runs of one schedule, oldest first, within the window. */
export function scheduleRuns(m: StoredManifest, since?: number): RunView[] {
  const runs = (m.status?.history ?? []).map((r) => runView(m.key, r));
  const kept = since === undefined ? runs : runs.filter((r) => !(runTime(r) < since));
  return byTime(kept);
}

const isHalted = (st: ChaosScheduleStatus | undefined): boolean =>
  (st?.conditions ?? []).some((c) => c.type === "Halted" && c.status === "True");

const numberOr = (x: unknown): number | undefined => (typeof x === "number" ? x : undefined);

export function scheduleView(m: StoredManifest, runs: RunView[]): ScheduleView {
  const st = m.status;
  const last = runs[runs.length - 1];
  const lastVerdict = [...runs].reverse().find((r) => r.verdict)?.verdict;
  const trendValues = runs.filter((r) => typeof r.recoverySeconds === "number").map((r) => r.recoverySeconds as number);
  const score = numberOr(st?.resilienceScore);
  const scoreRuns = numberOr(st?.resilienceRuns);
  return {
    key: m.key,
    namespace: m.manifest.metadata.namespace ?? "default",
    name: m.manifest.metadata.name,
    fault: faultOf(m),
    schedule: m.manifest.spec.schedule ?? "@once",
    phase: st?.phase ?? "Pending",
    suspended: !!m.manifest.spec.suspend,
    halted: isHalted(st),
    ...(st?.nextScheduleTime ? { nextRun: st.nextScheduleTime } : {}),
    ...(last ? { lastRun: last.startedAt ?? last.scheduledAt ?? "" } : {}),
    ...(last ? { lastResult: last.result } : {}),
    ...(lastVerdict ? { lastVerdict } : {}),
    ...(score !== undefined ? { score } : {}),
    ...(scoreRuns !== undefined ? { scoreRuns } : {}),
    active: st?.active?.length ?? 0,
    runs: runs.length,
    recoveryTrend: trendValues,
    trend: trendOf(trendValues),
  };
}

/** Per service: runs that faulted it, how many healed (and how fast), how many timed out. */
export function serviceStats(runs: readonly RunView[]): ServiceStats[] {
  const by = new Map<string, { runs: number; timedOut: number; seconds: number[] }>();
  for (const r of runs) {
    for (const s of r.services) {
      const e = by.get(s) ?? { runs: 0, timedOut: 0, seconds: [] };
      e.runs++;
      if (r.recovery === "TimedOut") e.timedOut++;
      if (r.recovery === "Recovered" && typeof r.recoverySeconds === "number") e.seconds.push(r.recoverySeconds);
      by.set(s, e);
    }
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, e]) => {
      const sorted = e.seconds.slice().sort((a, b) => a - b);
      return {
        service,
        runs: e.runs,
        recovered: sorted.length,
        timedOut: e.timedOut,
        ...(sorted.length
          ? { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] }
          : {}),
      };
    });
}

function activeView(schedule: string, a: ActiveInjection): ActiveView {
  return {
    schedule,
    fault: a.fault ?? "",
    ...(a.run ? { run: a.run } : {}),
    ...(a.service ? { service: a.service } : {}),
    ...(a.task ? { task: a.task } : {}),
    ...(a.container ? { container: a.container } : {}),
    ...(a.node ? { node: a.node } : {}),
    ...(a.since ? { since: a.since } : {}),
    ...(a.until ? { until: a.until } : {}),
    ...(a.source ? { source: a.source } : {}),
  };
}

export interface OverviewInput {
  manifests: readonly StoredManifest[];
  now: Date;
  /** Only runs at or after this instant (ms since the epoch). */
  since?: number;
}

/** Everything at once; `runs` (every run in the window, oldest first) is returned beside it. */
export function overview(i: OverviewInput): { overview: Overview; runs: RunView[] } {
  const sorted = [...i.manifests].sort((a, b) => a.key.localeCompare(b.key));
  const schedules: ScheduleView[] = [];
  let runs: RunView[] = [];
  const active: ActiveView[] = [];
  for (const m of sorted) {
    const rs = scheduleRuns(m, i.since);
    runs.push(...rs);
    schedules.push(scheduleView(m, rs));
    for (const a of m.status?.active ?? []) active.push(activeView(m.key, a));
  }
  runs = byTime(runs);
  const results: Record<string, number> = {};
  const verdicts = { Pass: 0, Fail: 0, none: 0 };
  let aborts = 0;
  for (const r of runs) {
    results[r.result] = (results[r.result] ?? 0) + 1;
    if (r.verdict) verdicts[r.verdict]++;
    else verdicts.none++;
    if (r.aborted) aborts++;
  }
  return {
    overview: {
      generatedAt: i.now.toISOString(),
      ...(i.since !== undefined ? { since: new Date(i.since).toISOString() } : {}),
      totals: {
        schedules: schedules.length,
        runs: runs.length,
        results,
        verdicts,
        aborts,
        active: active.length,
        halted: schedules.filter((s) => s.halted).length,
      },
      schedules,
      services: serviceStats(runs),
      active,
    },
    runs,
  };
}
