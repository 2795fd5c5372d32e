// kill / stop / restart drivers on a real Swarm task container: the fault happens, Swarm heals.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, Target } from "../../src/faults/driver.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { requireSwarm, runningTasks, serviceTasks, waitFor, APP_IMAGE } from "../helpers/docker.js";
import { createOverlayService, type OverlayService } from "../engine/fixtures.js";

const engine = new DockerEngine();
const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date() });
const owner = { schedule: "default/test", generation: 1, run: "r1" };
let svc: OverlayService;

beforeAll(async () => {
  await requireSwarm();
  svc = await createOverlayService({ replicas: 2, namePrefix: "chaosctl-drivers" });
  await waitFor(async () => (await runningTasks(svc.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
});
afterAll(async () => {
  await svc?.remove();
});

async function oneTarget(): Promise<Target> {
  const t = (await runningTasks(svc.id))[0];
  if (!t?.containerId) throw new Error("no running task");
  const c = await engine.inspectContainer(t.containerId);
  return {
    kind: "container",
    nodeId: c.nodeId ?? "",
    serviceId: svc.id,
    serviceName: svc.name,
    taskId: t.id,
    containerId: t.containerId,
  };
}

/** Swarm replaced the task: the old one is no longer running and 2 others run. */
async function healed(target: Target): Promise<void> {
  await waitFor(
    async () => {
      const tasks = await serviceTasks(svc.id);
      const old = tasks.find((t) => t.id === target.taskId);
      const running = tasks.filter((t) => t.state === "running" && t.desiredState === "running");
      return old?.state !== "running" && running.length === 2 && running.every((t) => t.id !== target.taskId);
    },
    { timeoutMs: 30_000, what: "Swarm to replace the faulted task" },
  );
}

describe.each([
  ["kill", { signal: "SIGKILL" }, 137],
  ["stop", { timeout: "1s" }, undefined],
  ["restart", { timeout: "1s" }, undefined],
] as const)("%s driver on a Swarm task", (kind, spec, exitCode) => {
  it("is done at once, and Swarm starts a replacement task", async () => {
    const driver = faultDrivers.get(kind);
    expect(driver).toMatchObject({ kind, durative: false, targets: "container" });
    const target = await oneTarget();
    const r = await driver!.apply(ctx(), target, spec, owner);
    expect(r).toEqual({ phase: "Done" });
    await healed(target);
    const old = (await serviceTasks(svc.id)).find((t) => t.id === target.taskId);
    if (exitCode !== undefined) expect(old?.exitCode).toBe(exitCode);
    expect(await driver!.recover(ctx(), { fault: kind, owner, target })).toEqual({ phase: "Recovered" });
  });
});

describe("instantaneous drivers on a missing container", () => {
  it.each(["kill", "stop", "restart"] as const)("%s → Failed TargetGone", async (kind) => {
    const target: Target = { kind: "container", nodeId: "n", containerId: "f".repeat(64) };
    const r = await faultDrivers.get(kind)!.apply(ctx(), target, {}, owner);
    expect(r).toMatchObject({ phase: "Failed", reason: "TargetGone" });
  });
});
