// Probes on the real one-node Swarm: a Continuous HTTP probe aborts a pause of every task (thawed
// long before the duration, run Aborted, schedule Halted, resume lets the next run start); an SOT
// probe against a down endpoint keeps a run from injecting anything; an EOT service probe judges
// a kill that Swarm heals (Pass) and one whose service is scaled to zero (Fail); a real Prometheus
// (Debian's package) answers prometheus probes while scraping chaosctl's own exposition; the
// controller's stop condition reverts everything while it fails and lets runs start again after.
import { spawn, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildController, type ControllerConfig } from "../../src/controller/build.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { ControllerMetrics } from "../../src/ops/metrics/controller-metrics.js";
import { parseStopCondition } from "../../src/probes/stop-condition.js";
import { createLogger } from "../../src/util/log.js";
import { chaosctl } from "../cli/harness.js";
import { manifest, workspace, containerState, type Workspace } from "../e2e/harness.js";
import {
  APP_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

beforeAll(async () => {
  await requireSwarm();
});

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

/** A web service; with `port`, its task publishes port 80 on the host (no routing mesh here). */
async function web(replicas: number, port?: number): Promise<TestService> {
  const svc = await createTestService({
    replicas,
    namePrefix: "chaosctl-probe",
    ...(port ? { flags: ["--publish", `mode=host,target=80,published=${port}`] } : {}),
  });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks`,
  });
  return svc;
}

/** The in-process controller, as the CLI builds it, with the options a test needs. */
function controller(w: Workspace, extra: Partial<ControllerConfig> = {}) {
  const logger = createLogger(process.env.CHAOSCTL_TEST_LOG ?? "silent");
  const store = new DirectoryStore({ dir: w.dir, logger });
  const c = buildController({ store, image: APP_IMAGE, logger, instance: w.instance, resyncMs: 2_000, ...extra });
  const ctl = new AbortController();
  const done = c.run(ctl.signal);
  const stop = async (): Promise<void> => {
    ctl.abort();
    await done;
    await store.close();
  };
  cleanups.push(stop);
  return c;
}

const freePort = (): number => randomInt(20_000, 29_000);

async function pausedOf(svc: TestService): Promise<string[]> {
  const out = await dockerOk([
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.swarm.service.id=${svc.id}`,
    "--filter",
    "status=paused",
  ]);
  return out.split("\n").filter(Boolean);
}

