import { describe, expect, it } from "vitest";
import { dueRun, type DueInput } from "../../src/controller/schedule.js";

const t = (s: string): Date => new Date(`2026-01-01T${s}Z`);
const base = (over: Partial<DueInput>): DueInput => ({
  schedule: "@once",
  generation: 1,
  state: {},
  now: t("10:00:00"),
  startingDeadlineMs: 60_000,
  ...over,
});

describe("dueRun", () => {
  it.each([
    ["@once never run", base({}), { kind: "fire", scheduledAt: t("10:00:00") }],
    ["@once already run for this generation", base({ state: { lastScheduleGeneration: 1 } }), { kind: "wait" }],
    [
      "@once run for an older generation",
      base({ generation: 2, state: { lastScheduleGeneration: 1 } }),
      { kind: "fire", scheduledAt: t("10:00:00") },
    ],
    [
      "@every first time fires now",
      base({ schedule: "@every 10m" }),
      { kind: "fire", scheduledAt: t("10:00:00"), next: t("10:10:00") },
    ],
    [
      "@every not yet",
      base({ schedule: "@every 10m", state: { lastScheduleTime: t("09:55:00") } }),
      { kind: "wait", next: t("10:05:00") },
    ],
    [
      "@every due exactly",
      base({ schedule: "@every 10m", state: { lastScheduleTime: t("09:50:00") } }),
      { kind: "fire", scheduledAt: t("10:00:00"), next: t("10:10:00") },
    ],
    [
      "@every recorded next honoured",
      base({ schedule: "@every 10m", state: { lastScheduleTime: t("09:50:00"), nextScheduleTime: t("10:00:30") } }),
      { kind: "wait", next: t("10:00:30") },
    ],
    [
      "@every late within deadline: one catch-up run",
      base({ schedule: "@every 1m", now: t("10:00:40"), state: { lastScheduleTime: t("09:59:00") } }),
      { kind: "fire", scheduledAt: t("10:00:00"), next: t("10:01:00") },
    ],
    [
      "@every down for an hour: the latest missed time is missed too, no burst",
      base({ schedule: "@every 10m", now: t("11:03:00"), state: { lastScheduleTime: t("10:00:00") } }),
      { kind: "missed", scheduledAt: t("11:00:00"), next: t("11:10:00") },
    ],
    [
      "@every down for an hour: one catch-up for the latest time within the deadline",
      base({ schedule: "@every 10m", now: t("11:00:30"), state: { lastScheduleTime: t("10:00:00") } }),
      { kind: "fire", scheduledAt: t("11:00:00"), next: t("11:10:00") },
    ],
    [
      "cron first sight only computes next",
      base({ schedule: "*/5 * * * *", now: t("10:01:00") }),
      { kind: "wait", next: t("10:05:00") },
    ],
    [
      "cron due from recorded next",
      base({ schedule: "*/5 * * * *", now: t("10:05:01"), state: { nextScheduleTime: t("10:05:00") } }),
      { kind: "fire", scheduledAt: t("10:05:00"), next: t("10:10:00") },
    ],
    [
      "cron missed beyond deadline",
      base({ schedule: "*/5 * * * *", now: t("10:32:01"), state: { nextScheduleTime: t("10:05:00") } }),
      { kind: "missed", scheduledAt: t("10:30:00"), next: t("10:35:00") },
    ],
    [
      "cron: one catch-up run for the latest missed time",
      base({ schedule: "*/5 * * * *", now: t("10:30:20"), state: { nextScheduleTime: t("10:05:00") } }),
      { kind: "fire", scheduledAt: t("10:30:00"), next: t("10:35:00") },
    ],
    [
      "cron with seconds",
      base({ schedule: "*/30 * * * * *", now: t("10:00:10"), state: { nextScheduleTime: t("10:00:00") } }),
      { kind: "fire", scheduledAt: t("10:00:00"), next: t("10:00:30") },
    ],
    [
      "a nominal time already served is not served again",
      base({ schedule: "@every 10m", state: { lastScheduleTime: t("10:00:00"), nextScheduleTime: t("10:00:00") } }),
      { kind: "wait", next: t("10:10:00") },
    ],
  ])("%s", (_name, input, want) => {
    expect(dueRun(input)).toEqual(want);
  });

  it("never fires twice for one nominal time, whatever the pass cadence", () => {
    // Simulate passes every 7 s for 10 minutes on "@every 1m", feeding back what status records.
    let state: DueInput["state"] = {};
    const fired: string[] = [];
    for (let s = 0; s < 600; s += 7) {
      const now = new Date(t("10:00:00").getTime() + s * 1000);
      const d = dueRun(base({ schedule: "@every 1m", now, state }));
      if (d.kind === "fire") {
        fired.push(d.scheduledAt.toISOString());
        state = { lastScheduleTime: d.scheduledAt, ...(d.next ? { nextScheduleTime: d.next } : {}) };
      } else if (d.next) state = { ...state, nextScheduleTime: d.next };
    }
    expect(fired.length).toBe(10);
    expect(new Set(fired).size).toBe(10);
  });
});
