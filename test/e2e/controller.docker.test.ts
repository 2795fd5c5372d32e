// The practice as manifests, on the real one-node Swarm: the controller kills,
// pauses and reverts real tasks, Swarm heals, and status records it.
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  requireSwarm,
  runningTasks,
  serviceTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { containerState, manifest, runController, spawnController, workspace, type Workspace } from "./harness.js";
import { chaosctl } from "../cli/harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function service(replicas: number, healthCmd?: string, command?: string[]): Promise<TestService> {
  const svc = await createTestService({
    replicas,
    ...(healthCmd ? { healthCmd } : {}),
    ...(command ? { command } : {}),
    namePrefix: "chaosctl-e2e",
  });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks`,
  });
  if (healthCmd) {
    await waitFor(
      async () =>
        (
          await docker([
            "ps",
            "-q",
            "--filter",
            `label=com.docker.swarm.service.id=${svc.id}`,
            "--filter",
            "health=healthy",
          ])
        ).stdout
          .split("\n")
          .filter(Boolean).length === replicas,
      {
        timeoutMs: 30_000,
        what: "healthy tasks",
      },
    );
  }
  return svc;
}

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

function controller(w: Workspace, opts: { resyncMs?: number } = {}) {
  const c = runController(w, opts);
  cleanups.push(() => c.stop());
  return c;
}

async function pausedContainers(svc: TestService): Promise<string[]> {
  return (
    await docker([
      "ps",
      "-q",
      "--no-trunc",
      "--filter",
      `label=com.docker.swarm.service.id=${svc.id}`,
      "--filter",
      "status=paused",
    ])
  ).stdout
    .split("\n")
    .filter(Boolean);
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
});

describe("controller on a real Swarm", () => {
  it("kills one task of a 2-replica service; Swarm replaces it; status records the run and recoverySeconds", async () => {
    const svc = await service(2);
    const before = (await runningTasks(svc.id)).map((t) => t.id);
    const w = await ws();
    await w.write(
      "kill.yaml",
      manifest("kill", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}`),
    );
    const c = controller(w);
    const run = await waitFor(async () => (await w.history("kill.yaml")).find((r) => r.recovery === "Recovered"), {
      timeoutMs: 45_000,
      what: "a recovered kill run",
    });
    expect(run).toMatchObject({ fault: "kill", result: "Succeeded", targets: 1, services: [svc.name] });
    expect(run.recoverySeconds).toBeGreaterThan(0);
    expect(run.recoverySeconds).toBeLessThan(45);
    const killed = run.tasks?.[0] ?? "";
    expect(before).toContain(killed);
    const tasks = await serviceTasks(svc.id);
    expect(tasks.find((t) => t.id === killed)?.state).not.toBe("running");
    const running = await runningTasks(svc.id);
    expect(running).toHaveLength(2);
    expect(running.map((t) => t.id)).not.toContain(killed);
    expect((await w.status("kill.yaml"))?.phase).toBe("Completed");
    // @once: it never fires again for this generation, over passes that could have fired it.
    await c.afterPasses(3);
    expect((await w.history("kill.yaml")).filter((r) => r.result !== "Skipped")).toHaveLength(1);
  });

  it("with no resync, a kill's recoverySeconds is still written: the loop keeps looking while a recovery is pending", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "kill.yaml",
      manifest("kill", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}`),
    );
    // An hour between resyncs: only events and the controller's own timers wake it.
    controller(w, { resyncMs: 3_600_000 });
    const run = await waitFor(async () => (await w.history("kill.yaml")).find((r) => r.recovery === "Recovered"), {
      timeoutMs: 45_000,
      what: "a recovered kill run without a resync",
    });
    expect(run.recoverySeconds).toBeGreaterThan(0);
  });

  it("a selector naming a service that does not exist: TargetsFound=False with the cluster's name suggested; get warns", async () => {
    const svc = await service(1);
    const typo = `${svc.name.slice(0, -1)}${svc.name.endsWith("x") ? "y" : "x"}`; // one letter off
    const w = await ws();
    await w.write("typo.yaml", manifest("typo", `selector: {services: [${typo}]}\nfault: {kill: {}}`));
    controller(w);
    const cond = await waitFor(
      async () => (await w.status("typo.yaml"))?.conditions?.find((c) => c.type === "TargetsFound"),
      { timeoutMs: 20_000, what: "the TargetsFound condition" },
    );
    expect(cond).toMatchObject({
      status: "False",
      reason: "NoMatch",
      message: `service ${typo} does not exist; did you mean ${svc.name}?`,
    });
    const got = await chaosctl(["get", "--dir", w.dir]);
    expect(got.stderr).toContain(
      `warning: default/typo: TargetsFound=False: service ${typo} does not exist; did you mean ${svc.name}?`,
    );
  });

  it("pauses a task for 6 s and unpauses it on time", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "pause.yaml",
      manifest("pause", `duration: 6s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );
    controller(w);
    const paused = await waitFor(async () => (await pausedContainers(svc))[0], {
      timeoutMs: 20_000,
      what: "a paused task",
    });
    const active = await waitFor(async () => (await w.status("pause.yaml"))?.active?.[0], {
      timeoutMs: 10_000,
      what: "status.active",
    });
    expect(active).toMatchObject({ fault: "pause", service: svc.name });
    const until = Date.parse(active.until ?? "");
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: "unpause",
    });
    const lateMs = Date.now() - until;
    expect(lateMs).toBeGreaterThan(-500); // not early
    expect(lateMs).toBeLessThan(5_000);
    const run = await waitFor(async () => (await w.history("pause.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 15_000,
      what: "run Succeeded",
    });
    expect(run.endedAt).toBeDefined();
    expect((await w.status("pause.yaml"))?.active).toEqual([]);
  });

  it("@every under Forbid: fires repeatedly, skips while a run is active, never two at once", async () => {
    const svc = await service(3);
    const w = await ws();
    await w.write(
      "every.yaml",
      manifest(
        "every",
        `schedule: "@every 3s"\nduration: 4s\nconcurrencyPolicy: Forbid\nselector: {services: [${svc.name}]}\nfault: {pause: {}}\nsafety: {maxUnavailable: 2}`,
      ),
    );
    controller(w);
    const deadline = Date.now() + 16_000;
    let maxPaused = 0;
    while (Date.now() < deadline) {
      maxPaused = Math.max(maxPaused, (await pausedContainers(svc)).length);
      await sleep(250);
    }
    const h = await w.history("every.yaml");
    const ran = h.filter((r) => r.result === "Succeeded" || r.result === "Running");
    const forbidden = h.filter((r) => r.reason === "ConcurrencyForbid");
    expect(ran.length).toBeGreaterThanOrEqual(2);
    expect(forbidden.length).toBeGreaterThanOrEqual(1);
    expect(maxPaused).toBe(1);
  });

  it("suspend reverts at once; deleting the manifest reverts too", async () => {
    const svc = await service(2);
    const w = await ws();
    const text = (suspend: boolean) =>
      manifest("long", `duration: 60s\nsuspend: ${suspend}\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`);
    await w.write("long.yaml", text(false));
    controller(w);
    const paused = await waitFor(async () => (await pausedContainers(svc))[0], {
      timeoutMs: 20_000,
      what: "a paused task",
    });
    const t0 = Date.now();
    await w.write("long.yaml", text(true));
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "unpause on suspend",
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor(async () => (await w.status("long.yaml"))?.phase === "Suspended", {
      timeoutMs: 10_000,
      what: "phase Suspended",
    });

    // Resume (a new generation: @once fires again), then delete the file.
    await w.write("long.yaml", text(false));
    const again = await waitFor(async () => (await pausedContainers(svc))[0], {
      timeoutMs: 20_000,
      what: "paused again after resume",
    });
    await unlink(join(w.dir, "long.yaml"));
    await waitFor(async () => (await containerState(again)) === "running", {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "unpause on delete",
    });
    await waitFor(
      async () =>
        (await docker(["ps", "-q", "--filter", `label=chaosctl.io/instance=${w.instance}`])).stdout.trim() === "",
      { timeoutMs: 10_000, what: "no guard left" },
    );
  });

  it("an edit that makes a manifest invalid: reported in its status, nothing new injected, the active pause still reverted on time", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "p.yaml",
      manifest("inv", `schedule: "@every 2s"\nduration: 5s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );
    controller(w);
    const paused = await waitFor(async () => (await pausedContainers(svc))[0], {
      timeoutMs: 20_000,
      what: "a paused task",
    });
    const until = Date.parse(
      (await waitFor(async () => (await w.status("p.yaml"))?.active?.[0], { timeoutMs: 10_000, what: "status.active" }))
        .until ?? "",
    );
    const runsBefore = (await w.history("p.yaml")).filter((r) => r.result !== "Skipped").length;
    // A second fault key: invalid (exactlyOneFault), but the file still parses.
    // A user's edit of the spec only (status stays in the file), as in an editor.
    const file = join(w.dir, "p.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("fault: {pause: {}}", "fault: {pause: {}, kill: {}}"));
    const ready = await waitFor(
      async () => (await w.status("p.yaml"))?.conditions?.find((c) => c.type === "Ready" && c.status === "False"),
      { timeoutMs: 10_000, what: "Ready=False" },
    );
    expect(ready.reason).toBe("InvalidSpec");
    expect(ready.message).toMatch(/fault/);
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: "unpause at expiry",
    });
    expect(Date.now() - until).toBeLessThan(5_000);
    await sleep(4_000); // two more @every periods: nothing new starts from an invalid manifest
    expect(await pausedContainers(svc)).toEqual([]);
    expect((await w.history("p.yaml")).filter((r) => r.result !== "Skipped").length).toBe(runsBefore);
  });

  it("two schedules on one service respect maxUnavailable across schedules", async () => {
    const svc = await service(3);
    const w = await ws();
    for (const n of ["a", "b"])
      await w.write(
        `${n}.yaml`,
        manifest(
          `mu-${n}`,
          `duration: 8s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}\nsafety: {maxUnavailable: 1}`,
        ),
      );
    controller(w);
    // One runs; the other is held back (not spent) while the budget is used, saying by whom.
    const waiting = await waitFor(
      async () => {
        const [a, b] = [await w.status("a.yaml"), await w.status("b.yaml")];
        return a?.history?.length && b?.waiting ? b.waiting : b?.history?.length && a?.waiting ? a.waiting : undefined;
      },
      { timeoutMs: 20_000, what: "one run, one held back" },
    );
    expect(waiting.reason).toBe("MaxUnavailable");
    expect(waiting.message).toMatch(new RegExp(`service ${svc.name}: .*held: \\w+ by default/mu-[ab]`));
    expect((await pausedContainers(svc)).length).toBe(1);
    // Once the first pause ends, the held run starts, within its starting deadline: both ran, never together.
    await waitFor(
      async () =>
        (await w.history("a.yaml")).some((r) => r.result === "Succeeded") &&
        (await w.history("b.yaml")).some((r) => r.result === "Succeeded"),
      { timeoutMs: 45_000, what: "both runs succeeded, one after the other" },
    );
    const runs = [...(await w.history("a.yaml")), ...(await w.history("b.yaml"))];
    expect(runs.filter((r) => r.result === "Skipped")).toEqual([]);
    const [first, second] = runs.sort((x, y) => (x.startedAt ?? "").localeCompare(y.startedAt ?? ""));
    expect(Date.parse(second?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(first?.endedAt ?? ""));
  });

  it("a task made unhealthy (SIGSTOP) is replaced by Swarm and the run records its healing", async () => {
    // httpd as PID 1, so the signal freezes the server itself (the image's default PID 1 is a shell).
    const svc = await service(2, "wget -q -O /dev/null http://127.0.0.1/ || exit 1", [
      "/bin/httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/www",
    ]);
    const w = await ws();
    await w.write(
      "stop.yaml",
      manifest("hang", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGSTOP}}`),
    );
    controller(w);
    const run = await waitFor(async () => (await w.history("stop.yaml")).find((r) => r.recovery === "Recovered"), {
      timeoutMs: 60_000,
      what: "healing recorded",
    });
    const frozen = (await serviceTasks(svc.id)).find((t) => t.id === run.tasks?.[0]);
    expect(frozen?.state).not.toBe("running"); // Swarm gave up on the unhealthy task
    expect(run.recoverySeconds).toBeGreaterThan(1); // at least the healthcheck's retries
    expect(await runningTasks(svc.id)).toHaveLength(2);
  });
});

