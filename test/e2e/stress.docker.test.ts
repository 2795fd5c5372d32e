// stress through the controller, on the real one-node Swarm: the controller SIGKILLed mid-stress
// (the guard and stress-ng's own timeout end it at expiry; a restarted controller records the
// run), and --dry-run saying that a memory stress reaches the task's limit.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_STRESS_IMAGE } from "../../src/faults/stress/spec.js";
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
import { manifest, spawnController, workspace, type Workspace } from "./harness.js";

const BIN = resolve("dist/src/cli/main.js");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE, DEFAULT_STRESS_IMAGE]);
});

async function service(replicas: number, flags: string[] = []): Promise<TestService> {
  const svc = await createTestService({ replicas, flags, namePrefix: "chaosctl-e2e-stress" });
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

/** Stress helpers of this controller instance that exist now (any state). */
async function stressors(w: Workspace): Promise<string[]> {
  return (
    await dockerOk([
      "ps",
      "-aq",
      "--filter",
      `label=chaosctl.io/instance=${w.instance}`,
      "--filter",
      "label=chaosctl.io/role=helper",
      "--filter",
      "label=chaosctl.io/fault=stress",
    ])
  )
    .split("\n")
    .filter(Boolean);
}

describe("stress via the controller", () => {
  it("SIGKILLed mid-stress: the stress ends at expiry anyway, nothing stays in the task's cgroup, the restarted controller records it", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "stress.yaml",
      manifest(
        "crash-stress",
        `duration: 12s\nselector: {services: [${svc.name}]}\nfault: {stress: {cpu: {workers: 1, load: 100}, disk: {size: 8M}}}`,
      ),
    );
    const first = spawnController(w);
    cleanups.push(async () => void first.kill("SIGKILL"));
    await waitFor(async () => (await w.status("stress.yaml"))?.active?.length === 1, {
      timeoutMs: 40_000,
      what: "the stress active in status",
    });
    const active = (await w.status("stress.yaml"))!.active![0]!;
    expect(await stressors(w)).toHaveLength(1);
    const target = active.container!;
    // `chaosctl get active` sees it, from the cluster alone.
    const get = spawn(process.execPath, [BIN, "get", "active", "-o", "json"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    get.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((r) => get.on("close", r));
    expect(out).toContain('"stress"');
    expect(out).toContain(target.slice(0, 12));

    first.kill("SIGKILL");
    const until = Date.parse(active.until ?? "");
    expect(Number.isFinite(until)).toBe(true);
    // Nobody runs the controller now: the guard alone takes the stress and the fill back.
    await waitFor(async () => (await stressors(w)).length === 0, {
      timeoutMs: 40_000,
      what: "the stress helper gone",
    });
    expect(Date.now() - until).toBeLessThan(10_000);
    const children = (await docker(["exec", target, "ls", "/sys/fs/cgroup/cpu"])).stdout
      .split("\n")
      .filter((l) => /^[0-9a-f]{64}$/.test(l));
    expect(children).toEqual([]);
    await waitFor(async () => !/chaosctl-fill/.test((await docker(["exec", target, "ls", "-a", "/tmp"])).stdout), {
      timeoutMs: 10_000,
      what: "the fill file gone",
    });

    const second = spawnController(w);
    cleanups.push(async () => void second.kill("SIGTERM"));
    const run = await waitFor(async () => (await w.history("stress.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 30_000,
      what: "the restarted controller records the stress",
    });
    expect(run.fault).toBe("stress");
  });

  it("--dry-run says when a memory stress reaches the task's --limit-memory, and injects nothing", async () => {
    const svc = await service(2, ["--limit-memory", "64m"]);
    const w = await ws();
    await w.write(
      "oom.yaml",
      manifest(
        "dry-oom",
        `duration: 30s\nselector: {services: [${svc.name}]}\nfault: {stress: {memory: {size: 128M}}}`,
      ),
    );
    const child = spawn(
      process.execPath,
      [BIN, "controller", "--dir", w.dir, "--instance", w.instance, "--once", "--dry-run", "--log-level", "warn"],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    cleanups.push(async () => void child.kill("SIGKILL"));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code).toBe(0);
    const run = (await w.history("oom.yaml"))[0];
    expect(run?.result).toBe("DryRun");
    expect(run?.message).toMatch(/memory stress 128MiB reaches the memory limit of service .* \(64MiB\)/);
    expect(await stressors(w)).toEqual([]);
  });
});
