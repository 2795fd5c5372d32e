// chaosctl report from a directory store: -o json figures equal describe -o json's, -o md reads
// as a PR comment, -o html opens in a real Chromium with no console error and a bar per run.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { chaosctl } from "./harness.js";
import { openBrowser } from "../helpers/browser.js";
import { run, stored } from "../insight/fixtures.js";

let dir: string;
const now = Date.now();
const base = now - 2 * 3_600_000; // runs within the last 2 hours

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaosctl-report-"));
  const docs = [
    stored(
      "web-kill",
      [
        run(0, { verdict: "Pass", recoverySeconds: 3.1 }, base),
        run(1, { verdict: "Pass", recoverySeconds: 4.7 }, base),
        run(2, { verdict: "Fail", result: "Aborted", reason: "ProbeFailed", recoverySeconds: 9.5 }, base),
      ],
      { resilienceScore: 67, resilienceRuns: 3 },
    ),
    stored(
      "db-pause",
      [
        run(0, { fault: "pause", services: ["db"], recoverySeconds: 1.2 }, base - 3 * 86_400_000), // 3 days old
        run(1, { fault: "pause", services: ["db"], recoverySeconds: 2.4 }, base),
      ],
      {},
      { pause: {} },
    ),
  ];
  for (const m of docs) {
    const durative = "pause" in (m.manifest.spec.fault ?? {});
    const doc = {
      ...m.manifest,
      spec: { ...m.manifest.spec, ...(durative ? { duration: "30s" } : {}) },
      status: m.status,
    };
    await writeFile(join(dir, `${m.manifest.metadata.name}.yaml`), stringify(doc));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chaosctl report", () => {
  it("-o json: the figures describe -o json shows", async () => {
    const r = await chaosctl(["report", "--dir", dir, "-o", "json", "--since", "all"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.kind).toBe("ChaosReport");
    expect(rep.totals).toMatchObject({ schedules: 2, runs: 5, aborts: 1, verdicts: { Pass: 2, Fail: 1, none: 2 } });
    for (const name of ["web-kill", "db-pause"]) {
      const d = await chaosctl(["describe", name, "--dir", dir, "--no-cluster", "-o", "json"]);
      expect(d.code).toBe(0);
      const desc = JSON.parse(d.stdout);
      const key = `default/${name}`;
      expect(rep.schedules.find((s: { key: string }) => s.key === key)).toEqual(desc.summary);
      const runs = rep.runs.filter((x: { schedule: string }) => x.schedule === key);
      expect(runs.map((x: { run: string; recoverySeconds: number }) => [x.run, x.recoverySeconds])).toEqual(
        desc.schedule.status.history.map((h: { run: string; recoverySeconds: number }) => [h.run, h.recoverySeconds]),
      );
    }
    const web = rep.services.find((s: { service: string }) => s.service === "web");
    expect(web).toEqual({ service: "web", runs: 3, recovered: 3, timedOut: 0, p50: 4.7, p95: 9.5, max: 9.5 });
    expect(rep.schedules.find((s: { key: string }) => s.key === "default/web-kill")).toMatchObject({
      score: 67,
      scoreRuns: 3,
    });
  });

  it("--since leaves older runs out", async () => {
    const rep = JSON.parse((await chaosctl(["report", "--dir", dir, "-o", "json", "--since", "24h"])).stdout);
    expect(rep.totals.runs).toBe(4);
    expect(rep.services.find((s: { service: string }) => s.service === "db")).toMatchObject({ runs: 1, p50: 2.4 });
    expect((await chaosctl(["report", "--dir", dir, "--since", "soon"])).code).toBe(2);
  });

  it("-o md", async () => {
    const r = await chaosctl(["report", "--dir", dir, "-o", "md", "--since", "all"]);
    expect(r.stdout).toContain("## Chaos report");
    expect(r.stdout).toContain("| web | 3 | 3 | 0 | 4.7s | 9.5s | 9.5s |");
    expect(r.stdout).toMatch(/- default\/web-kill run r2: kill Aborted \(ProbeFailed\).* verdict Fail aborted/);
  });

  it("-o html opens in Chromium: no console error, nothing fetched, a bar per run", async () => {
    const file = join(dir, "report.html");
    const r = await chaosctl(["report", "--dir", dir, "-o", "html", "--since", "all", "--file", file]);
    expect(r.code).toBe(0);
    expect(await readFile(file, "utf8")).not.toMatch(/<script|(src|href)="(https?:)?\/\//);
    const b = await openBrowser();
    try {
      const requests: string[] = [];
      b.page.on("request", (q) => requests.push(q.url()));
      await b.page.goto(pathToFileURL(file).href);
      expect(await b.page.locator("h1").textContent()).toBe("Chaos report");
      // The overall timeline: one bar per run; each service's: one per run that faulted it.
      const timelines = b.page.locator("svg.timeline");
      expect(await timelines.first().locator("rect.run-bar").count()).toBe(5);
      expect(await timelines.nth(1).getAttribute("aria-label")).toMatch(/^service db: 2 runs/);
      expect(await timelines.nth(2).locator("rect.run-bar").count()).toBe(3);
      expect(await b.page.locator("svg.timeline path.abort").count()).toBe(2); // all runs + service web
      await b.screenshot("report.png");
      expect(b.errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await b.close();
    }
  });

  it("--workdir reads a git store's working copy (repo/<path> inside it)", async () => {
    const work = await mkdtemp(join(tmpdir(), "chaosctl-report-git-"));
    try {
      await mkdir(join(work, "repo", "chaos"), { recursive: true });
      await writeFile(join(work, "repo", "chaos", "web.yaml"), await readFile(join(dir, "web-kill.yaml"), "utf8"));
      const r = await chaosctl(["report", "--workdir", work, "--path", "chaos", "-o", "json", "--since", "all"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).totals).toMatchObject({ schedules: 1, runs: 3 });
      expect((await chaosctl(["report", "--workdir", work, "--dir", dir])).code).toBe(2);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
