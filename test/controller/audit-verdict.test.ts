import { describe, expect, it } from "vitest";
import { verdictRecords } from "../../src/controller/audit-log.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";

describe("verdictRecords", () => {
  it("one record per verdict that appeared, with the probe lines as message", () => {
    const line = {
      name: "web-up",
      mode: "Continuous" as const,
      verdict: "Fail" as const,
      passed: 3,
      failed: 2,
      lastError: "status 503",
    };
    const prev: ChaosScheduleStatus = {
      history: [
        { run: "r1", result: "Succeeded", verdict: "Pass" },
        { run: "r2", result: "Running" },
      ],
    };
    const next: ChaosScheduleStatus = {
      history: [
        { run: "r1", result: "Succeeded", verdict: "Pass" },
        {
          run: "r2",
          fault: "pause",
          generation: 2,
          result: "Aborted",
          reason: "ProbeFailed",
          verdict: "Fail",
          probes: [line],
        },
      ],
    };
    const now = new Date("2026-12-06T12:00:00Z");
    expect(verdictRecords("default/web", prev, next, now, "default")).toEqual([
      {
        time: now.toISOString(),
        actor: "controller",
        origin: "controller/default",
        action: "verdict",
        schedule: "default/web",
        generation: 2,
        run: "r2",
        fault: "pause",
        result: "Fail",
        reason: "ProbeFailed",
        message: "web-up (Continuous) Fail: 3 passed, 2 failed; last error: status 503",
      },
    ]);
    expect(verdictRecords("default/web", next, next, now, "default")).toEqual([]);
  });
});
