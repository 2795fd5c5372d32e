// The verdict logic, table-tested: sequences of check results (with their times) in a phase,
// and the outcome they must give.
import { describe, expect, it } from "vitest";
import type { DefaultedProbe, RunRecord } from "../../src/api/types.js";
import {
  closePhase,
  lineOf,
  newTrack,
  record,
  resilience,
  runVerdict,
  stopsOnFailure,
  timeoutMs,
  verdictOf,
  type Phase,
} from "../../src/probes/evaluate.js";

const http = (mode: DefaultedProbe["mode"], more: Partial<DefaultedProbe> = {}): DefaultedProbe => ({
  name: "p",
  mode,
  interval: "1s",
  failureThreshold: 2,
  http: { url: "http://x/", method: "GET" },
  ...more,
});
const service = (mode: DefaultedProbe["mode"], within?: string): DefaultedProbe => ({
  name: "s",
  mode,
  interval: "1s",
  failureThreshold: 1,
  service: { name: "web", healthy: false, ...(within ? { within } : {}) },
});

/** Feeds [ok, atMs] checks into one phase that started at 0; returns the track. */
function feed(p: DefaultedProbe, phase: Phase, checks: Array<[boolean, number]>) {
  let t = newTrack(p);
  for (const [ok, at] of checks) t = record(t, p, phase, { ok, message: ok ? "fine" : `bad at ${at}` }, at, 0);
  return t;
}

describe("phases", () => {
  const cases: Array<[string, DefaultedProbe, Phase, Array<[boolean, number]>, "Pass" | "Fail" | undefined]> = [
    ["SOT passes on the first good check", http("SOT"), "SOT", [[true, 0]], "Pass"],
    ["SOT retries below the threshold", http("SOT"), "SOT", [[false, 0]], undefined],
    [
      "SOT: one failure then a pass",
      http("SOT"),
      "SOT",
      [
        [false, 0],
        [true, 1000],
      ],
      "Pass",
    ],
    [
      "SOT fails at the threshold",
      http("SOT"),
      "SOT",
      [
        [false, 0],
        [false, 1000],
      ],
      "Fail",
    ],
    [
      "Continuous: one failure is not enough",
      http("Continuous"),
      "During",
      [
        [true, 0],
        [false, 1000],
      ],
      undefined,
    ],
    [
      "Continuous: a pass resets the count",
      http("Continuous"),
      "During",
      [
        [false, 0],
        [true, 1000],
        [false, 2000],
      ],
      undefined,
    ],
    [
      "Continuous: two failures in a row fail",
      http("Continuous"),
      "During",
      [
        [true, 0],
        [false, 1000],
        [false, 2000],
      ],
      "Fail",
    ],
    [
      "EOT without within: fails at the threshold",
      http("EOT"),
      "EOT",
      [
        [false, 0],
        [false, 1000],
      ],
      "Fail",
    ],
    [
      "EOT service with within: retried until within",
      service("EOT", "10s"),
      "EOT",
      [
        [false, 0],
        [false, 5000],
      ],
      undefined,
    ],
    [
      "EOT service with within: passes when steady",
      service("EOT", "10s"),
      "EOT",
      [
        [false, 0],
        [true, 5000],
      ],
      "Pass",
    ],
    [
      "EOT service with within: fails once within passed",
      service("EOT", "10s"),
      "EOT",
      [
        [false, 0],
        [false, 10000],
      ],
      "Fail",
    ],
    [
      "OnChaos service with within: grace before counting",
      service("OnChaos", "3s"),
      "During",
      [
        [false, 0],
        [false, 2000],
      ],
      undefined,
    ],
    [
      "OnChaos service with within: fails after the grace",
      service("OnChaos", "3s"),
      "During",
      [
        [false, 0],
        [false, 3000],
      ],
      "Fail",
    ],
    [
      "OnChaos service: steady again resets the grace",
      service("OnChaos", "3s"),
      "During",
      [
        [false, 0],
        [true, 2000],
        [false, 4000],
      ],
      undefined,
    ],
  ];
  it.for(cases)("%s", ([, p, phase, checks, outcome]) => {
    expect(feed(p, phase, checks).outcomes[phase]).toBe(outcome);
  });

  it("counts every check and keeps the last error", () => {
    const t = feed(http("Continuous"), "During", [
      [false, 0],
      [true, 1000],
      [false, 2000],
    ]);
    expect(t.line).toEqual({ name: "p", mode: "Continuous", passed: 1, failed: 2, lastError: "bad at 2000" });
  });

  it("a decided phase records nothing more", () => {
    const t = feed(http("SOT"), "SOT", [
      [true, 0],
      [false, 1000],
      [false, 2000],
    ]);
    expect(t.outcomes.SOT).toBe("Pass");
    expect(t.line.failed).toBe(0);
  });
});

describe("verdicts", () => {
  it("Edge needs both SOT and EOT", () => {
    const p = http("Edge");
    let t = record(newTrack(p), p, "SOT", { ok: true, message: "" }, 0, 0);
    expect(verdictOf(t)).toBeUndefined();
    t = record(t, p, "EOT", { ok: true, message: "" }, 5, 5);
    expect(verdictOf(t)).toBe("Pass");
  });

  it("a During phase closed without failing passes; a failed one stays failed", () => {
    const ok = closePhase(feed(http("Continuous"), "During", [[false, 0]]), "During");
    expect(lineOf(ok).verdict).toBe("Pass");
    const bad = closePhase(
      feed(http("Continuous"), "During", [
        [false, 0],
        [false, 1],
      ]),
      "During",
    );
    expect(lineOf(bad).verdict).toBe("Fail");
  });

  it("a run: Fail as soon as one probe failed, Pass only when all passed", () => {
    const l = (verdict?: "Pass" | "Fail") => ({
      name: "x",
      mode: "EOT" as const,
      passed: 0,
      failed: 0,
      ...(verdict ? { verdict } : {}),
    });
    expect(runVerdict([l("Pass"), l()])).toBeUndefined();
    expect(runVerdict([l("Fail"), l()])).toBe("Fail");
    expect(runVerdict([l("Pass"), l("Pass")])).toBe("Pass");
    expect(runVerdict([])).toBeUndefined();
  });

  it("resilience score: the share of judged runs that passed", () => {
    const r = (verdict?: "Pass" | "Fail"): RunRecord => ({
      run: "r",
      result: "Succeeded",
      ...(verdict ? { verdict } : {}),
    });
    expect(resilience([r(), r()])).toBeUndefined();
    expect(resilience([r("Pass"), r("Fail"), r("Pass"), r()])).toEqual({ score: 67, runs: 3 });
    expect(resilience([r("Pass")])).toEqual({ score: 100, runs: 1 });
  });
});

describe("defaults", () => {
  it("stopOnFailure: on for Continuous and OnChaos unless set false, never for the others", () => {
    expect(stopsOnFailure(http("Continuous"))).toBe(true);
    expect(stopsOnFailure(http("OnChaos", { stopOnFailure: false }))).toBe(false);
    expect(stopsOnFailure(http("EOT"))).toBe(false);
  });
  it("timeout: http.timeout, else the probe's, else 5s", () => {
    expect(timeoutMs(http("EOT"))).toBe(5000);
    expect(timeoutMs(http("EOT", { timeout: "800ms" }))).toBe(800);
    expect(timeoutMs({ ...http("EOT"), http: { url: "http://x", method: "GET", timeout: "2s" } })).toBe(2000);
  });
});
