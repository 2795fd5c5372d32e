import { describe, expect, it } from "vitest";
import { overview, serviceStats, runView } from "../../src/insight/model.js";
import { percentile, trendOf } from "../../src/insight/stats.js";
import { MAX_LANES, timelineSvg, timelineWindow } from "../../src/insight/timeline.js";
import { NOW, run, stored } from "./fixtures.js";

describe("percentile (nearest rank)", () => {
  it.each([
    [[], 50, undefined],
    [[7], 95, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 95, 4],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
  ])("%j p%i = %s", (xs, p, want) => expect(percentile(xs, p)).toBe(want));
});

describe("trendOf", () => {
  it.each([
    [[], "unknown"],
    [[5], "unknown"],
    [[10, 10, 5, 5], "improving"],
    [[5, 5, 10, 10], "worsening"],
    [[5, 5.2, 5.1, 5], "steady"],
  ])("%j → %s", (xs, want) => expect(trendOf(xs)).toBe(want));
});

describe("overview", () => {
  const a = stored(
    "web-kill",
    [
      run(0, { recoverySeconds: 4, verdict: "Pass" }),
      run(1, { recoverySeconds: 8, verdict: "Fail", result: "Aborted", reason: "ProbeFailed" }),
      run(2, { recovery: "TimedOut", recoverySeconds: undefined, recoveredAt: undefined }),
      run(3, { result: "Running", endedAt: undefined, recovery: "Pending", recoverySeconds: undefined }),
    ],
    { resilienceScore: 50, conditions: [{ type: "Halted", status: "True" }] },
  );
  const b = stored("db-pause", [run(0, { services: ["db", "web"], recoverySeconds: 2, verdict: "Pass" })], {
    active: [{ run: "r9", fault: "pause", service: "db", task: "t1", node: "n1", since: "x", until: "y" }],
  });

  it("counts runs, verdicts, aborts, halts and active injections", () => {
    const { overview: o, runs } = overview({ manifests: [a, b], now: NOW });
    expect(runs).toHaveLength(5);
    expect(o.totals).toMatchObject({
      schedules: 2,
      runs: 5,
      verdicts: { Pass: 2, Fail: 1, none: 2 },
      aborts: 1,
      active: 1,
      halted: 1,
    });
    expect(o.totals.results).toEqual({ Succeeded: 3, Aborted: 1, Running: 1 });
    expect(o.active).toEqual([
      {
        schedule: "default/db-pause",
        run: "r9",
        fault: "pause",
        service: "db",
        task: "t1",
        node: "n1",
        since: "x",
        until: "y",
      },
    ]);
  });

  it("takes score and verdicts from status as stored", () => {
    const { overview: o } = overview({ manifests: [a, b], now: NOW });
    const web = o.schedules.find((s) => s.key === "default/web-kill");
    expect(web).toMatchObject({ score: 50, halted: true, lastVerdict: "Fail", lastResult: "Running", runs: 4 });
    expect(web?.recoveryTrend).toEqual([4, 8]);
    expect(web?.trend).toBe("worsening");
    expect(o.schedules.find((s) => s.key === "default/db-pause")?.score).toBeUndefined();
  });

  it("recovery statistics per service", () => {
    const { overview: o } = overview({ manifests: [a, b], now: NOW });
    expect(o.services).toEqual([
      { service: "db", runs: 1, recovered: 1, timedOut: 0, p50: 2, p95: 2, max: 2 },
      { service: "web", runs: 5, recovered: 3, timedOut: 1, p50: 4, p95: 8, max: 8 },
    ]);
  });

  it("--since keeps only runs in the window", () => {
    const since = NOW.getTime() - 3_600_000 + 90_000; // after r0 and r1 started
    const { overview: o, runs } = overview({ manifests: [a, b], now: NOW, since });
    expect(runs.map((r) => `${r.schedule}:${r.run}`)).toEqual(["default/web-kill:r2", "default/web-kill:r3"]);
    expect(o.since).toBe(new Date(since).toISOString());
    expect(o.services).toEqual([{ service: "web", runs: 2, recovered: 0, timedOut: 1 }]);
  });

  it("a service with no healed run has no percentiles", () => {
    expect(serviceStats([runView("k", run(0, { recovery: "Pending", recoverySeconds: undefined }))])).toEqual([
      { service: "web", runs: 1, recovered: 0, timedOut: 0 },
    ]);
  });
});

describe("timelineSvg", () => {
  const runs = [
    runView("default/a", run(0, { verdict: "Pass" })),
    runView("default/a", run(1, { result: "Aborted", verdict: "Fail" })),
    runView("default/a", run(2, { result: "Skipped", startedAt: undefined, endedAt: undefined, recovery: undefined })),
  ];
  const win = timelineWindow(runs, NOW.getTime());

  it("draws a bar per run, a heal bar per healed run and marks aborts", () => {
    const svg = timelineSvg(runs, { ...win, now: NOW.getTime(), label: "schedule a" });
    expect(svg.match(/class="run-bar"/g)).toHaveLength(3);
    expect(svg.match(/class="heal-bar"/g)).toHaveLength(2);
    expect(svg.match(/class="abort"/g)).toHaveLength(1);
    expect(svg).toContain('data-verdict="Pass"');
    expect(svg).toContain('aria-label="schedule a: 3 runs');
  });

  it("escapes names", () => {
    const evil = runView('default/<script>"x', run(0));
    const svg = timelineSvg([evil], { ...win, now: NOW.getTime(), label: "<b>" });
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("<b>");
    expect(svg).toContain("&lt;script&gt;&quot;x");
  });

  it("a lane per schedule when several share a timeline, one lane beyond MAX_LANES", () => {
    const two = [runView("default/a", run(0)), runView("default/b", run(1)), runView("default/a", run(2))];
    const svg = timelineSvg(two, { ...win, now: NOW.getTime(), label: "service web" });
    expect(svg.match(/class="lane"/g)).toHaveLength(2);
    const ys = [
      ...svg.matchAll(/data-schedule="([^"]+)"[^>]*><title>[^<]*<\/title><rect class="run-bar" x="[\d.]+" y="(\d+)"/g),
    ].map((m) => [m[1], m[2]]);
    expect(ys).toEqual([
      ["default/a", "10"],
      ["default/b", "40"],
      ["default/a", "10"],
    ]);
    const many = Array.from({ length: MAX_LANES + 1 }, (_, i) => runView(`default/s${i}`, run(i)));
    const flat = timelineSvg(many, { ...win, now: NOW.getTime(), label: "all" });
    expect(flat).not.toContain('class="lane"');
    expect(flat.match(/class="run-bar"/g)).toHaveLength(MAX_LANES + 1);
  });
});
