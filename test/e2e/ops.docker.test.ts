// Operations on the real Swarm: /metrics moves during runs, /readyz follows the engine
// (through a unix-socket proxy this test cuts, never the shared dockerd), two controllers on one
// store kill exactly once per run, a SIGKILLed leader is replaced within the lease bound, and the
// image's HEALTHCHECK turns unhealthy when the controller hangs. Needs `npm run build` (and the
// image rebuilt with `bash scripts/images.sh app` for the HEALTHCHECK test).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, rm, writeFile } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { recordEvents } from "../helpers/events.js";
import { containerState, manifest, workspace, type Workspace } from "./harness.js";
import { parseExposition, type Exposition } from "../ops/prom.js";

const BIN = resolve("dist/src/cli/main.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
});

async function service(replicas: number): Promise<TestService> {
  const svc = await createTestService({ replicas, namePrefix: "chaosctl-ops" });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks`,
  });
  return svc;
}

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Proc {
  child: ChildProcess;
  port: number;
  log: () => string;
  metrics(): Promise<Exposition>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** The compiled controller on this workspace, with its operations port on loopback. */
async function controller(
  w: Workspace,
  opts: { env?: Record<string, string>; args?: string[]; ownPidNamespace?: boolean; swarmScope?: string } = {},
): Promise<Proc> {
  const port = await freePort();
  const store = opts.swarmScope ? ["--store", "swarm"] : ["--dir", w.dir];
  const env = opts.swarmScope ? { ...opts.env, CHAOSCTL_SWARM_SCOPE: opts.swarmScope } : opts.env;
  const argv = [
    BIN,
    "controller",
    ...store,
    "--instance",
    w.instance,
    "--metrics-addr",
    `127.0.0.1:${port}`,
    "--log-level",
    "info",
    ...(opts.args ?? []),
  ];
  // In its own pid namespace a controller's lease holder is not "a process of this host", so a
  // standby must wait out the lease as on separate Swarm nodes (no same-host shortcut).
  const [cmd, args] = opts.ownPidNamespace
    ? ["unshare", ["--pid", "--fork", "--kill-child", process.execPath, ...argv]]
    : [process.execPath, argv];
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-200_000)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([new Promise((r) => child.once("exit", r)), sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
  const base = `http://127.0.0.1:${port}`;
  const p: Proc = {
    child,
    port,
    log: () => stderr,
    metrics: async () => parseExposition(await (await fetch(`${base}/metrics`)).text()),
    get: async (path) => {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
  };
  await waitFor(async () => (await p.get("/healthz")).status === 200, {
    timeoutMs: 15_000,
    what: `controller on :${port} to answer /healthz`,
  });
  return p;
}

/** The first JSON log line that `match` accepts. */
function logLine(log: string, match: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  for (const text of log.split("\n")) {
    if (!text.startsWith("{")) continue;
    const l = JSON.parse(text) as Record<string, unknown>;
    if (l.event === "lease" && match(l)) return l;
  }
  return undefined;
}

const leader = async (p: Proc, instance: string): Promise<number | undefined> =>
  (await p.metrics()).get("chaosctl_leader", { instance });

describe("operations on a real Swarm", () => {
  it("/metrics moves during runs: runs by result, pass durations, recovery seconds, Docker calls, active injections", async () => {
    const svc = await service(3);
    const w = await ws();
    const c = await controller(w);
    // /healthz answers before the elector's first attempt has taken the lease (the gauge starts at
    // 0): under the lanes' load a read right after it saw 0 once.
    const before = await waitFor(
      async () => {
        const m = await c.metrics();
        return m.get("chaosctl_leader", { instance: w.instance }) === 1 ? m : undefined;
      },
      { timeoutMs: 10_000, what: "the controller holding its lease (chaosctl_leader 1)" },
    );
    await waitFor(async () => (await c.metrics()).get("chaosctl_agent_connected", { node: "local" }) === 1, {
      timeoutMs: 10_000,
      what: "a first pass through the local engine",
    });
    await w.write(
      "kill.yaml",
      manifest(
        "ops-kill",
        `schedule: "@every 3s"\nselector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}\nsafety: {maxUnavailable: 1}`,
      ),
    );
    await w.write(
      "pause.yaml",
      manifest(
        "ops-pause",
        `duration: 8s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}\nsafety: {maxUnavailable: 2}`,
      ),
    );
    await w.write("bad.yaml", manifest("ops-bad", `selector: {services: [x]}\nfault: {kill: {signal: 42}}`));
    const during = await waitFor(
      async () => {
        const m = await c.metrics();
        return (m.get("chaosctl_active_injections", { fault: "pause", schedule: "default/ops-pause" }) ?? 0) >= 1
          ? m
          : undefined;
      },
      { timeoutMs: 20_000, what: "an active pause in the gauge" },
    );
    expect(during.get("chaosctl_manifests", { validity: "valid" })).toBe(2);
    expect(during.get("chaosctl_manifests", { validity: "invalid" })).toBe(1);
    const after = await waitFor(
      async () => {
        const m = await c.metrics();
        const kills = m.sum("chaosctl_runs_total", { schedule: "default/ops-kill", result: "succeeded" });
        return kills >= 2 &&
          m.sum("chaosctl_recovery_seconds_count", { service: svc.name }) >= 2 &&
          m.sum("chaosctl_runs_total", { schedule: "default/ops-pause", result: "succeeded" }) === 1
          ? m
          : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 500, what: "two recovered kill runs and the pause run in the counters" },
    );
    const passes = (m: Exposition) => m.get("chaosctl_reconcile_pass_duration_seconds_count", { result: "ok" }) ?? 0;
    expect(passes(after)).toBeGreaterThan(passes(before));
    expect(after.get("chaosctl_reconcile_pass_duration_seconds_sum", { result: "ok" })).toBeGreaterThan(0);
    expect(after.get("chaosctl_docker_api_calls_total", { operation: "containers.kill" })).toBeGreaterThanOrEqual(2);
    expect(after.get("chaosctl_docker_api_calls_total", { operation: "tasks.list" })).toBeGreaterThan(
      before.get("chaosctl_docker_api_calls_total", { operation: "tasks.list" }) ?? 0,
    );
    const recovery = after.get("chaosctl_recovery_seconds_sum", { service: svc.name }) ?? 0;
    expect(recovery).toBeGreaterThan(0);
    // The gauge follows the pause back to zero once reverted.
    expect(after.get("chaosctl_active_injections", { fault: "pause", schedule: "default/ops-pause" })).toBeUndefined();
    // Counters agree with what status recorded.
    const hist = await w.history("kill.yaml");
    expect(after.sum("chaosctl_runs_total", { schedule: "default/ops-kill", result: "succeeded" })).toBeLessThanOrEqual(
      hist.filter((r) => r.result === "Succeeded").length,
    );
    const skipped = after.samples.filter((s) => s.name === "chaosctl_runs_total" && s.labels.result === "skipped");
    for (const s of skipped) expect(s.labels.reason).not.toBe("");
  });

  it("/readyz fails while the engine is unreachable and recovers; /healthz stays up", async () => {
    const w = await ws();
    const proxy = await socketProxy(
      "/var/run/docker.sock",
      join(tmpdir(), `chaosctl-ops-${randomBytes(4).toString("hex")}.sock`),
    );
    cleanups.push(() => proxy.close());
    const c = await controller(w, { env: { DOCKER_HOST: `unix://${proxy.path}` } });
    await waitFor(async () => (await c.get("/readyz")).status === 200, { timeoutMs: 15_000, what: "ready" });
    expect((await c.get("/readyz")).body).toMatchObject({
      status: "ready",
      role: "leader",
      engine: "ok",
      store: "loaded",
    });
    const errorsBefore = (await c.metrics()).sum("chaosctl_docker_api_errors_total");
    await proxy.cut();
    const cut = Date.now();
    const down = await waitFor(
      async () => {
        const r = await c.get("/readyz");
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 10_000, what: "/readyz to fail" },
    );
    expect(Date.now() - cut).toBeLessThan(5_000);
    expect(String(down.body.engine)).toMatch(/unreachable/);
    expect((await c.get("/healthz")).status).toBe(200); // alive, just not ready: Swarm must not kill it for this
    await waitFor(async () => (await c.metrics()).sum("chaosctl_docker_api_errors_total") > errorsBefore, {
      timeoutMs: 20_000,
      what: "engine errors counted",
    });
    await proxy.open();
    const back = Date.now();
    await waitFor(async () => (await c.get("/readyz")).status === 200, {
      timeoutMs: 10_000,
      what: "/readyz to recover",
    });
    expect(Date.now() - back).toBeLessThan(5_000);
  });

  it("two controllers on one store: one leads, exactly one kill per run over 10+ runs, the standby makes no kill", async () => {
    const svc = await service(3);
    const w = await ws();
    const stopFile = join(w.dir, ".stop");
    const a = await controller(w, { args: ["--kill-switch-file", stopFile] });
    const b = await controller(w, { args: ["--kill-switch-file", stopFile] });
    await waitFor(async () => (await leader(a, w.instance)) === 1 && (await leader(b, w.instance)) === 0, {
      timeoutMs: 15_000,
      what: "a leads, b stands by",
    });
    expect((await b.get("/readyz")).body).toMatchObject({ role: "standby", store: "loaded" });
    // The standby's log names the leader as the holder (it named itself), and the lease file
    // is kept out of the manifest folder.
    const leading = logLine(a.log(), (l) => l.role === "leader");
    await waitFor(async () => logLine(b.log(), (l) => l.role === "standby") !== undefined, {
      timeoutMs: 5_000,
      what: "b's standby log line",
    });
    const standing = logLine(b.log(), (l) => l.role === "standby");
    expect(standing?.holder).toBe(leading?.self);
    expect(standing?.self).not.toBe(leading?.self);
    expect((await readdir(w.dir)).filter((f) => f.includes("lease"))).toEqual([]);
    // What the engine really sees: SIGKILLs sent to this service's containers, from now on.
    const kills = recordEvents([
      "--filter",
      "type=container",
      "--filter",
      "event=kill",
      "--filter",
      `label=com.docker.swarm.service.id=${svc.id}`,
      "--format",
      "{{.Actor.Attributes.signal}}",
    ]);
    cleanups.push(async () => void (await kills.stop().catch(() => undefined)));
    await w.write(
      "kill.yaml",
      manifest(
        "ops-two",
        `schedule: "@every 2s"\nhistoryLimit: 60\nselector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}\nsafety: {maxUnavailable: 1}`,
      ),
    );
    await waitFor(async () => (await w.history("kill.yaml")).filter((r) => r.result === "Succeeded").length >= 10, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
      what: "10 kill runs",
    });
    // Halt with the kill switch, wait until the leader's kill count is stable, then count.
    await writeFile(stopFile, "");
    const calls = async () =>
      (await a.metrics()).get("chaosctl_docker_api_calls_total", { operation: "containers.kill" });
    let last = -1;
    await waitFor(
      async () => {
        const n = (await calls()) ?? 0;
        const stable = n === last;
        last = n;
        return stable;
      },
      { timeoutMs: 30_000, intervalMs: 3_000, what: "no more kills" },
    );
    const [ma, mb] = [await a.metrics(), await b.metrics()];
    for (const p of [b, a]) {
      p.child.kill("SIGTERM");
      await new Promise((r) => p.child.once("exit", r));
    }
    const runs = (await w.history("kill.yaml")).filter((r) => r.result === "Succeeded");
    expect(runs.length).toBeGreaterThanOrEqual(10);
    for (const r of runs) expect(r.tasks).toHaveLength(1);
    expect(new Set(runs.map((r) => r.run)).size).toBe(runs.length);
    expect(new Set(runs.map((r) => r.tasks?.[0])).size).toBe(runs.length);
    // Every kill happened before the count was stable (seconds ago): the stream has them all.
    const events = await kills.stop();
    const sigkills = events.filter((s) => s === "9").length;
    expect(sigkills).toBe(runs.length);
    const killCalls =
      (ma.get("chaosctl_docker_api_calls_total", { operation: "containers.kill" }) ?? 0) -
      (ma.get("chaosctl_docker_api_errors_total", { operation: "containers.kill" }) ?? 0);
    expect(killCalls).toBe(sigkills);
    expect(mb.get("chaosctl_docker_api_calls_total", { operation: "containers.kill" })).toBeUndefined();
    expect(mb.get("chaosctl_reconcile_pass_duration_seconds_count", { result: "ok" })).toBeUndefined();
    expect(mb.get("chaosctl_leader", { instance: w.instance })).toBe(0);
    // Over 20 s of standby: no abort listener piled up (it warned after about 10 s).
    expect(b.log()).not.toMatch(/MaxListenersExceededWarning/);
    console.log(
      `two controllers: ${runs.length} kill runs, ${sigkills} SIGKILLs seen by Docker, ${killCalls} kill calls by the leader, 0 by the standby`,
    );
  }, 180_000);

  it("two controllers on the Swarm config store: the lease is a Swarm config, one leads, a graceful stop hands over within one renew", async () => {
    const svc = await service(3);
    const w = await ws();
    const scope = `ops-${randomBytes(4).toString("hex")}`;
    const leaseName = `chaosctl-lease.${scope}.${w.instance}`;
    cleanups.push(async () => {
      // The scope's configs: its manifests and the lease (labelled with the scope too).
      const ids = (await docker(["config", "ls", "-q", "--filter", `label=chaosctl.io/store=${scope}`])).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length) await docker(["config", "rm", ...ids]);
    });
    const a = await controller(w, { swarmScope: scope });
    await waitFor(async () => (await leader(a, w.instance)) === 1, { timeoutMs: 15_000, what: "a leads" });
    const b = await controller(w, { swarmScope: scope });
    await waitFor(async () => (await leader(b, w.instance)) === 0 && (await b.get("/readyz")).body.store === "loaded", {
      timeoutMs: 15_000,
      what: "b stands by, store loaded",
    });
    const labels = async () =>
      JSON.parse(await dockerOk(["config", "inspect", "-f", "{{json .Spec.Labels}}", leaseName])) as Record<
        string,
        string
      >;
    const first = await labels();
    expect(first["chaosctl.io/lease-holder"]).toMatch(/\/\d+\/[0-9a-f]{6}$/);
    expect(first["chaosctl.io/lease-duration-ms"]).toBe("15000");
    expect(Date.now() - Date.parse(first["chaosctl.io/lease-renew-time"] ?? "")).toBeLessThan(10_000);
    await w.write(
      "kill.yaml",
      manifest(
        "ops-swarm",
        `schedule: "@every 2s"\nselector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}\nsafety: {maxUnavailable: 1}`,
      ),
    );
    const applied = await new Promise<number>((r) =>
      spawn(process.execPath, [BIN, "apply", "-f", join(w.dir, "kill.yaml"), "--store", "swarm"], {
        env: { ...process.env, CHAOSCTL_SWARM_SCOPE: scope },
        stdio: "ignore",
      }).on("exit", (c) => r(c ?? 1)),
    );
    expect(applied).toBe(0);
    await waitFor(
      async () =>
        (await a.metrics()).sum("chaosctl_runs_total", { schedule: "default/ops-swarm", result: "succeeded" }) >= 3,
      { timeoutMs: 60_000, intervalMs: 1_000, what: "3 kills by a" },
    );
    expect(
      (await b.metrics()).get("chaosctl_docker_api_calls_total", { operation: "containers.kill" }),
    ).toBeUndefined();
    // `get` reads the lease: a controller reconciles (its last pass is in the lease), no warning.
    const get = () =>
      new Promise<string>((r) => {
        let err = "";
        const p = spawn(process.execPath, [BIN, "get", "--store", "swarm", "--instance", w.instance], {
          env: { ...process.env, CHAOSCTL_SWARM_SCOPE: scope },
          stdio: ["ignore", "ignore", "pipe"],
        });
        p.stderr?.on("data", (b: Buffer) => (err += b.toString()));
        p.on("exit", () => r(err));
      });
    expect((await labels())["chaosctl.io/lease-last-pass"]).toBeDefined();
    expect(await get()).toBe("");
    // The leader renews the config in place: the same object, a newer renewTime.
    expect((await labels())["chaosctl.io/lease-holder"]).toBe(first["chaosctl.io/lease-holder"]);
    a.child.kill("SIGTERM");
    const stopped = Date.now();
    await waitFor(async () => (await leader(b, w.instance)) === 1, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: "b to lead",
    });
    const handoverMs = Date.now() - stopped;
    expect(handoverMs).toBeLessThan(6_500); // released: the next attempt (every 5 s) takes it
    const after = await labels();
    expect(after["chaosctl.io/lease-holder"]).not.toBe(first["chaosctl.io/lease-holder"]);
    expect(after["chaosctl.io/lease-transitions"]).toBe("1");
    await waitFor(
      async () =>
        (await b.metrics()).sum("chaosctl_runs_total", { schedule: "default/ops-swarm", result: "succeeded" }) >= 1,
      { timeoutMs: 30_000, intervalMs: 1_000, what: "b kills on schedule" },
    );
    // With no controller left, `get` says the status is no longer kept, not "Active" as current.
    b.child.kill("SIGTERM");
    await new Promise((r) => b.child.once("exit", r));
    expect(await get()).toMatch(
      /^warning: no controller is reconciling: the leader lease .* was released \(last pass \d+s ago\)/,
    );
    console.log(`swarm lease: graceful hand-over in ${handoverMs} ms`);
  }, 120_000);

  it("SIGKILL the leader mid-pause: the standby takes over within lease duration + renew, adopts the pause and it ends on time", async () => {
    const svc = await service(2);
    const w = await ws();
    // A short lease (production: 15 s, renewed every 5 s): the same rules, a shorter wait.
    const lease = { durationMs: 6_000, renewMs: 2_000 };
    const leaseArgs = ["--lease-duration", `${lease.durationMs / 1000}s`, "--lease-renew", `${lease.renewMs / 1000}s`];
    const a = await controller(w, { ownPidNamespace: true, args: leaseArgs });
    await waitFor(async () => (await leader(a, w.instance)) === 1, { timeoutMs: 15_000, what: "a leads" });
    const b = await controller(w, { ownPidNamespace: true, args: leaseArgs });
    await waitFor(async () => (await leader(b, w.instance)) === 0, { timeoutMs: 15_000, what: "b stands by" });
    await w.write(
      "pause.yaml",
      manifest("ops-failover", `duration: 18s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );
    const active = await waitFor(async () => (await w.status("pause.yaml"))?.active?.[0], {
      timeoutMs: 20_000,
      what: "an active pause",
    });
    const paused = active.container ?? "";
    expect(await containerState(paused)).toBe("paused");
    const until = Date.parse(active.until ?? "");
    a.child.kill("SIGKILL"); // unshare --kill-child takes the controller down with it
    const killedAt = Date.now();
    await waitFor(async () => (await leader(b, w.instance)) === 1, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "b to lead",
    });
    const takeoverMs = Date.now() - killedAt;
    // Bound: lease duration + one retry (a renew interval), 1 s of slack; no sooner than the
    // lease could lapse (its last renewal at most one renew interval before the kill).
    expect(takeoverMs).toBeLessThanOrEqual(lease.durationMs + lease.renewMs + 1_000);
    expect(takeoverMs).toBeGreaterThanOrEqual(lease.durationMs - lease.renewMs - 1_000);
    expect(Date.now()).toBeLessThan(until); // taken over while the pause is still active
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 45_000,
      intervalMs: 100,
      what: "unpause",
    });
    const lateMs = Date.now() - until;
    expect(lateMs).toBeGreaterThan(-500);
    expect(lateMs).toBeLessThan(3_000);
    // The new leader recorded the run it adopted.
    const run = await waitFor(async () => (await w.history("pause.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 15_000,
      what: "the run recorded by b",
    });
    expect(run.fault).toBe("pause");
    // The counter moves at the end of the pass whose status write the file already shows: wait
    // for it, then it counts that one run exactly once.
    const runsCounted = async (): Promise<number> =>
      (await b.metrics()).sum("chaosctl_runs_total", { schedule: "default/ops-failover", result: "succeeded" });
    await waitFor(async () => (await runsCounted()) >= 1, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: "b's runs_total to count the run",
    });
    expect(await runsCounted()).toBe(1);
    console.log(`failover: takeover ${takeoverMs} ms after SIGKILL, unpause ${lateMs} ms after until`);
  }, 120_000);

  it("the image's HEALTHCHECK turns unhealthy when the controller hangs (SIGSTOP) and healthy again (SIGCONT)", async () => {
    const w = await ws();
    const name = `chaosctl-ops-hc-${randomBytes(4).toString("hex")}`;
    // The image's own check command, on a faster schedule than its 10 s default.
    const id = await dockerOk([
      "run",
      "-d",
      "--name",
      name,
      "--label",
      `chaosctl.io/instance=${w.instance}`,
      "--health-interval",
      "1s",
      "--health-timeout",
      "2s",
      "--health-retries",
      "2",
      "--health-start-period",
      "1s",
      "-v",
      "/var/run/docker.sock:/var/run/docker.sock",
      "-v",
      `${w.dir}:/m`,
      APP_IMAGE,
      "controller",
      "--dir",
      "/m",
      "--instance",
      w.instance,
      "--log-level",
      "warn",
    ]);
    cleanups.push(async () => void (await docker(["rm", "-f", id])));
    const health = async () => (await dockerOk(["inspect", "-f", "{{.State.Health.Status}}", id])).trim();
    await waitFor(async () => (await health()) === "healthy", { timeoutMs: 30_000, what: "healthy" });
    await dockerOk(["kill", "--signal", "SIGSTOP", id]);
    const stopped = Date.now();
    await waitFor(async () => (await health()) === "unhealthy", {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: "unhealthy",
    }).catch(async (e: unknown) => {
      const pid = (await dockerOk(["inspect", "-f", "{{.State.Pid}}", id])).trim();
      const st = await import("node:fs/promises")
        .then((f) => f.readFile(`/proc/${pid}/status`, "utf8"))
        .catch(() => "");
      throw new Error(
        `${String(e)}\n${await dockerOk(["inspect", "-f", "{{json .State}}", id])}\n${st
          .split("\n")
          .filter((l) => /^(State|Name|PPid)/.test(l))
          .join(" ")}`,
      );
    });
    const unhealthyMs = Date.now() - stopped;
    await dockerOk(["kill", "--signal", "SIGCONT", id]);
    await waitFor(async () => (await health()) === "healthy", { timeoutMs: 30_000, what: "healthy again" });
    console.log(`healthcheck: unhealthy ${unhealthyMs} ms after SIGSTOP`);
    // A container of the same image without an operations port (a guard, a helper) passes the check.
    const other = await dockerOk([
      "run",
      "-d",
      "--label",
      `chaosctl.io/instance=${w.instance}`,
      "--health-interval",
      "1s",
      "--health-start-period",
      "1s",
      "--entrypoint",
      "/bin/sleep",
      APP_IMAGE,
      "60",
    ]);
    cleanups.push(async () => void (await docker(["rm", "-f", other])));
    await waitFor(
      async () => (await dockerOk(["inspect", "-f", "{{.State.Health.Status}}", other])).trim() === "healthy",
      { timeoutMs: 20_000, what: "a portless container healthy" },
    );
  }, 90_000);
});

/** A unix-socket proxy to the Docker socket that the test can cut (refuse + drop) and reopen. */
async function socketProxy(
  target: string,
  path: string,
): Promise<{ path: string; cut(): Promise<void>; open(): Promise<void>; close(): Promise<void> }> {
  const conns = new Set<Socket>();
  let server: Server | undefined;
  const open = async (): Promise<void> => {
    await rm(path, { force: true });
    server = createServer((c) => {
      const up = connect(target);
      conns.add(c);
      conns.add(up);
      const done = (): void => {
        c.destroy();
        up.destroy();
        conns.delete(c);
        conns.delete(up);
      };
      c.on("error", done).on("close", done);
      up.on("error", done).on("close", done);
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((r) => server!.listen(path, r));
  };
  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const c of conns) c.destroy();
    if (s) await new Promise((r) => s.close(r));
    await rm(path, { force: true });
  };
  await open();
  return { path, cut, open, close: cut };
}
