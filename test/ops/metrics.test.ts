// Metrics (pure): the exposition parses, names follow the conventions, and each metric moves
// for the events it counts, once per event.
import { describe, expect, it } from "vitest";
import { Counter, Gauge, Histogram, Registry, escapeLabelValue } from "../../src/ops/metrics/registry.js";
import { ControllerMetrics } from "../../src/ops/metrics/controller-metrics.js";
import { runChanges } from "../../src/ops/metrics/runs.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import type { InjectionHandle } from "../../src/faults/driver.js";
import type { PassResult } from "../../src/controller/controller.js";
import { parseExposition } from "./prom.js";

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe("registry and text format", () => {
  it("renders counters, gauges and cumulative histograms that a strict reader accepts", () => {
    const r = new Registry();
    const c = r.register(new Counter("x_total", "a counter", ["k"]));
    const g = r.register(new Gauge("x_gauge", "a gauge\nwith newline", []));
    const h = r.register(new Histogram("x_seconds", "a histogram", ["k"], [1, 0.1, 10]));
    c.inc({ k: 'we"ird\\va\nlue' });
    c.inc({ k: "b" }, 2);
    g.set({}, -1.5);
    for (const v of [0.05, 0.5, 5, 50]) h.observe({ k: "a" }, v);
    const e = parseExposition(r.expose());
    expect(e.types.get("x_total")).toBe("counter");
    expect(e.get("x_total", { k: 'we"ird\\va\nlue' })).toBe(1);
    expect(e.get("x_total", { k: "b" })).toBe(2);
    expect(e.get("x_gauge")).toBe(-1.5);
    expect(e.get("x_seconds_bucket", { k: "a", le: "0.1" })).toBe(1);
    expect(e.get("x_seconds_bucket", { k: "a", le: "1" })).toBe(2);
    expect(e.get("x_seconds_bucket", { k: "a", le: "10" })).toBe(3);
    expect(e.get("x_seconds_bucket", { k: "a", le: "+Inf" })).toBe(4);
    expect(e.get("x_seconds_sum", { k: "a" })).toBeCloseTo(55.55);
    expect(e.get("x_seconds_count", { k: "a" })).toBe(4);
  });

  it("refuses what the format forbids", () => {
    expect(() => new Counter("bad-name", "h", [])).toThrow();
    expect(() => new Histogram("h_seconds", "h", ["le"], [1])).toThrow();
    const c = new Counter("c_total", "h", ["a"]);
    expect(() => c.inc({ a: "x" }, -1)).toThrow();
    expect(() => c.inc({})).toThrow(/label a missing/);
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const r = new Registry();
    r.register(new Gauge("g", "h", []));
    expect(() => r.register(new Gauge("g", "h", []))).toThrow(/twice/);
  });

  it("setTotal mirrors a count kept elsewhere and never moves a counter down", () => {
    const c = new Counter("c_total", "h", ["op"]);
    c.setTotal({ op: "x" }, 5);
    c.setTotal({ op: "x" }, 3);
    expect(c.value({ op: "x" })).toBe(5);
  });
});

const run = (over: Record<string, unknown>) => ({ run: "r1", fault: "kill", services: ["web"], ...over });
const status = (history: object[]): ChaosScheduleStatus => ({ history });

