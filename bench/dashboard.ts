// The dashboard's first render at scale, in a real Chromium (Debian's, driven by playwright-core):
// the operations server with 1,000 schedules and 10,000 history entries (100 services), the page
// loaded fresh N times; first render = navigation start → the page's "dashboard-rendered" mark
// (HTML, script, the overview and the service timelines fetched and drawn). Beside it, the same
// page at 10 schedules (100 entries) as the baseline, and `report -o html` at 1,000 schedules.
// Needs no Docker. Standalone: `npm run build && node dist/bench/dashboard.js`.
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChaosScheduleStatus, RunRecord } from "../src/api/types.js";
import type { StoredManifest } from "../src/store/store.js";
import { Health } from "../src/ops/health.js";
import { ControllerMetrics } from "../src/ops/metrics/controller-metrics.js";
import { startOpsServer } from "../src/ops/server.js";
import { DashboardData } from "../src/ops/dashboard/data.js";
import { overview } from "../src/insight/model.js";
import { reportHtml } from "../src/insight/report.js";
import { silentLogger } from "../src/util/log.js";
import type { Row } from "./report.js";
import { p50p95, percentile } from "./stats.js";

const CHROMIUM = process.env.CHAOSCTL_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** `schedules` schedules over `services` services, `runs` history entries each, the last hour. */
export function fleet(schedules: number, runs: number, services: number, now = Date.now()): StoredManifest[] {
  return Array.from({ length: schedules }, (_, i) => {
    const service = `svc-${i % services}`;
    const history: RunRecord[] = Array.from({ length: runs }, (_, j) => {
      const start = now - 3_600_000 + j * 300_000 + (i % 60) * 1_000;
      const rec = 2 + ((i * 7 + j * 3) % 20) / 2;
      return {
        run: `default/s${i}-g1-${j}`,
        generation: 1,
        fault: "pause",
        scheduledAt: new Date(start).toISOString(),
        startedAt: new Date(start).toISOString(),
        endedAt: new Date(start + 30_000).toISOString(),
        targets: 1,
        services: [service],
        tasks: [`task${i}x${j}`],
        result: j % 17 === 5 ? "Aborted" : "Succeeded",
        ...(j % 17 === 5 ? { reason: "ProbeFailed" } : {}),
        verdict: j % 17 === 5 ? "Fail" : "Pass",
        recovery: "Recovered",
        recoveredAt: new Date(start + 30_000 + rec * 1000).toISOString(),
        recoverySeconds: rec,
      };
    });
    const status: ChaosScheduleStatus = {
      phase: i % 50 === 0 ? "Active" : "Scheduled",
      nextScheduleTime: new Date(now + 60_000).toISOString(),
      history,
      resilienceScore: 90,
      resilienceRuns: runs,
      ...(i % 50 === 0
        ? {
            active: [
              {
                run: `default/s${i}-g1-x`,
                fault: "pause",
                service,
                task: `task${i}`,
                node: "node-1",
                since: new Date(now - 10_000).toISOString(),
                until: new Date(now + 20_000).toISOString(),
              },
            ],
          }
        : {}),
    };
    return {
      key: `default/s${i}`,
      source: { store: "dir", file: `s${i}.yaml`, index: 0, line: 1 },
      manifest: {
        apiVersion: "chaosctl.io/v1alpha1",
        kind: "ChaosSchedule",
        metadata: { name: `s${i}`, namespace: "default", generation: 1 },
        spec: { schedule: "@every 5m", duration: "30s", selector: { services: [service] }, fault: { pause: {} } },
      },
      status,
    };
  });
}

export interface DashboardBench {
  schedules: number;
  entries: number;
  /** First render per load (figures, active injections, services, schedules drawn), ms. */
  render: number[];
  /** The same load until the service timelines are drawn too, ms. */
  complete: number[];
  overviewBytes: number;
  /** The server building the overview (no cache), ms. */
  build: number[];
}

