// stress and process faults on the real engine: stress-ng runs in the TARGET's cgroup (docker stats
// of the target shows it, its limits hold), ends at expiry by itself, leaves nothing behind; a
// memory stress above the limit gets the target OOM-killed and Swarm replaces it; a disk fill
// exists during and is gone after; a process fault kills a named child while PID 1 lives.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, Owner, Target } from "../../src/faults/driver.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { L_RUN } from "../../src/api/labels.js";
import { DEFAULT_STRESS_IMAGE } from "../../src/faults/stress/spec.js";
import { docker, dockerOk, requireSwarm, runningTasks, waitFor, APP_IMAGE, WEB_IMAGE } from "../helpers/docker.js";
import { createOverlayService, type OverlayService } from "../engine/fixtures.js";

const engine = new DockerEngine();
const stress = faultDrivers.get("stress")!;
const proc = faultDrivers.get("process")!;
const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date(), guardApplyTimeoutMs: 30_000 });
const services: OverlayService[] = [];
let runs: string[] = [];

function ownerFor(ms: number): Owner {
  const run = `s${process.pid}-${Date.now().toString(36)}-${runs.length}`;
  runs.push(run);
  return {
    schedule: "default/stress-test",
    generation: 1,
    run,
    instance: `test-${process.pid}`,
    expires: new Date(Date.now() + ms),
  };
}

async function service(flags: string[] = [], command?: string[]): Promise<OverlayService> {
  const svc = await createOverlayService({
    replicas: 1,
    namePrefix: "chaosctl-stress",
    flags,
    ...(command ? { command } : {}),
  });
  services.push(svc);
  await waitFor(async () => (await runningTasks(svc.id)).length === 1, { timeoutMs: 30_000, what: "a running task" });
  return svc;
}

async function targetOf(svc: OverlayService): Promise<Target> {
  const task = (await runningTasks(svc.id))[0]!;
  return {
    kind: "container",
    nodeId: "",
    serviceId: svc.id,
    serviceName: svc.name,
    taskId: task.id,
    containerId: task.containerId!,
  };
}

/** docker stats of one container: CPU percent (of one core) and memory usage in bytes. */
async function stats(id: string): Promise<{ cpu: number; mem: number }> {
  const out = await dockerOk(["stats", "--no-stream", "--format", "{{.CPUPerc}} {{.MemUsage}}", id], {
    timeoutMs: 20_000,
  });
  const m = /^([\d.]+)%\s+([\d.]+)([KMG]i?B|B)/.exec(out.trim());
  if (!m) throw new Error(`docker stats said: ${out}`);
  const unit: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, MB: 1e6, GB: 1e9 };
  return { cpu: Number(m[1]), mem: Number(m[2]) * (unit[m[3]!] ?? 1) };
}

/** The median of three docker stats samples (each spans about a second). */
async function cpuOf(id: string): Promise<number> {
  const xs = [(await stats(id)).cpu, (await stats(id)).cpu, (await stats(id)).cpu].sort((a, b) => a - b);
  return xs[1]!;
}

/** Containers of ours (guards and helpers) for a run, any state. */
async function ofRun(run: string): Promise<string[]> {
  return (await dockerOk(["ps", "-aq", "--no-trunc", "--filter", `label=${L_RUN}=${run}`])).split("\n").filter(Boolean);
}

/** Processes in the target's cgroup (cgroup v1 here: the cpu hierarchy lists every child cgroup). */
async function cgroupChildren(id: string): Promise<string[]> {
  const r = await docker(["exec", id, "ls", "/sys/fs/cgroup/cpu"]);
  return r.stdout.split("\n").filter((l) => /^[0-9a-f]{64}$/.test(l));
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE, DEFAULT_STRESS_IMAGE]);
});

afterEach(async () => {
  const left: string[] = [];
  for (const run of runs) left.push(...(await ofRun(run)));
  runs = [];
  const what = left.length ? (await docker(["inspect", "-f", "{{.Name}} {{.State.Status}}", ...left])).stdout : "";
  if (left.length) await docker(["rm", "-f", ...left]);
  expect(left.length ? what : "", "guard or helper containers left behind").toBe("");
});

afterAll(async () => {
  // Together: one after another, eleven services' removals outlast the hook's default bound.
  await Promise.all(services.map((s) => s.remove()));
}, 120_000);

