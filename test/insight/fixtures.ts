// Stored manifests with a recorded history, for the insight, report and dashboard tests.
import type { ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import type { StoredManifest } from "../../src/store/store.js";

export const NOW = new Date("2026-03-01T12:00:00Z");

export function run(i: number, over: Partial<RunRecord> = {}, base = NOW.getTime() - 3_600_000): RunRecord {
  const start = base + i * 60_000;
  return {
    run: `r${i}`,
    generation: 1,
    fault: "kill",
    scheduledAt: new Date(start).toISOString(),
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(start + 1_000).toISOString(),
    targets: 1,
    services: ["web"],
    result: "Succeeded",
    recovery: "Recovered",
    recoveredAt: new Date(start + 1_000 + 5_000).toISOString(),
    recoverySeconds: 5,
    ...over,
  };
}

export function stored(
  name: string,
  history: RunRecord[],
  extra: Partial<ChaosScheduleStatus> = {},
  fault: Record<string, unknown> = { kill: {} },
): StoredManifest {
  return {
    key: `default/${name}`,
    source: { store: "dir", file: `${name}.yaml`, index: 0, line: 1 },
    manifest: {
      apiVersion: "chaosctl.io/v1alpha1",
      kind: "ChaosSchedule",
      metadata: { name, namespace: "default", generation: 1 },
      spec: { schedule: "@every 1m", selector: { services: ["web"] }, fault },
    },
    status: { phase: "Scheduled", history, ...extra },
  };
}