async function measure(manifests: StoredManifest[], loads: number): Promise<DashboardBench> {
  const data = new DashboardData({ manifests: async () => manifests });
  const server = await startOpsServer({
    addr: "127.0.0.1:0",
    registry: new ControllerMetrics().registry,
    health: new Health({ stuckAfterMs: 90_000, role: () => "leader", pingEngine: async () => {} }),
    logger: silentLogger,
    dashboard: data,
  });
  const profile = await mkdtemp(join(tmpdir(), "chaosctl-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const render: number[] = [];
    const complete: number[] = [];
    const build: number[] = [];
    for (let i = 0; i < loads + 1; i++) {
      data.passEnded(); // each load reads the store, as the first one after a pass does
      const page = await context.newPage();
      await page.goto(`${server.url}/?interval=600000`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
      const [r, c] = await page.evaluate(() => {
        const perf = (
          globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } }
        ).performance;
        const at = (n: string): number => perf.getEntriesByName(n)[0]?.startTime ?? NaN;
        return [at("dashboard-rendered"), at("dashboard-complete")];
      });
      await page.close();
      // The first load warms the browser process.
      if (i > 0) {
        render.push(r);
        complete.push(c);
      }
    }
    for (let i = 0; i < loads; i++) {
      data.passEnded();
      const t0 = performance.now();
      await data.view();
      build.push(performance.now() - t0);
    }
    const body = await (await fetch(`${server.url}/api/v1/overview`)).text();
    const entries = manifests.reduce((n, m) => n + (m.status?.history?.length ?? 0), 0);
    return { schedules: manifests.length, entries, render, complete, build, overviewBytes: Buffer.byteLength(body) };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
    await server.close();
  }
}

export async function benchDashboard(
  loads: number,
): Promise<{ rows: Row[]; small: DashboardBench; large: DashboardBench }> {
  const small = await measure(fleet(10, 10, 5), loads);
  const large = await measure(fleet(1000, 10, 100), loads);
  const big = fleet(1000, 10, 100);
  const reportMs: number[] = [];
  let reportBytes = 0;
  for (let i = 0; i < loads; i++) {
    const t0 = performance.now();
    const now = new Date();
    const html = reportHtml(overview({ manifests: big, now }), now);
    reportMs.push(performance.now() - t0);
    reportBytes = Buffer.byteLength(html);
  }
  const p50 = (xs: number[]): number => percentile(xs, 50);
  const ratio = p50(large.render) / p50(small.render);
  const rows: Row[] = [
    {
      measure:
        "dashboard first render in Chromium (navigation → figures, active injections, services, schedules drawn), 1,000 schedules / 10,000 history entries / 100 services, p50 / p95",
      chaosctl: `${p50p95(large.render)}; overview ${Math.round(large.overviewBytes / 1024)} KB, built by the server in ${p50p95(large.build)}`,
      baseline: `${p50p95(small.render)} at 10 schedules / 100 entries: ${ratio.toFixed(1)}x`,
      goal: "p50 < 300 ms",
      met: p50(large.render) < 300,
    },
    {
      measure: "dashboard complete (with the service timelines), same page, p50 / p95",
      chaosctl: p50p95(large.complete),
      baseline: `${p50p95(small.complete)} at 10 schedules / 100 entries: ${(p50(large.complete) / p50(small.complete)).toFixed(1)}x`,
      goal: "(no goal set)",
    },
    {
      measure: "report -o html, 1,000 schedules / 10,000 runs (build + render to a string), p50 / p95",
      chaosctl: `${p50p95(reportMs)}; ${(reportBytes / 1024 / 1024).toFixed(1)} MB`,
      baseline: "–",
      goal: "(no goal set)",
    },
  ];
  return { rows, small, large };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { table } = await import("./report.js");
  const { rows } = await benchDashboard(Number(process.env.BENCH_DASHBOARD_LOADS ?? 10));
  console.log(table(rows));
}
