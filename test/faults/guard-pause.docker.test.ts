// pause through a guard container, on the real engine: applied, reverted at expiry by the guard
// alone, recovered early, survives the loss of its owner and a guard crash, adopts on repeat.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, Owner, Target } from "../../src/faults/driver.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { guardCondition, observeGuards } from "../../src/faults/guard/observe.js";
import { guardHelperSpec } from "../../src/faults/guard/spec.js";
import { L_RUN } from "../../src/api/labels.js";
import { docker, dockerOk, requireSwarm, runningTasks, waitFor, APP_IMAGE, WEB_IMAGE } from "../helpers/docker.js";
import { createOverlayService, type OverlayService } from "../engine/fixtures.js";

const engine = new DockerEngine();
const pause = faultDrivers.get("pause")!;
const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date() });
const plain: string[] = []; // plain target containers, removed by id
let svc: OverlayService;
let runs: string[] = []; // run label values used by the current test

function ownerFor(ms: number, run = `t${process.pid}-${Date.now().toString(36)}-${runs.length}`): Owner {
  runs.push(run);
  return {
    schedule: "default/guard-test",
    generation: 1,
    run,
    instance: `test-${process.pid}`,
    expires: new Date(Date.now() + ms),
  };
}

async function plainTarget(): Promise<Target> {
  const id = await dockerOk(["run", "-d", "--network", "none", "--label", "chaosctl-test=guard", WEB_IMAGE]);
  plain.push(id);
  return { kind: "container", nodeId: "", containerId: id };
}

async function guardsOf(run: string): Promise<string[]> {
  return (await dockerOk(["ps", "-aq", "--no-trunc", "--filter", `label=${L_RUN}=${run}`])).split("\n").filter(Boolean);
}

const stateOf = async (id: string): Promise<string> => (await engine.inspectContainer(id)).state;

