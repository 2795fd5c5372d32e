// The dashboard's HTTP API on the operations port, against a real server on loopback (the page
// itself is tested in a real browser: test/ops/dashboard.browser.docker.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import { Health } from "../../src/ops/health.js";
import { ControllerMetrics } from "../../src/ops/metrics/controller-metrics.js";
import { startOpsServer, type OpsServer } from "../../src/ops/server.js";
import { DashboardData } from "../../src/ops/dashboard/data.js";
import { silentLogger } from "../../src/util/log.js";
import type { StoredManifest } from "../../src/store/store.js";
import { NOW, run, stored } from "../insight/fixtures.js";

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(manifests: () => Promise<readonly StoredManifest[]>, clock = () => NOW): Promise<OpsServer> {
  const health = new Health({ stuckAfterMs: 90_000, role: () => "leader", pingEngine: async () => {} });
  server = await startOpsServer({
    addr: "127.0.0.1:0",
    registry: new ControllerMetrics().registry,
    health,
    logger: silentLogger,
    dashboard: new DashboardData({ manifests, clock }),
  });
  return server;
}

const get = async (s: OpsServer, p: string) => {
  const r = await fetch(`${s.url}${p}`);
  return { status: r.status, headers: r.headers, text: await r.text() };
};

describe("dashboard API", () => {
  const web = stored("web-kill", [run(0, { verdict: "Pass" }), run(1, { verdict: "Fail" })], { resilienceScore: 50 });
  const db = stored("db-pause", [run(0, { services: ["db"] })], {
    active: [{ run: "r1", fault: "pause", service: "db", task: "t1", node: "n1", since: NOW.toISOString() }],
  });

  it("serves the page with a policy that allows nothing from elsewhere", async () => {
    const s = await serve(async () => [web, db]);
    const page = await get(s, "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page.text).toContain("<script>");
  });

  it("overview: totals, schedules and active injections from status", async () => {
    const s = await serve(async () => [web, db]);
    const o = JSON.parse((await get(s, "/api/v1/overview")).text);
    expect(o.totals).toMatchObject({ schedules: 2, runs: 3, active: 1, verdicts: { Pass: 1, Fail: 1, none: 1 } });
    expect(o.active[0]).toMatchObject({ schedule: "default/db-pause", fault: "pause", task: "t1", node: "n1" });
    expect(o.schedules.map((x: { key: string; score?: number }) => [x.key, x.score])).toEqual([
      ["default/db-pause", undefined],
      ["default/web-kill", 50],
    ]);
  });

  it("timelines per service and per schedule; a bar per run", async () => {
    const s = await serve(async () => [web, db]);
    const by = JSON.parse((await get(s, "/api/v1/timelines?by=service")).text);
    expect(by.items.map((i: { key: string; runs: number }) => [i.key, i.runs])).toEqual([
      ["db", 1],
      ["web", 2],
    ]);
    const one = JSON.parse((await get(s, "/api/v1/timelines?schedule=default%2Fweb-kill")).text);
    expect(one.items[0].svg.match(/class="run-bar"/g)).toHaveLength(2);
    expect((await get(s, "/api/v1/timelines?schedule=default%2Fnope")).status).toBe(404);
    expect((await get(s, "/api/v1/timelines")).status).toBe(400);
    expect((await get(s, "/nope")).status).toBe(404);
  });

  it("lists the store once for concurrent requests, again after a pass or a second", async () => {
    let lists = 0;
    let now = NOW.getTime();
    const data = new DashboardData({
      manifests: async () => {
        lists++;
        return [web];
      },
      clock: () => new Date(now),
    });
    await Promise.all([data.view(), data.view(), data.view()]);
    expect(lists).toBe(1);
    await data.view();
    expect(lists).toBe(1);
    data.passEnded();
    await data.view();
    expect(lists).toBe(2);
    now += 1_500;
    await data.view();
    expect(lists).toBe(3);
  });

  it("a store that cannot be read answers 503, and the next request tries again", async () => {
    let fail = true;
    const s = await serve(async () => {
      if (fail) throw new Error("EACCES");
      return [web];
    });
    expect((await get(s, "/api/v1/overview")).status).toBe(503);
    fail = false;
    expect((await get(s, "/api/v1/overview")).status).toBe(200);
  });
});
