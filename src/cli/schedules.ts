// Schedules as the read verbs show them: one row (and one object) per stored manifest.
import type { ChaosSchedule, ChaosScheduleStatus } from "../api/types.js";
import type { Source, StoredManifest } from "../store/store.js";
import type { Column, Row } from "./table.js";
import { age } from "./table.js";
import type { ListView } from "./format.js";

export const SCHEDULE_COLUMNS: readonly Column[] = [
  { header: "NAMESPACE", key: "namespace" },
  { header: "NAME", key: "name" },
  { header: "SCHEDULE", key: "schedule" },
  { header: "FAULT", key: "fault" },
  { header: "SUSPEND", key: "suspend" },
  { header: "PHASE", key: "phase" },
  { header: "ACTIVE", key: "active" },
  { header: "SCORE", key: "score" },
  { header: "LAST RESULT", key: "lastResult" },
  { header: "LAST SCHEDULE", key: "lastSchedule" },
];

export const SCHEDULE_WIDE: readonly Column[] = [
  { header: "GENERATION", key: "generation" },
  { header: "OBSERVED", key: "observed" },
  { header: "DURATION", key: "duration" },
  { header: "SELECTOR", key: "selector" },
  { header: "NEXT SCHEDULE", key: "next" },
  { header: "SOURCE", key: "source" },
];

export function faultName(m: ChaosSchedule): string {
  return Object.keys(m.spec.fault ?? {})[0] ?? "";
}

export function selectorText(m: ChaosSchedule): string {
  const s = m.spec.selector ?? {};
  const parts: string[] = [];
  if (s.stack) parts.push(`stack=${s.stack}`);
  if (s.services?.length) parts.push(`services=${s.services.join(",")}`);
  for (const [k, v] of Object.entries(s.serviceLabels ?? {})) parts.push(`${k}=${v}`);
  if (s.nodes?.length) parts.push(`nodes=${s.nodes.join(",")}`);
  for (const [k, v] of Object.entries(s.nodeLabels ?? {})) parts.push(`node.${k}=${v}`);
  if (s.nodeRoles?.length) parts.push(`roles=${s.nodeRoles.join(",")}`);
  parts.push(`mode=${s.mode ?? "one"}${s.value !== undefined ? `:${s.value}` : ""}`);
  return parts.join(" ");
}

/** "80% (5)": status.resilienceScore over its resilienceRuns judged runs; empty before any verdict. */
export function scoreText(st: ChaosScheduleStatus | undefined): string {
  if (st?.resilienceScore === undefined) return "";
  return `${st.resilienceScore}% (${st.resilienceRuns ?? "?"})`;
}

export function sourceText(s: Source): string {
  return s.store === "dir" ? `${s.file}:${s.line}` : `config/${s.configName}`;
}

export function scheduleRow(m: StoredManifest, now: Date): Row {
  const st = m.status;
  return {
    namespace: m.manifest.metadata.namespace ?? "default",
    name: m.manifest.metadata.name,
    schedule: m.manifest.spec.schedule ?? "@once",
    fault: faultName(m.manifest),
    suspend: String(!!m.manifest.spec.suspend),
    phase: st?.phase ?? "Pending",
    active: String(st?.active?.length ?? 0),
    score: scoreText(st),
    lastResult: lastResult(st),
    lastSchedule: age(st?.lastScheduleTime, now),
    generation: String(m.manifest.metadata.generation ?? 1),
    observed: st?.observedGeneration !== undefined ? String(st.observedGeneration) : "",
    duration: m.manifest.spec.duration ?? "",
    selector: selectorText(m.manifest),
    next: st?.nextScheduleTime ?? "",
    source: sourceText(m.source),
  };
}

/**
 * The last run's result: Succeeded, Skipped, Failed, Interrupted, Running, DryRun, or Waiting
 * while a due run is held back (status.waiting). Empty before the first run.
 */
export function lastResult(st: ChaosScheduleStatus | undefined): string {
  if (st?.waiting) return "Waiting";
  return st?.history?.at(-1)?.result ?? "";
}

/** The object as stored: the manifest with its status (what -o json/yaml print). */
export function scheduleObject(m: StoredManifest): ChaosSchedule & { status?: ChaosScheduleStatus } {
  return { ...m.manifest, ...(m.status ? { status: m.status } : {}) };
}

export function scheduleView(manifests: readonly StoredManifest[], now: Date): ListView {
  const sorted = [...manifests].sort((a, b) => a.key.localeCompare(b.key));
  return {
    listKind: "ChaosScheduleList",
    columns: SCHEDULE_COLUMNS,
    wide: SCHEDULE_WIDE,
    rows: sorted.map((m) => scheduleRow(m, now)),
    objects: sorted.map(scheduleObject),
    names: sorted.map((m) => `chaosschedule/${m.manifest.metadata.name}`),
    ids: sorted.map((m) => m.key),
  };
}

/** "name" or "namespace/name" → the store key. */
export function keyOf(name: string, namespace = "default"): string {
  return name.includes("/") ? name : `${namespace}/${name}`;
}
