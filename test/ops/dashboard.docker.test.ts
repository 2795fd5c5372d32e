// The dashboard and the webhooks of the compiled controller on the real Swarm: a real pause is
// shown in Chromium while it is injected and gone once it is reverted, the timeline gets its bar,
// and a loopback receiver gets run.started then run.ended for that run. Needs `npm run build`
// (with-docker builds it).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { containerState, manifest, workspace, type Workspace } from "../e2e/harness.js";
import { openBrowser, type Browser } from "../helpers/browser.js";
import type { ChaosEvent } from "../../src/ops/webhook/events.js";

const BIN = resolve("dist/src/cli/main.js");
/** The webhook URL's path: a secret, as a Slack URL's token is. */
const SECRET = `hook-${randomBytes(8).toString("hex")}`;
let svc: TestService;
let w: Workspace;
let child: ChildProcess;
let browser: Browser;
let hook: Server;
const events: ChaosEvent[] = [];
let base = "";
let stderr = "";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  svc = await createTestService({ replicas: 2, namePrefix: "chaosctl-dash" });
  await waitFor(async () => (await runningTasks(svc.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
  w = await workspace();
  hook = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      events.push(JSON.parse(body) as ChaosEvent);
      res.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const urlFile = join(w.dir, "..", `${w.instance}-hook-url`);
  await writeFile(urlFile, `http://127.0.0.1:${(hook.address() as { port: number }).port}/${SECRET}\n`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(
    process.execPath,
    [
      BIN,
      "controller",
      "--dir",
      w.dir,
      "--instance",
      w.instance,
      "--metrics-addr",
      `127.0.0.1:${port}`,
      "--webhook-url-file",
      urlFile,
      "--log-level",
      "info",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-100_000)));
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 15_000,
    what: "the controller's /healthz",
  });
  browser = await openBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await Promise.race([new Promise((r) => child.once("exit", r)), new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await new Promise((r) => hook?.close(r));
  await w?.cleanup();
  await svc?.remove();
}, 60_000);

describe("dashboard and webhooks on a real Swarm (Chromium)", () => {
  it("shows a real pause while it is injected and not after; a timeline bar for the run; webhook events in order", async () => {
    const { page, errors } = browser;
    await page.goto(`${base}/?interval=500`);
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.locator("#active-empty").isVisible()).toBe(true);

    await w.write(
      "pause.yaml",
      manifest("pause", `duration: 8s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );

    const row = page.locator("#active-body tr.active-row");
    await row.first().waitFor({ timeout: 30_000 });
    const cells = (await row.first().locator("th, td").allTextContents()).map((c) => c.trim());
    expect(cells.slice(0, 3)).toEqual(["default/pause", "pause", svc.name]);
    // The task the page names is the one Docker really holds paused.
    const paused = (
      await docker(["ps", "-q", "--filter", `label=com.docker.swarm.service.id=${svc.id}`, "--filter", "status=paused"])
    ).stdout
      .split("\n")
      .filter(Boolean);
    expect(paused).toHaveLength(1);
    const taskId = (
      await docker(["inspect", "-f", '{{index .Config.Labels "com.docker.swarm.task.id"}}', paused[0] as string])
    ).stdout.trim();
    expect(taskId.startsWith(cells[3] as string)).toBe(true);
    await browser.screenshot("dashboard-docker-paused.png");

    // Reverted at expiry: the page drops it without a reload.
    await page.locator("#active-empty:not([hidden])").waitFor({ timeout: 30_000 });
    expect(await containerState(paused[0] as string)).toBe("running");
    expect(await row.count()).toBe(0);

    // The run in the service's timeline and the schedule's.
    await page.waitForSelector(`figure[data-service="${svc.name}"] rect.run-bar`, { timeout: 15_000 });
    const history = await waitFor(
      async () => {
        const h = await w.history("pause.yaml");
        return h.some((r) => r.result === "Succeeded") ? h : undefined;
      },
      { timeoutMs: 15_000, what: "the run's record" },
    );
    expect(await page.locator(`figure[data-service="${svc.name}"] rect.run-bar`).count()).toBe(history.length);
    await page.locator('tr.schedule-row[data-key="default/pause"] button.tl-toggle').click();
    await page.waitForSelector("tr.tl-row:not([hidden]) svg.timeline");
    expect(await page.locator("tr.tl-row:not([hidden]) rect.run-bar").count()).toBe(history.length);
    await browser.screenshot("dashboard-docker-after.png");
    expect(errors).toEqual([]);

    // Webhooks: started, then ended, for this run, with its target.
    const run = history.find((r) => r.result === "Succeeded")?.run;
    await waitFor(async () => events.some((e) => e.type === "run.ended" && e.run === run) || undefined, {
      timeoutMs: 15_000,
      what: "the run.ended event",
    });
    const mine = events.filter((e) => e.run === run);
    expect(mine.map((e) => e.type)).toEqual(["run.started", "run.ended"]);
    expect(mine[0]).toMatchObject({ schedule: "default/pause", fault: "pause", services: [svc.name] });
    expect(mine[0]?.targets?.[0]).toContain(taskId.slice(0, 12));
    expect(mine[1]).toMatchObject({ result: "Succeeded" });
    expect(stderr).not.toContain(SECRET); // the URL is never logged
  }, 120_000);
});
