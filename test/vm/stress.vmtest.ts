// stress on cgroup v2 (the stock Debian kernel mounts cgroup2; dockerd there uses the cgroupfs
// driver): the stressor's child cgroup under the task's is charged to the task, its limits hold,
// and at the memory limit the kernel OOM-kills the task (this engine may lower oom_score_adj, so
// the stressor is spared) and Swarm replaces it. Through src/faults/stress's driver.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, Owner, Target } from "../../src/faults/driver.js";
import { stressDriver } from "../../src/faults/stress/driver.js";
import { DEFAULT_STRESS_IMAGE } from "../../src/faults/stress/spec.js";
import {
  APP_IMAGE,
  createTestService,
  docker,
  dockerOk,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { report, requireVmLane } from "./lane.js";

const engine = new DockerEngine();
const stress = stressDriver();
// A guard's node process starts in ~10 s under emulation.
const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date(), guardApplyTimeoutMs: 120_000 });
const services: TestService[] = [];

async function task(flags: string[]): Promise<{ svc: TestService; target: Target }> {
  const svc = await createTestService({ namePrefix: "chaosctl-vm-stress", flags });
  services.push(svc);
  const t = await waitFor(async () => (await runningTasks(svc.id))[0], { timeoutMs: 120_000, what: "a running task" });
  return {
    svc,
    target: { kind: "container", nodeId: "", serviceId: svc.id, taskId: t.id, containerId: t.containerId! },
  };
}

const owner = (ms: number, run: string): Owner => ({
  schedule: "default/vm-stress",
  generation: 1,
  run,
  expires: new Date(Date.now() + ms),
});

/** The task's own cgroup v2 files, read on the host of the VM (cgroupfs driver: /docker/<id>). */
async function cg(id: string, file: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return (await readFile(`/sys/fs/cgroup/docker/${id}/${file}`, "utf8")).trim();
}
/** Child cgroups under the task's (the stressor's, while it runs). */
async function children(id: string): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  const ents = await readdir(`/sys/fs/cgroup/docker/${id}`, { withFileTypes: true });
  return ents.filter((e) => e.isDirectory()).map((e) => e.name);
}
const usageUsec = async (id: string): Promise<number> =>
  Number(/usage_usec (\d+)/.exec(await cg(id, "cpu.stat"))?.[1] ?? NaN);

beforeAll(async () => {
  requireVmLane();
  expect(await dockerOk(["info", "-f", "{{.CgroupDriver}} {{.CgroupVersion}}"])).toBe("cgroupfs 2");
  await dockerOk(["image", "inspect", "-f", "{{.Id}}", DEFAULT_STRESS_IMAGE]);
});

afterEach(async () => {
  const left = (await dockerOk(["ps", "-aq", "--filter", "label=chaosctl.io/schedule=default/vm-stress"]))
    .split("\n")
    .filter(Boolean);
  if (left.length) await docker(["rm", "-f", ...left]);
  expect(left, "guards or helpers left").toEqual([]);
});

afterAll(async () => {
  for (const s of services) await s.remove();
});

describe("stress on cgroup v2", () => {
  it("cpu: charged to the task's cgroup, held to its --limit-cpu 0.5, gone after", async () => {
    const { target } = await task(["--limit-cpu", "0.5"]);
    const id = target.containerId!;
    const r = await stress.apply(ctx(), target, { cpu: { workers: 1, load: 100 } }, owner(120_000, "vm-cpu"));
    expect(r, JSON.stringify(r)).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    // The stressor's cgroup is a child of the task's.
    const helper = JSON.parse(
      await dockerOk(["inspect", `chaosctl-stress-${(r.handle.spec as { id: string }).id}`]),
    )[0];
    expect(helper.HostConfig.CgroupParent).toBe(`/docker/${id}`);
    // ... in the cgroup2 tree itself: a directory under the task's, holding stress-ng's threads.
    // runc makes it a threaded cgroup (a child of a cgroup with processes cannot have domain
    // controllers of its own), so the task's cgroup becomes its threaded domain: memory is
    // charged to the task's, cpu.max of the task's bounds both.
    expect(await children(id)).toEqual([helper.Id]);
    const types = { task: await cg(id, "cgroup.type"), stressor: await cg(`${id}/${helper.Id}`, "cgroup.type") };
    expect((await cg(`${id}/${helper.Id}`, "cgroup.threads")).split("\n").length).toBeGreaterThan(1);
    const u0 = await usageUsec(id);
    const t0 = Date.now();
    await new Promise((res) => setTimeout(res, 10_000));
    const share = (await usageUsec(id)) - u0;
    const cores = share / ((Date.now() - t0) * 1000);
    report("stress cpu (v2)", { cores: cores.toFixed(2), cpuMax: await cg(id, "cpu.max"), ...types });
    expect(cores).toBeGreaterThan(0.3);
    expect(cores).toBeLessThan(0.6);
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    expect(await children(id)).toEqual([]);
    const u1 = await usageUsec(id);
    await new Promise((res) => setTimeout(res, 5_000));
    expect(((await usageUsec(id)) - u1) / 5e6).toBeLessThan(0.1);
  });

  it("memory 96M: the task's memory.current rises by it, and falls back after", async () => {
    const { target } = await task(["--limit-memory", "512m"]);
    const id = target.containerId!;
    const before = Number(await cg(id, "memory.current"));
    const r = await stress.apply(ctx(), target, { memory: { size: "96M" } }, owner(120_000, "vm-mem"));
    expect(r, JSON.stringify(r)).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    await waitFor(async () => Number(await cg(id, "memory.current")) - before > 80 * 1024 ** 2, {
      timeoutMs: 60_000,
      what: "memory.current +80 MiB",
    });
    const during = Number(await cg(id, "memory.current"));
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    await waitFor(async () => Number(await cg(id, "memory.current")) - before < 20 * 1024 ** 2, {
      timeoutMs: 60_000,
      what: "memory.current back",
    });
    report("stress memory (v2)", {
      beforeMiB: before >> 20,
      duringMiB: during >> 20,
      afterMiB: Number(await cg(id, "memory.current")) >> 20,
    });
    expect(await children(id)).toEqual([]);
  });

  it("memory above --limit-memory: the kernel OOM-kills the task (not the stressor) and Swarm replaces it", async () => {
    const { svc, target } = await task(["--limit-memory", "64m"]);
    const id = target.containerId!;
    const t0 = Date.now();
    const r = await stress.apply(ctx(), target, { memory: { size: "128M" } }, owner(120_000, "vm-oom"));
    // The kernel may be faster than the driver's first look: Injected, or the target already gone.
    expect(["Injected", "Failed"]).toContain(r.phase);
    await waitFor(async () => (await engine.inspectContainer(id)).state !== "running", {
      timeoutMs: 120_000,
      what: "the task to die",
    });
    const died = Date.now();
    expect((await engine.inspectContainer(id)).oomKilled).toBe(true);
    await waitFor(async () => (await runningTasks(svc.id)).some((t) => t.containerId && t.containerId !== id), {
      timeoutMs: 120_000,
      what: "the replacement task",
    });
    report("stress oom (v2)", {
      applyToDeathS: ((died - t0) / 1000).toFixed(1),
      deathToReplacementS: ((Date.now() - died) / 1000).toFixed(1),
    });
    if (r.phase === "Injected") expect((await stress.recover(ctx(), r.handle)).phase).toMatch(/Recovered|Gone/);
  });
});