describe("stress (in the target's cgroup)", () => {
  it("cpu workers 1 load 100: the task's docker stats CPU is above 80% of a core during, under 10% after", async () => {
    const svc = await service();
    const target = await targetOf(svc);
    const owner = ownerFor(60_000);
    const r = await stress.apply(ctx(), target, { cpu: { workers: 1, load: 100 } }, owner);
    expect(r).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    // On a machine shared with other work the first samples can be low: above 80% at some point
    // in the window is the claim.
    await waitFor(async () => (await cpuOf(target.containerId!)) > 80, {
      timeoutMs: 30_000,
      what: "the task's CPU above 80% of a core",
    });
    // The stressor's container is a child cgroup of the task's own.
    const helper = JSON.parse(
      await dockerOk(["inspect", `chaosctl-stress-${(r.handle.spec as { id: string }).id}`]),
    )[0];
    expect(helper.HostConfig.CgroupParent).toBe(`/docker/${target.containerId}`);
    expect(helper.HostConfig.PidMode).toBe(`container:${target.containerId}`);
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    await waitFor(async () => (await cpuOf(target.containerId!)) < 10, {
      timeoutMs: 20_000,
      what: "CPU back under 10%",
    });
    expect((await engine.inspectContainer(target.containerId!)).state).toBe("running");
  });

  it("the task's --limit-cpu 0.5 holds: about 50% of a core under a full-load worker", async () => {
    const svc = await service(["--limit-cpu", "0.5"]);
    const target = await targetOf(svc);
    const r = await stress.apply(ctx(), target, { cpu: { workers: 1, load: 100 } }, ownerFor(60_000));
    expect(r).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    const during = await cpuOf(target.containerId!);
    expect(during).toBeGreaterThan(35);
    expect(during).toBeLessThan(65);
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
  });

  it("memory 256MB: the task's usage rises by at least 200 MB, and falls back after", async () => {
    const svc = await service(["--limit-memory", "1g"]);
    const target = await targetOf(svc);
    const before = (await stats(target.containerId!)).mem;
    const r = await stress.apply(ctx(), target, { memory: { size: "256MB" } }, ownerFor(60_000));
    expect(r, JSON.stringify(r)).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    await waitFor(async () => (await stats(target.containerId!)).mem - before >= 200 * 1024 ** 2, {
      timeoutMs: 20_000,
      what: "memory usage +200 MB",
    });
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    await waitFor(async () => (await stats(target.containerId!)).mem - before < 50 * 1024 ** 2, {
      timeoutMs: 20_000,
      what: "memory usage back",
    });
    expect(await cgroupChildren(target.containerId!)).toEqual([]);
  });

  it("memory above --limit-memory: the kernel OOM-kills the task inside its cgroup and Swarm replaces it", async () => {
    const svc = await service(["--limit-memory", "64m"]);
    const target = await targetOf(svc);
    const since = Math.floor(Date.now() / 1000) - 1;
    const owner = ownerFor(60_000);
    const r = await stress.apply(ctx(), target, { memory: { size: "128M" } }, owner);
    // The kernel may be faster than the first look: Injected, or the target already gone.
    expect(["Injected", "Failed"]).toContain(r.phase);
    await waitFor(async () => (await engine.inspectContainer(target.containerId!)).state !== "running", {
      timeoutMs: 30_000,
      what: "the target to die",
    });
    const dead = await engine.inspectContainer(target.containerId!);
    expect(dead.oomKilled).toBe(true);
    // Docker's own account: an `oom` event of the task (`--until` is exclusive of its second: asked again).
    const oomEvents = async (): Promise<string> =>
      dockerOk([
        "events",
        "--since",
        String(since),
        "--until",
        String(Math.floor(Date.now() / 1000)),
        "--filter",
        `container=${target.containerId}`,
        "--filter",
        "event=oom",
        "--format",
        "{{.Action}}",
      ]);
    await waitFor(async () => /oom/.test(await oomEvents()), { timeoutMs: 10_000, what: "an oom event of the task" });
    await waitFor(
      async () => (await runningTasks(svc.id)).some((t) => t.containerId && t.containerId !== target.containerId),
      { timeoutMs: 30_000, what: "Swarm's replacement task" },
    );
    // The stressor died with the task's PID namespace: nothing of ours is left running.
    const helpers = async (): Promise<string> =>
      dockerOk(["ps", "-q", "--filter", `label=${L_RUN}=${owner.run}`, "--filter", "label=chaosctl.io/role=helper"]);
    await waitFor(async () => (await helpers()) === "", {
      timeoutMs: 20_000,
      what: "the stressor gone with the task",
    });
    if (r.phase === "Injected") expect((await stress.recover(ctx(), r.handle)).phase).toMatch(/Recovered|Gone/);
  });

  it("memory below the limit leaves the task's oom_score_adj as it was once the stress ends", async () => {
    const svc = await service(["--limit-memory", "256m"]);
    const target = await targetOf(svc);
    const adj = async (): Promise<string> =>
      (await dockerOk(["exec", target.containerId!, "cat", "/proc/1/oom_score_adj"])).trim();
    expect(await adj()).toBe("0");
    const r = await stress.apply(ctx(), target, { memory: { size: "32M" } }, ownerFor(60_000));
    expect(r, JSON.stringify(r)).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    await waitFor(async () => (await adj()) === "1000", {
      timeoutMs: 10_000,
      what: "PID 1 the OOM killer's first choice",
    });
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    expect(await adj()).toBe("0");
    expect((await engine.inspectContainer(target.containerId!)).state).toBe("running");
  });

  it("disk fill: the file exists during, is gone after, the task keeps running", async () => {
    const svc = await service();
    const target = await targetOf(svc);
    const r = await stress.apply(ctx(), target, { disk: { size: "50M", path: "/tmp" } }, ownerFor(60_000));
    expect(r).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    const ls = await dockerOk(["exec", target.containerId!, "ls", "-aln", "/tmp"]);
    expect(ls).toMatch(/\s52428800 .*\.chaosctl-fill-[0-9a-f]{16}/);
    expect(await stress.recover(ctx(), r.handle)).toEqual({ phase: "Recovered" });
    expect(await dockerOk(["exec", target.containerId!, "ls", "-a", "/tmp"])).not.toMatch(/chaosctl-fill/);
    expect((await engine.inspectContainer(target.containerId!)).state).toBe("running");
  });

  it("left alone (its controller gone), the guard ends the stress at expiry: nothing left in the target's cgroup", async () => {
    const svc = await service();
    const target = await targetOf(svc);
    const owner = ownerFor(8_000);
    const r = await stress.apply(ctx(), target, { cpu: { workers: 1, load: 100 }, disk: { size: "10M" } }, owner);
    expect(r).toMatchObject({ phase: "Injected" });
    // Nobody calls recover: the guard alone reverts, then exits 0.
    await waitFor(
      async () => {
        const left = await ofRun(owner.run);
        if (left.length !== 1) return false;
        const g = await engine.inspectContainer(left[0]!);
        return g.state === "exited" && g.exitCode === 0;
      },
      { timeoutMs: 40_000, what: "the guard to revert and exit 0, its stressor gone" },
    );
    expect(await cgroupChildren(target.containerId!)).toEqual([]);
    expect(await dockerOk(["exec", target.containerId!, "ls", "-a", "/tmp"])).not.toMatch(/chaosctl-fill/);
    await waitFor(async () => (await cpuOf(target.containerId!)) < 10, { timeoutMs: 20_000, what: "CPU back" });
    await docker(["rm", "-f", ...(await ofRun(owner.run))]);
  });

  it("even with its guard SIGKILLed and gone, stress-ng stops at expiry by itself", async () => {
    const svc = await service();
    const target = await targetOf(svc);
    const owner = ownerFor(6_000);
    const r = await stress.apply(ctx(), target, { cpu: { workers: 1, load: 100 } }, owner);
    expect(r).toMatchObject({ phase: "Injected" });
    if (r.phase !== "Injected") return;
    await docker(["rm", "-f", r.handle.guardId!]);
    expect(await cgroupChildren(target.containerId!)).toHaveLength(1);
    await waitFor(async () => (await cgroupChildren(target.containerId!)).length === 0, {
      timeoutMs: 30_000,
      what: "stress-ng to end at its --timeout",
    });
    // Its container is removed by the engine (AutoRemove) once stress-ng exits: gone without anyone's help.
    await waitFor(async () => (await ofRun(owner.run)).length === 0, {
      timeoutMs: 10_000,
      what: "the stress container to be removed by the engine",
    });
  });
});