describe("runChanges (pure)", () => {
  it.each([
    [
      "a new finished run",
      undefined,
      [run({ result: "Succeeded" })],
      [{ fault: "kill", result: "succeeded", reason: "" }],
    ],
    [
      "running -> failed",
      [run({ result: "Running" })],
      [run({ result: "Failed", reason: "TargetGone" })],
      [{ fault: "kill", result: "failed", reason: "TargetGone" }],
    ],
    [
      "a skipped run with its reason",
      [],
      [run({ result: "Skipped", reason: "MaxUnavailable" })],
      [{ fault: "kill", result: "skipped", reason: "MaxUnavailable" }],
    ],
    ["already final before: not counted again", [run({ result: "Succeeded" })], [run({ result: "Succeeded" })], []],
    ["still running: nothing", [], [run({ result: "Running" })], []],
  ])("%s", (_name, prev, next, ended) => {
    expect(runChanges(prev ? status(prev) : undefined, status(next)).ended).toEqual(ended);
  });

  it("a recovery counts once per service, when it turns Recovered", () => {
    const before = status([run({ result: "Succeeded", recovery: "Pending", services: ["a", "b"] })]);
    const after = status([
      run({ result: "Succeeded", recovery: "Recovered", recoverySeconds: 7.4, services: ["a", "b"] }),
    ]);
    expect(runChanges(before, after).recovered).toEqual([
      { service: "a", seconds: 7.4 },
      { service: "b", seconds: 7.4 },
    ]);
    expect(runChanges(after, after).recovered).toEqual([]);
  });
});

function handle(schedule: string, fault: string, guardState: string): InjectionHandle {
  return {
    fault,
    owner: { schedule, run: "r", instance: "i" },
    target: { containerId: "c" },
    guardId: "g",
    guardState,
  } as unknown as InjectionHandle;
}