describe("controller crash", () => {
  it("SIGKILLed while a task is paused: the guard unpauses on time; the restarted controller records it and never kills twice", async () => {
    const svc = await service(3);
    const w = await ws();
    await w.write(
      "pause.yaml",
      manifest(
        "crash-pause",
        `duration: 8s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}\nsafety: {maxUnavailable: 2}`,
      ),
    );
    await w.write(
      "kill.yaml",
      manifest("crash-kill", `selector: {services: [${svc.name}]}\nfault: {kill: {}}\nsafety: {maxUnavailable: 2}`),
    );
    const first = spawnController(w);
    cleanups.push(async () => void first.kill("SIGKILL"));
    const paused = await waitFor(async () => (await pausedContainers(svc))[0], {
      timeoutMs: 20_000,
      what: "a paused task",
    });
    await waitFor(async () => (await w.history("kill.yaml")).some((r) => r.result === "Succeeded"), {
      timeoutMs: 20_000,
      what: "the kill recorded",
    });
    // The pause's status (its expiry) is written at the end of the pass that started it, which
    // may come after the kill's: read it before the crash, while the task is still paused.
    const until = await waitFor(
      async () => {
        const t = Date.parse((await w.status("pause.yaml"))?.active?.[0]?.until ?? "");
        return Number.isFinite(t) ? t : undefined;
      },
      { timeoutMs: 10_000, what: "the pause's expiry in status" },
    );
    expect(await containerState(paused)).toBe("paused");
    first.kill("SIGKILL");
    // Nobody runs the controller now: the guard alone must unpause at expiry.
    await waitFor(async () => (await containerState(paused)) === "running", {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: "unpause by the guard alone",
    });
    expect(Date.now() - until).toBeLessThan(5_000);
    const killsBefore = (await serviceTasks(svc.id)).filter((t) => t.state !== "running").length;

    const second = spawnController(w);
    cleanups.push(async () => void second.kill("SIGTERM"));
    const run = await waitFor(async () => (await w.history("pause.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 20_000,
      what: "the restarted controller records the pause",
    });
    expect(run.fault).toBe("pause");
    await sleep(3_000);
    expect((await w.history("kill.yaml")).filter((r) => r.result !== "Skipped")).toHaveLength(1);
    expect((await serviceTasks(svc.id)).filter((t) => t.state !== "running").length).toBe(killsBefore);
    expect(await pausedContainers(svc)).toEqual([]);
  });
});
