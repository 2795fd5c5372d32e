// `chaosctl controller --store swarm` (the compiled bin, its own process) on the real one-node
// Swarm: a schedule applied into Swarm configs kills a task of a test service, Swarm heals it,
// and the run's history is written back into the schedule's config. Its own store scope
// (CHAOSCTL_SWARM_SCOPE) and controller instance; everything removed by id.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ChaosSchedule } from "../../src/api/types.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { STATUS_LABEL, STORE_LABEL } from "../../src/store/swarm/labels.js";
import { SwarmConfigStore } from "../../src/store/swarm/store.js";
import { APP_IMAGE, WEB_IMAGE, createTestService, docker, requireSwarm, runningTasks, waitFor } from "../helpers/docker.js";
import { manifest } from "./harness.js";

const BIN = resolve("dist/src/cli/main.js");
const engine = new DockerEngine();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.().catch(() => undefined);
});
beforeAll(() => requireSwarm([WEB_IMAGE, APP_IMAGE]));

function spawnSwarmController(scope: string, instance: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, "controller", "--store", "swarm", "--instance", instance, "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CHAOSCTL_SWARM_SCOPE: scope },
  });
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
  return child;
}

describe("controller --store swarm", () => {
  it("runs a kill schedule applied as a Swarm config, and writes the run's history into that config", async () => {
    const scope = `e2e-${randomBytes(4).toString("hex")}`;
    const instance = `e2e-${randomBytes(4).toString("hex")}`;
    cleanups.push(async () => {
      for (const c of await engine.listConfigs([`${STORE_LABEL}=${scope}`])) await engine.removeConfig(c.id).catch(() => undefined);
    });
    const svc = await createTestService({ replicas: 2, namePrefix: "chaosctl-e2e" });
    cleanups.push(() => svc.remove());
    await waitFor(async () => (await runningTasks(svc.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
    const before = (await runningTasks(svc.id)).map((t) => t.id);

    const store = new SwarmConfigStore({ engine, scope });
    const m = parse(manifest("kill", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}`)) as ChaosSchedule;
    expect(await store.apply(m, { origin: { appliedBy: "e2e@test" } })).toMatchObject({ result: "created", generation: 1 });

    const child = spawnSwarmController(scope, instance);
    const run = await waitFor(
      async () => {
        const s = (await store.list()).manifests.find((x) => x.key === "default/kill")?.status;
        return s?.history?.find((r) => r.recovery === "Recovered");
      },
      { timeoutMs: 60_000, what: "a recovered kill run in the config's status" },
    );
    expect(child.exitCode).toBeNull(); // still running
    expect(run).toMatchObject({ fault: "kill", result: "Succeeded", targets: 1, services: [svc.name] });
    expect(run.recoverySeconds).toBeGreaterThan(0);
    // A task really died and Swarm replaced it.
    const after = await serviceTaskIds(svc.id);
    expect(after.filter((id) => !before.includes(id)).length).toBeGreaterThanOrEqual(1);
    // The history is in the config's own status label, at generation 1.
    const [cfg] = await engine.listConfigs([`${STORE_LABEL}=${scope}`]);
    const label = JSON.parse(cfg?.labels[STATUS_LABEL] ?? "{}") as { observedGeneration?: number; history?: unknown[] };
    expect(label.observedGeneration).toBe(1);
    expect(label.history?.length).toBeGreaterThanOrEqual(1);
  });
});

async function serviceTaskIds(serviceId: string): Promise<string[]> {
  const r = await docker(["service", "ps", "-q", "--no-trunc", serviceId]);
  return r.stdout.split("\n").filter(Boolean);
}