describe("process (signals inside the target)", () => {
  // PID 1 is a shell that reaps; `nc` is the worker the fault kills.
  const command = ["/bin/sh", "-c", "trap 'exit 0' TERM; /bin/nc -l -p 9999 & while :; do sleep 1; done"];

  it("kills a named child process; PID 1 and the task stay up", async () => {
    const svc = await service([], command);
    const target = await targetOf(svc);
    const ps = async (): Promise<string> => dockerOk(["exec", target.containerId!, "ps", "-o", "pid,stat,comm"]);
    expect(await ps()).toMatch(/\bnc\b/);
    const r = await proc.apply(ctx(), target, { name: "nc", signal: "SIGKILL" }, ownerFor(0));
    expect(r).toEqual({ phase: "Done" });
    await waitFor(async () => !/\bnc\b/.test(await ps()), { timeoutMs: 10_000, what: "nc to be gone" });
    const c = await engine.inspectContainer(target.containerId!);
    expect(c.state).toBe("running");
    expect((await runningTasks(svc.id)).map((t) => t.containerId)).toEqual([target.containerId]);
  });

  it("never signals PID 1: a name only PID 1 has matches nothing", async () => {
    const svc = await service([], command);
    const target = await targetOf(svc);
    const r = await proc.apply(ctx(), target, { name: "sh", signal: "SIGKILL" }, ownerFor(0));
    expect(r).toMatchObject({ phase: "Failed", reason: "NoMatchingProcess" });
    expect((await engine.inspectContainer(target.containerId!)).state).toBe("running");
  });
});