beforeAll(async () => {
  // Fails (never skips) with a hint when the project image is not built.
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  svc = await createOverlayService({ replicas: 2, namePrefix: "chaosctl-pause" });
  await waitFor(async () => (await runningTasks(svc.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
});

afterEach(async () => {
  // No guard of this test may remain; remove leftovers by id so one failure does not leak.
  const left: string[] = [];
  for (const run of runs) left.push(...(await guardsOf(run)));
  runs = [];
  if (left.length) await docker(["rm", "-f", ...left]);
  expect(left, "guard containers left behind").toEqual([]);
});

afterAll(async () => {
  await svc?.remove();
  if (plain.length) await docker(["rm", "-f", ...plain]);
});

describe("pause driver (guard containers)", () => {
  it("pauses a Swarm task, and the guard alone unpauses it at expiry", async () => {
    const task = (await runningTasks(svc.id))[0]!;
    const info = await engine.inspectContainer(task.containerId!);
    const target: Target = {
      kind: "container",
      nodeId: info.nodeId!,
      serviceId: svc.id,
      serviceName: svc.name,
      taskId: task.id,
      containerId: task.containerId!,
    };
    const owner = ownerFor(5_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    expect(await stateOf(target.containerId!)).toBe("paused");

    // The cluster itself says what is injected and by whom.
    const [h] = observeGuards(await engine.listContainers([`${L_RUN}=${owner.run}`]), new Date());
    expect(h).toMatchObject({
      fault: "pause",
      owner: { schedule: owner.schedule, run: owner.run, expires: owner.expires },
      target,
      guardId: r.handle.guardId,
      expired: false,
    });
    expect(guardCondition(h!, new Date(), 5_000)).toBe("enforcing");

    await waitFor(async () => (await stateOf(target.containerId!)) === "running", {
      timeoutMs: 8_000,
      intervalMs: 50,
      what: "unpause at expiry",
    });
    expect(Date.now()).toBeGreaterThanOrEqual(owner.expires!.getTime());
    const done = await waitFor(
      async () =>
        observeGuards(await engine.listContainers([`${L_RUN}=${owner.run}`]), new Date()).find(
          (g) => g.guardState === "exited",
        ),
      {
        timeoutMs: 5_000,
        what: "guard to exit",
      },
    );
    expect(done).toMatchObject({ guardExitCode: 0, expired: true });
    expect(guardCondition(done, new Date(), 5_000)).toBe("completed");
    // Swarm never noticed: the task kept running.
    expect((await runningTasks(svc.id)).map((t) => t.id)).toContain(task.id);
    expect(await pause.recover(ctx(), done)).toEqual({ phase: "Recovered" });
  });

  it("recover() before expiry unpauses at once and removes the guard", async () => {
    const target = await plainTarget();
    const owner = ownerFor(60_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    const t0 = Date.now();
    expect(await pause.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await stateOf(target.containerId!)).toBe("running");
    expect(await guardsOf(owner.run)).toEqual([]);
  });

  it("the owner dies: nothing of the caller is involved after apply, the guard unpauses at expiry", async () => {
    const target = await plainTarget();
    const owner = ownerFor(6_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    expect(r.phase).toBe("Injected");
    // From here the "controller" is gone: no recover, no driver call, only observation.
    await new Promise((res) => setTimeout(res, 3_000));
    expect(await stateOf(target.containerId!)).toBe("paused");
    await waitFor(async () => (await stateOf(target.containerId!)) === "running", {
      timeoutMs: 8_000,
      intervalMs: 50,
      what: "unpause at expiry",
    });
    const unpausedAt = Date.now();
    expect(unpausedAt).toBeGreaterThanOrEqual(owner.expires!.getTime());
    expect(unpausedAt - owner.expires!.getTime()).toBeLessThan(2_000);
    const [guardId] = await guardsOf(owner.run);
    const g = await waitFor(
      async () =>
        (await engine.inspectContainer(guardId!)).state === "exited" ? engine.inspectContainer(guardId!) : undefined,
      {
        timeoutMs: 5_000,
        what: "guard exit",
      },
    );
    expect(g.exitCode).toBe(0);
    const logs = await engine.containerLogs(guardId!, 20);
    expect(logs.stderr).toMatch(/"event":"expired"/);
    await engine.removeContainer(guardId!, { force: true });
  });

  it("a guard started after expiry reverts immediately and exits 0", async () => {
    const target = await plainTarget();
    await dockerOk(["pause", target.containerId!]);
    const owner = ownerFor(-1_000);
    const spec = guardHelperSpec({ image: APP_IMAGE, fault: "pause", owner, target, until: owner.expires!, spec: {} });
    const t0 = Date.now();
    const guardId = await engine.startHelper(spec);
    await waitFor(async () => (await stateOf(target.containerId!)) === "running", {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "late guard to unpause",
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const g = await waitFor(
      async () =>
        (await engine.inspectContainer(guardId)).state === "exited" ? engine.inspectContainer(guardId) : undefined,
      { timeoutMs: 5_000 },
    );
    expect(g.exitCode).toBe(0);
    expect((await engine.containerLogs(guardId, 20)).stderr).toMatch(/late-start/);
    await engine.removeContainer(guardId, { force: true });
  });

  it("a target removed mid-fault: recover returns Gone without error and removes the guard", async () => {
    const target = await plainTarget();
    const owner = ownerFor(60_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    await dockerOk(["rm", "-f", target.containerId!]);
    expect(await pause.recover(ctx(), r.handle)).toEqual({ phase: "Gone" });
    expect(await guardsOf(owner.run)).toEqual([]);
  });

  it("a second apply of the same run adopts the existing guard (one pause per run)", async () => {
    const target = await plainTarget();
    const owner = ownerFor(60_000);
    const a = await pause.apply(ctx(), target, {}, owner);
    const b = await pause.apply(ctx(), target, {}, owner);
    expect(a.phase).toBe("Injected");
    expect(b.phase).toBe("Injected");
    if (a.phase !== "Injected" || b.phase !== "Injected") return;
    expect(b.handle.guardId).toBe(a.handle.guardId);
    expect(await guardsOf(owner.run)).toHaveLength(1);
    expect(await pause.recover(ctx(), a.handle)).toEqual({ phase: "Recovered" });
    expect(await stateOf(target.containerId!)).toBe("running");
  });

  it("a crashed guard (SIGKILL) is restarted by its restart policy and still reverts at expiry", async () => {
    const target = await plainTarget();
    const owner = ownerFor(5_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    // A crash, not `docker kill` (which the engine records as a manual stop and never restarts):
    // SIGKILL the guard's process from the host.
    const pid = Number(await dockerOk(["inspect", "-f", "{{.State.Pid}}", r.handle.guardId!]));
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    await waitFor(async () => Number(await dockerOk(["inspect", "-f", "{{.RestartCount}}", r.handle.guardId!])) >= 1, {
      timeoutMs: 5_000,
      what: "guard restart",
    });
    expect(await stateOf(target.containerId!)).toBe("paused");
    await waitFor(async () => (await stateOf(target.containerId!)) === "running", {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "unpause at expiry",
    });
    expect(Date.now()).toBeGreaterThanOrEqual(owner.expires!.getTime());
    await waitFor(async () => (await stateOf(r.handle.guardId!)) === "exited", {
      timeoutMs: 5_000,
      what: "guard exit",
    });
    expect(await pause.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
  });

  it("a guard removed while the target is paused: recover reverts directly", async () => {
    const target = await plainTarget();
    const owner = ownerFor(60_000);
    const r = await pause.apply(ctx(), target, {}, owner);
    if (r.phase !== "Injected") throw new Error(`apply: ${JSON.stringify(r)}`);
    // SIGKILL + remove: the guard cannot revert (a lost guard, e.g. removed by hand).
    await dockerOk(["rm", "-f", r.handle.guardId!]);
    expect(await stateOf(target.containerId!)).toBe("paused");
    expect(await pause.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    expect(await stateOf(target.containerId!)).toBe("running");
  });

  it("a target that is not running: Failed with the guard's reason, no guard left", async () => {
    const target = await plainTarget();
    await dockerOk(["stop", "-t", "1", target.containerId!]);
    const r = await pause.apply(ctx(), target, {}, ownerFor(60_000));
    expect(r).toMatchObject({ phase: "Failed", reason: "TargetNotRunning" });
  });

  it("a missing image: Failed ImageMissing, nothing started, nothing paused", async () => {
    const target = await plainTarget();
    const r = await pause.apply({ ...ctx(), image: "local/no-such-image:0" }, target, {}, ownerFor(60_000));
    expect(r).toMatchObject({ phase: "Failed", reason: "ImageMissing" });
    expect(await stateOf(target.containerId!)).toBe("running");
  });
});
