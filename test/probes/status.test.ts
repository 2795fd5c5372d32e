// The probe step of status, pure: lines and verdicts, aborted runs, Halted, StopCondition, score.
import { describe, expect, it } from "vitest";
import type { ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import { probeStatus, type RunProbeView } from "../../src/probes/status.js";

const now = new Date("2026-12-06T12:00:10.000Z");
const abortAt = new Date("2026-12-06T12:00:05.000Z");
const ready = {
  type: "Ready",
  status: "True" as const,
  reason: "Reconciled",
  lastTransitionTime: "2026-12-06T11:00:00.000Z",
};
const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  run: id,
  fault: "pause",
  result: "Running",
  ...over,
});
const derived = (...history: RunRecord[]): ChaosScheduleStatus => ({ phase: "Active", conditions: [ready], history });
const line = (verdict?: "Pass" | "Fail") => ({
  name: "web-up",
  mode: "Continuous" as const,
  passed: 3,
  failed: verdict === "Fail" ? 2 : 0,
  ...(verdict === "Fail" ? { lastError: "status 503" } : {}),
  ...(verdict ? { verdict } : {}),
});
const views = (entries: Array<[string, RunProbeView]>) => new Map(entries);

describe("probeStatus", () => {
  it("an aborted run: Aborted/ProbeFailed with the probe's error, verdict Fail, schedule Halted", () => {
    const st = probeStatus({
      spec: {},
      status: derived(run("r1", { result: "Succeeded", endedAt: now.toISOString() })),
      views: views([
        [
          "r1",
          {
            lines: [line("Fail")],
            abort: { schedule: "default/web", probe: "web-up", message: "status 503", at: abortAt },
          },
        ],
      ]),
      now,
    });
    expect(st.history?.[0]).toMatchObject({
      result: "Aborted",
      reason: "ProbeFailed",
      message: "probe web-up failed: status 503",
      verdict: "Fail",
      probes: [line("Fail")],
    });
    expect(st.conditions?.find((c) => c.type === "Halted")).toMatchObject({
      status: "True",
      reason: "ProbeFailed",
      lastTransitionTime: abortAt.toISOString(),
    });
    expect(st).toMatchObject({ resilienceScore: 0, resilienceRuns: 1 });
  });

  it("haltSchedule: false aborts the run but does not halt", () => {
    const st = probeStatus({
      spec: { abort: { haltSchedule: false } },
      status: derived(run("r1")),
      views: views([
        [
          "r1",
          { lines: [line("Fail")], abort: { schedule: "default/web", probe: "web-up", message: "x", at: abortAt } },
        ],
      ]),
      now,
    });
    expect(st.history?.[0]?.result).toBe("Aborted");
    expect(st.conditions?.some((c) => c.type === "Halted")).toBe(false);
  });

  it("the halt carries over passes and is lifted by a later resume", () => {
    const halted = probeStatus({
      spec: {},
      status: derived(run("r1")),
      views: views([
        [
          "r1",
          { lines: [line("Fail")], abort: { schedule: "default/web", probe: "web-up", message: "x", at: abortAt } },
        ],
      ]),
      now,
    });
    // Next pass: the monitor forgot the run; the derived status has only Ready.
    const carried = probeStatus({
      spec: {},
      status: derived(halted.history![0]!),
      prev: halted,
      views: new Map(),
      now,
    });
    expect(carried.conditions?.find((c) => c.type === "Halted")?.status).toBe("True");
    const resumed = probeStatus({
      spec: { abort: { resumedAt: "2026-12-06T12:00:08.000Z" } },
      status: derived(halted.history![0]!),
      prev: carried,
      views: new Map(),
      now,
    });
    expect(resumed.conditions?.find((c) => c.type === "Halted")).toMatchObject({
      status: "False",
      reason: "Resumed",
      lastTransitionTime: now.toISOString(),
    });
  });

  it("an abort already lifted by a resume does not halt again", () => {
    const st = probeStatus({
      spec: { abort: { resumedAt: "2026-12-06T12:00:06.000Z" } },
      status: derived(run("r1", { result: "Aborted" })),
      views: views([
        [
          "r1",
          { lines: [line("Fail")], abort: { schedule: "default/web", probe: "web-up", message: "x", at: abortAt } },
        ],
      ]),
      now,
    });
    expect(st.conditions?.find((c) => c.type === "Halted")?.status).not.toBe("True");
  });

  it("a failure decided after the run ended on its own does not rewrite it as Aborted", () => {
    const st = probeStatus({
      spec: {},
      status: derived(run("r1", { result: "Succeeded", endedAt: "2026-12-06T12:00:01.000Z" })),
      views: views([
        [
          "r1",
          { lines: [line("Fail")], abort: { schedule: "default/web", probe: "web-up", message: "x", at: abortAt } },
        ],
      ]),
      now,
    });
    expect(st.history?.[0]).toMatchObject({ result: "Succeeded", verdict: "Fail" });
  });

  it("verdict only once every probe has one; score over judged runs", () => {
    const st = probeStatus({
      spec: {},
      status: derived(
        run("r0", { result: "Succeeded", verdict: "Pass" }),
        run("r1", { result: "Succeeded" }),
        run("r2"),
      ),
      views: views([
        ["r1", { lines: [line("Pass"), { ...line(), name: "svc", mode: "EOT" }] }],
        ["r2", { lines: [line()] }],
      ]),
      now,
    });
    expect(st.history?.map((r) => r.verdict)).toEqual(["Pass", undefined, undefined]);
    expect(st).toMatchObject({ resilienceScore: 100, resilienceRuns: 1 });
  });

  it("StopCondition: True with the reason while failing, False once it holds", () => {
    const failing = probeStatus({ spec: {}, status: derived(), views: new Map(), stopCondition: "alerts firing", now });
    expect(failing.conditions?.find((c) => c.type === "StopCondition")).toMatchObject({
      status: "True",
      message: "alerts firing",
    });
    const later = new Date(now.getTime() + 5_000);
    const ok = probeStatus({ spec: {}, status: derived(), prev: failing, views: new Map(), now: later });
    expect(ok.conditions?.find((c) => c.type === "StopCondition")).toMatchObject({
      status: "False",
      lastTransitionTime: later.toISOString(),
    });
    const never = probeStatus({ spec: {}, status: derived(), views: new Map(), now });
    expect(never.conditions).toEqual([ready]);
  });
});