describe("probes on the real Swarm", { timeout: 150_000 }, () => {
  it("a Continuous HTTP probe aborts a pause of every task: thawed early, Aborted, Halted; resume starts the next run", async () => {
    const port = freePort();
    const svc = await web(1, port);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.status === 200, {
      timeoutMs: 15_000,
      what: "the published port to answer",
    });
    const w = await ws();
    await w.write(
      "s.yaml",
      manifest(
        "freeze",
        [
          `schedule: "@every 2s"`,
          "duration: 60s",
          `selector: {services: [${svc.name}], mode: all}`,
          "safety: {allowAll: true}",
          "fault: {pause: {}}",
          "probes:",
          `  - {name: web-up, mode: Continuous, http: {url: "http://127.0.0.1:${port}/"}, timeout: 500ms, interval: 1s, failureThreshold: 2}`,
        ].join("\n"),
      ),
    );
    controller(w);
    const paused = await waitFor(async () => (await pausedOf(svc))[0], { timeoutMs: 20_000, what: "a paused task" });
    const aborted = await waitFor(async () => (await w.history("s.yaml")).find((r) => r.result === "Aborted"), {
      timeoutMs: 20_000,
      what: "the run to end Aborted",
    });
    // Thawed before its 60 s duration was over: the abort ended it, not the expiry.
    expect(await containerState(paused)).toBe("running");
    expect(Date.parse(aborted.endedAt ?? "") - Date.parse(aborted.startedAt ?? "")).toBeLessThan(60_000);
    expect(aborted).toMatchObject({
      reason: "ProbeFailed",
      message: expect.stringMatching(/^probe web-up failed: GET http:\/\/127\.0\.0\.1:\d+\/: no answer within 500 ms/),
      verdict: "Fail",
    });
    const st = await waitFor(
      async () => {
        const s = await w.status("s.yaml");
        return s?.conditions?.some((c) => c.type === "Halted" && c.status === "True") &&
          s.history?.find((r) => r.run === aborted.run)?.probes?.[0]?.verdict
          ? s
          : undefined;
      },
      { timeoutMs: 15_000, what: "Halted and the probe's verdict" },
    );
    expect(st.history?.find((r) => r.run === aborted.run)?.probes?.[0]).toMatchObject({
      name: "web-up",
      mode: "Continuous",
      verdict: "Fail",
      failed: expect.any(Number),
    });
    expect(st.resilienceScore).toBe(0);
    // Halted: no further run although "@every 2s" is due again and again.
    await new Promise((r) => setTimeout(r, 5_000));
    const runs = (await w.history("s.yaml")).filter((r) => r.result !== "Skipped").map((r) => r.run);
    expect(runs).toEqual([aborted.run]);
    expect(await pausedOf(svc)).toEqual([]);

    const r = await chaosctl(["resume", "freeze", "--dir", w.dir]);
    expect(r.stdout).toBe("chaosschedule/freeze resumed (halt lifted)\n");
    const next = await waitFor(
      async () => (await w.history("s.yaml")).find((x) => x.run !== aborted.run && x.result !== "Skipped"),
      { timeoutMs: 20_000, what: "a run after resume" },
    );
    expect(next.run).not.toBe(aborted.run);
    // That run pauses every task again, and is aborted again.
    await waitFor(async () => (await w.history("s.yaml")).find((x) => x.run === next.run && x.result === "Aborted"), {
      timeoutMs: 20_000,
      what: "the second run to be aborted too",
    });
    await waitFor(async () => (await pausedOf(svc)).length === 0, { timeoutMs: 10_000, what: "nothing paused" });
  });

  it("SOT against an endpoint that is down: the run is Skipped (SteadyStateNotMet) and nothing is injected", async () => {
    // Two replicas: a run may fault one (never all) without safety.allowAll.
    const svc = await web(2);
    const before = (await runningTasks(svc.id)).map((t) => t.id).sort();
    const w = await ws();
    const closed = freePort();
    await w.write(
      "s.yaml",
      manifest(
        "sot",
        [
          `selector: {services: [${svc.name}]}`,
          "fault: {kill: {}}",
          "probes:",
          `  - {name: api-up, mode: SOT, http: {url: "http://127.0.0.1:${closed}/"}, interval: 200ms, failureThreshold: 2}`,
        ].join("\n"),
      ),
    );
    controller(w);
    const run = await waitFor(async () => (await w.history("s.yaml"))[0], { timeoutMs: 20_000, what: "a run record" });
    expect(run).toMatchObject({
      result: "Skipped",
      reason: "SteadyStateNotMet",
      message: expect.stringMatching(/SOT probe api-up failed: GET .*ECONNREFUSED.*nothing was injected/),
      verdict: "Fail",
      probes: [expect.objectContaining({ name: "api-up", mode: "SOT", verdict: "Fail", failed: 2, passed: 0 })],
    });
    expect((await runningTasks(svc.id)).map((t) => t.id).sort()).toEqual(before);
    const killed = await docker([
      "ps",
      "-aq",
      "--filter",
      `label=com.docker.swarm.service.id=${svc.id}`,
      "--filter",
      "status=exited",
    ]);
    expect(killed.stdout.trim()).toBe("");
  });

  it("a kill that Swarm heals: the EOT service probe passes; scaled to zero meanwhile: it fails", async () => {
    const healed = await web(2);
    const doomed = await web(2);
    const w = await ws();
    const spec = (svc: TestService, within: string) =>
      [
        `selector: {services: [${svc.name}]}`,
        "fault: {kill: {}}",
        "probes:",
        `  - {name: steady, mode: EOT, service: {name: ${svc.name}, within: ${within}}, interval: 500ms}`,
      ].join("\n");
    await w.write("healed.yaml", manifest("healed", spec(healed, "60s")));
    await w.write("doomed.yaml", manifest("doomed", spec(doomed, "3s")));
    controller(w);
    // The moment the doomed service's run is recorded, its service is scaled to zero (Swarm waits
    // 5 s before it restarts a killed task, so the run cannot have healed by then).
    await waitFor(async () => (await w.history("doomed.yaml")).length > 0, {
      timeoutMs: 20_000,
      what: "the doomed run",
      intervalMs: 50,
    });
    await dockerOk(["service", "scale", "--detach", `${doomed.id}=0`]);
    const pass = await waitFor(async () => (await w.history("healed.yaml")).find((r) => r.verdict), {
      timeoutMs: 45_000,
      what: "the healed run's verdict",
    });
    expect(pass).toMatchObject({
      result: "Succeeded",
      verdict: "Pass",
      probes: [expect.objectContaining({ name: "steady", mode: "EOT", verdict: "Pass" })],
    });
    const fail = await waitFor(async () => (await w.history("doomed.yaml")).find((r) => r.verdict), {
      timeoutMs: 30_000,
      what: "the doomed run's verdict",
    });
    expect(fail).toMatchObject({
      verdict: "Fail",
      probes: [
        expect.objectContaining({
          name: "steady",
          verdict: "Fail",
          lastError: expect.stringMatching(/scaled to 0|0 of/),
        }),
      ],
    });
    expect((await w.status("healed.yaml"))?.resilienceScore).toBe(100);
    expect((await w.status("doomed.yaml"))?.resilienceScore).toBe(0);
  });

  it("prometheus probes against a real Prometheus scraping chaosctl's own exposition", async () => {
    const metrics = new ControllerMetrics();
    // chaosctl's /metrics, as the ops server serves it, for Prometheus to scrape.
    const exporter: Server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.registry.expose()),
    );
    await new Promise<void>((r) => exporter.listen(0, "127.0.0.1", r));
    cleanups.push(async () => {
      exporter.closeAllConnections();
      await new Promise((r) => exporter.close(r));
    });
    const exporterPort = (exporter.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), "chaosctl-prom-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, "prometheus.yml"),
      `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: chaosctl\n    static_configs: [{targets: ["127.0.0.1:${exporterPort}"]}]\n`,
    );
    const promPort = freePort();
    const prom: ChildProcess = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: "ignore" },
    );
    cleanups.push(async () => {
      prom.kill("SIGTERM");
      await new Promise((r) => (prom.exitCode !== null ? r(undefined) : prom.once("exit", r)));
    });
    const promUrl = `http://127.0.0.1:${promPort}`;
    await waitFor(
      async () => {
        const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="chaosctl"}')}`).catch(
          () => undefined,
        );
        const j = (await r?.json().catch(() => undefined)) as
          { data?: { result?: Array<{ value: [number, string] }> } } | undefined;
        return j?.data?.result?.[0]?.value[1] === "1";
      },
      { timeoutMs: 30_000, what: "Prometheus to scrape chaosctl's exposition" },
    );
    // Three schedules plan a kill each in one pass; four replicas leave one untouched.
    const svc = await web(4);
    const w = await ws();
    const probe = (query: string, op: string, value: number) =>
      `  - {name: prom, mode: SOT, prometheus: {url: "${promUrl}", query: '${query}', op: "${op}", value: ${value}}, failureThreshold: 1}`;
    const spec = (query: string, op: string, value: number) =>
      [`selector: {services: [${svc.name}]}`, "fault: {kill: {}}", "probes:", probe(query, op, value)].join("\n");
    await w.write("ok.yaml", manifest("scraped", spec('up{job="chaosctl"}', "==", 1)));
    await w.write("bad.yaml", manifest("unwell", spec('up{job="chaosctl"}', "==", 0)));
    await w.write("empty.yaml", manifest("nothing", spec('up{job="absent"}', "==", 1)));
    controller(w, { observer: metrics, onProbeCheck: (c) => metrics.probeChecked(c) });
    const ok = await waitFor(async () => (await w.history("ok.yaml")).find((r) => r.result !== "Running"), {
      timeoutMs: 30_000,
      what: "the scraped run",
    });
    expect(ok).toMatchObject({ result: "Succeeded", verdict: "Pass" });
    const bad = await waitFor(async () => (await w.history("bad.yaml"))[0], {
      timeoutMs: 30_000,
      what: "the unwell run",
    });
    expect(bad).toMatchObject({
      result: "Skipped",
      reason: "SteadyStateNotMet",
      message: expect.stringMatching(/up\{.*job="chaosctl".*\} = 1 is not == 0/),
    });
    const empty = await waitFor(async () => (await w.history("empty.yaml"))[0], {
      timeoutMs: 30_000,
      what: "the empty-answer run",
    });
    expect(empty).toMatchObject({ result: "Skipped", message: expect.stringMatching(/no samples/) });
    // Prometheus also reads the probe counters chaosctl exported meanwhile.
    await waitFor(
      async () => {
        const q = encodeURIComponent('sum(chaosctl_probe_results_total{probe="prom"})');
        const j = (await (await fetch(`${promUrl}/api/v1/query?query=${q}`)).json()) as {
          data?: { result?: Array<{ value: [number, string] }> };
        };
        return Number(j.data?.result?.[0]?.value[1] ?? 0) >= 3;
      },
      { timeoutMs: 15_000, what: "chaosctl_probe_results_total in Prometheus" },
    );
  });

  it("the stop condition: failing mid-run reverts everything; holding again lets runs start", async () => {
    let healthy = true;
    const gate = createServer((_req, res) => res.writeHead(healthy ? 200 : 503).end(healthy ? "ok" : "alert"));
    await new Promise<void>((r) => gate.listen(0, "127.0.0.1", r));
    cleanups.push(async () => {
      gate.closeAllConnections();
      await new Promise((r) => gate.close(r));
    });
    const stop = parseStopCondition(
      `name: no-alerts\nhttp: {url: "http://127.0.0.1:${(gate.address() as AddressInfo).port}/"}\ninterval: 300ms\n`,
      "stop.yaml",
    );
    const svc = await web(2);
    const w = await ws();
    await w.write(
      "s.yaml",
      manifest(
        "hold",
        [`schedule: "@every 2s"`, "duration: 30s", `selector: {services: [${svc.name}]}`, "fault: {pause: {}}"].join(
          "\n",
        ),
      ),
    );
    const flips: Array<string | undefined> = [];
    controller(w, { stopCondition: stop, onStopCondition: (f) => flips.push(f) });
    const paused = await waitFor(async () => (await pausedOf(svc))[0], { timeoutMs: 20_000, what: "a paused task" });
    healthy = false;
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 10_000,
      what: "the pause reverted",
    });
    const st = await waitFor(
      async () => {
        const s = await w.status("s.yaml");
        return s?.conditions?.find((c) => c.type === "StopCondition" && c.status === "True") ? s : undefined;
      },
      { timeoutMs: 10_000, what: "StopCondition in status" },
    );
    expect(st.conditions?.find((c) => c.type === "StopCondition")?.message).toMatch(
      /stop condition no-alerts fails: GET .* status 503/,
    );
    // While it fails, nothing starts although "@every 2s" is due.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await pausedOf(svc)).toEqual([]);
    healthy = true;
    await waitFor(async () => (await pausedOf(svc)).length === 1, {
      timeoutMs: 20_000,
      what: "a run after the stop condition holds again",
    });
    expect(flips).toEqual([expect.stringMatching(/503/), undefined]);
    const after = await w.status("s.yaml");
    expect(after?.conditions?.find((c) => c.type === "StopCondition")?.status).toBe("False");
  });
});
