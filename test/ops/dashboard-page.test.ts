// The dashboard page in a real headless Chromium, served by the real operations server from
// status fixtures: no console error, active injections shown live and gone when reverted, a
// timeline bar per run, keyboard use. (With a real pause on the real engine:
// test/ops/dashboard.docker.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../src/ops/health.js";
import { ControllerMetrics } from "../../src/ops/metrics/controller-metrics.js";
import { startOpsServer, type OpsServer } from "../../src/ops/server.js";
import { DashboardData } from "../../src/ops/dashboard/data.js";
import { silentLogger } from "../../src/util/log.js";
import type { StoredManifest } from "../../src/store/store.js";
import { openBrowser, type Browser } from "../helpers/browser.js";
import { NOW, run, stored } from "../insight/fixtures.js";

let server: OpsServer;
let browser: Browser;
let manifests: StoredManifest[] = [];
const data = new DashboardData({ manifests: async () => manifests, clock: () => NOW, maxAgeMs: 0 });

beforeAll(async () => {
  const health = new Health({ stuckAfterMs: 90_000, role: () => "leader", pingEngine: async () => {} });
  server = await startOpsServer({
    addr: "127.0.0.1:0",
    registry: new ControllerMetrics().registry,
    health,
    logger: silentLogger,
    dashboard: data,
  });
  browser = await openBrowser();
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const pausing = (active: boolean): StoredManifest =>
  stored(
    "db-pause",
    [run(0, { fault: "pause", services: ["db"], verdict: "Pass" }), run(1, { fault: "pause", services: ["db"] })],
    active
      ? {
          phase: "Active",
          active: [
            {
              run: "r1",
              fault: "pause",
              service: "db",
              task: "task-db-1",
              node: "node-1",
              since: NOW.toISOString(),
              until: new Date(NOW.getTime() + 60_000).toISOString(),
              source: { commit: "0123456789abcdef0123", path: "chaos/db.yaml" },
            },
          ],
        }
      : {},
    { pause: {} },
  );

describe("dashboard page (Chromium)", () => {
  it("renders schedules, services, timelines and the active pause; updates without a reload", async () => {
    manifests = [
      pausing(true),
      stored(
        "web-kill",
        [
          run(0, { verdict: "Pass" }),
          run(2, { verdict: "Fail", result: "Aborted", reason: "ProbeFailed" }),
          run(4, { recovery: "TimedOut", recoverySeconds: undefined, recoveredAt: undefined }),
        ],
        { resilienceScore: 33, conditions: [{ type: "Halted", status: "True" }] },
      ),
    ];
    const { page, errors } = browser;
    await page.goto(`${server.url}/?interval=200`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForSelector("figure.service-timeline");

    const active = page.locator("#active-body tr.active-row");
    expect(await active.count()).toBe(1);
    const cells = await active.first().locator("th, td").allTextContents();
    expect(cells.slice(0, 5)).toEqual(["default/db-pause", "pause", "db", "task-db-1", "node-1"]);
    expect(cells[7]).toContain("0123456789ab chaos/db.yaml");
    expect(await page.locator("#active-count").textContent()).toBe("1 injection active");

    // A bar per run in each service's timeline.
    expect(await page.locator('figure[data-service="db"] rect.run-bar').count()).toBe(2);
    expect(await page.locator('figure[data-service="web"] rect.run-bar').count()).toBe(3);
    expect(await page.locator('figure[data-service="web"] path.abort').count()).toBe(1);

    const row = page.locator('tr.schedule-row[data-key="default/web-kill"]');
    const rowText = (await row.locator("th, td").allTextContents()).map((t) => t.trim());
    expect(rowText.slice(0, 3)).toEqual(["default/web-kill", "kill", "Scheduled Halted"]);
    expect(rowText[5]).toBe("Fail");
    expect(rowText[6]).toBe("33");

    // The schedule's own timeline, opened with the keyboard.
    const button = row.locator("button.tl-toggle");
    await button.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("tr.tl-row:not([hidden]) svg.timeline");
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(await page.locator("tr.tl-row:not([hidden]) rect.run-bar").count()).toBe(3);
    await browser.screenshot("dashboard-fixture.png");

    // Reverted: the next poll drops it, with no reload.
    manifests = [pausing(false), manifests[1] as StoredManifest];
    await page.waitForSelector("#active-empty:not([hidden])");
    expect(await active.count()).toBe(0);
    expect(await page.locator("#active-count").textContent()).toBe("0 injections active");
    // The open timeline stays open across the re-render.
    expect(await page.locator("tr.tl-row:not([hidden]) rect.run-bar").count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it("the filter hides schedules by name", async () => {
    const { page } = browser;
    await page.fill("#filter", "web");
    expect(await page.locator("tr.schedule-row:not([hidden])").count()).toBe(1);
    await page.fill("#filter", "");
    expect(await page.locator("tr.schedule-row:not([hidden])").count()).toBe(2);
    expect(browser.errors).toEqual([]);
  });

  it("with many services, each service's timeline opens from its row", async () => {
    manifests = Array.from({ length: 13 }, (_, i) =>
      stored(`s${i}`, [run(0, { services: [`svc-${i}`] }), run(1, { services: [`svc-${i}`] })]),
    );
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.locator("#service-timelines").isHidden()).toBe(true);
    expect(await page.locator("tr.service-row").count()).toBe(13);
    const button = page.locator('tr.service-row[data-service="svc-7"] button.tl-toggle');
    await button.focus();
    await page.keyboard.press("Space");
    await page.waitForSelector("#services-body tr.tl-row:not([hidden]) svg.timeline");
    expect(await page.locator("#services-body tr.tl-row:not([hidden]) rect.run-bar").count()).toBe(2);
    await page.keyboard.press("Space");
    expect(await page.locator("#services-body tr.tl-row:not([hidden])").count()).toBe(0);
    expect(browser.errors).toEqual([]);
  });
});