describe("ControllerMetrics", () => {
  it("moves each metric for what a pass saw", () => {
    const m = new ControllerMetrics();
    const calls: Record<string, number> = { "containers.list": 3 };
    const errors: Record<string, number> = {};
    m.watchEngine({ calls, errors });
    const result = {
      plan: { actions: [], schedules: new Map() },
      writes: new Map(),
      injections: [
        handle("ns/a", "pause", "running"),
        handle("ns/a", "pause", "running"),
        handle("ns/b", "network", "exited"),
      ],
      manifests: { valid: 2, invalid: 1 },
      statuses: new Map([
        [
          "ns/a",
          {
            prev: status([run({ result: "Running" })]),
            next: status([run({ result: "Succeeded", recovery: "Recovered", recoverySeconds: 3 })]),
          },
        ],
      ]),
    } as unknown as PassResult;
    m.passEnded({ startedAt: at(0), endedAt: at(2), result });
    m.passEnded({ startedAt: at(3), endedAt: at(3), error: new Error("engine down") });
    calls["containers.list"] = 7;
    errors["containers.list"] = 1;
    const e = parseExposition(m.registry.expose());
    expect(e.get("chaosctl_active_injections", { fault: "pause", schedule: "ns/a" })).toBe(2);
    expect(e.get("chaosctl_active_injections", { fault: "network", schedule: "ns/b" })).toBeUndefined();
    expect(e.get("chaosctl_runs_total", { schedule: "ns/a", fault: "kill", result: "succeeded", reason: "" })).toBe(1);
    expect(e.get("chaosctl_recovery_seconds_count", { service: "web" })).toBe(1);
    expect(e.get("chaosctl_recovery_seconds_bucket", { service: "web", le: "5" })).toBe(1);
    expect(e.get("chaosctl_recovery_seconds_bucket", { service: "web", le: "2" })).toBe(0);
    expect(e.get("chaosctl_reconcile_pass_duration_seconds_count", { result: "ok" })).toBe(1);
    expect(e.get("chaosctl_reconcile_pass_duration_seconds_sum", { result: "ok" })).toBe(2);
    expect(e.get("chaosctl_reconcile_pass_duration_seconds_count", { result: "error" })).toBe(1);
    expect(e.get("chaosctl_manifests", { validity: "invalid" })).toBe(1);
    expect(e.get("chaosctl_docker_api_calls_total", { operation: "containers.list" })).toBe(7);
    expect(e.get("chaosctl_docker_api_errors_total", { operation: "containers.list" })).toBe(1);
    expect(e.get("chaosctl_agent_connected", { node: "local" })).toBe(0); // the last pass failed
    expect(e.get("chaosctl_last_reconcile_timestamp_seconds")).toBe(at(2).getTime() / 1000);
  });

  it("chaosctl_schedule_targets_found follows each schedule's TargetsFound condition", () => {
    const m = new ControllerMetrics();
    const withFound = (found: "True" | "False") => ({
      conditions: [{ type: "TargetsFound", status: found, reason: found === "True" ? "Matched" : "NoMatch" }],
    });
    const result = {
      plan: { actions: [], schedules: new Map() },
      writes: new Map(),
      statuses: new Map([
        ["ns/typo", { next: withFound("False") }],
        ["ns/ok", { next: withFound("True") }],
      ]),
    } as unknown as PassResult;
    m.passEnded({ startedAt: at(0), endedAt: at(1), result });
    const e = parseExposition(m.registry.expose());
    expect(e.get("chaosctl_schedule_targets_found", { schedule: "ns/typo" })).toBe(0);
    expect(e.get("chaosctl_schedule_targets_found", { schedule: "ns/ok" })).toBe(1);
  });

  it("names follow the conventions: chaosctl_ prefix, counters end in _total, durations in _seconds", () => {
    const m = new ControllerMetrics();
    m.setLeader("x", true);
    const e = parseExposition(m.registry.expose());
    for (const [name, type] of e.types) {
      expect(name).toMatch(/^chaosctl_[a-z_]+$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
      if (type === "histogram") expect(name).toMatch(/_seconds$/);
    }
    expect(e.get("chaosctl_leader", { instance: "x" })).toBe(1);
    m.setLeader("x", false);
    const e2 = parseExposition(m.registry.expose());
    expect(e2.get("chaosctl_leader", { instance: "x" })).toBe(0);
    expect(e2.get("chaosctl_leader_transitions_total", { instance: "x", to: "standby" })).toBe(1);
    expect(e2.get("chaosctl_leader_transitions_total", { instance: "x", to: "leader" })).toBe(1);
  });
});

describe("probe metrics", () => {
  it("verdicts count once when they appear; the score follows status; checks count by result", () => {
    const m = new ControllerMetrics();
    const facts = (prev: ChaosScheduleStatus | undefined, next: ChaosScheduleStatus) =>
      ({
        plan: { actions: [], schedules: new Map() },
        statuses: new Map([["default/web", { ...(prev ? { prev } : {}), next }]]),
      }) as unknown as PassResult;
    const before = status([run({ result: "Running" })]);
    const after = {
      ...status([run({ result: "Aborted", reason: "ProbeFailed", verdict: "Fail" })]),
      resilienceScore: 0,
      resilienceRuns: 1,
    };
    m.passEnded({ startedAt: at(0), endedAt: at(1), result: facts(before, after) });
    m.passEnded({ startedAt: at(1), endedAt: at(2), result: facts(after, after) });
    m.probeChecked({ schedule: "default/web", probe: "web-up", mode: "Continuous", ok: false });
    m.probeChecked({ schedule: "default/web", probe: "web-up", mode: "Continuous", ok: true });
    m.probeChecked({ schedule: "default/web", probe: "web-up", mode: "Continuous", ok: false });
    const e = parseExposition(m.registry.expose());
    expect(e.get("chaosctl_run_verdicts_total", { schedule: "default/web", verdict: "Fail" })).toBe(1);
    expect(e.get("chaosctl_resilience_score", { schedule: "default/web" })).toBe(0);
    expect(
      e.get("chaosctl_runs_total", {
        schedule: "default/web",
        fault: "kill",
        result: "aborted",
        reason: "ProbeFailed",
      }),
    ).toBe(1);
    const check = { schedule: "default/web", probe: "web-up", mode: "Continuous" };
    expect(e.get("chaosctl_probe_results_total", { ...check, result: "fail" })).toBe(2);
    expect(e.get("chaosctl_probe_results_total", { ...check, result: "pass" })).toBe(1);
  });
});
