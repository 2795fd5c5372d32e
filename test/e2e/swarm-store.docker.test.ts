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
import { scopeFilters, STATUS_LABEL, STORE_LABEL } from "../../src/store/swarm/labels.js";
import { SwarmConfigStore } from "../../src/store/swarm/store.js";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  requireSwarm,
  runningTasks,
  waitFor,
} from "../helpers/docker.js";
import { manifest } from "./harness.js";

const BIN = resolve("dist/src/cli/main.js");
const engine = new DockerEngine();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
});
beforeAll(() => requireSwarm([WEB_IMAGE, APP_IMAGE]));

function spawnSwarmController(scope: string, instance: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "controller",
      "--store",
      "swarm",
      "--instance",
      instance,
      "--log-level",
      process.env.CHAOSCTL_TEST_LOG ?? "warn",
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, CHAOSCTL_SWARM_SCOPE: scope },
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
  return child;
}

describe("controller --store swarm", () => {
  // Up to 150 s: the controller may notice a service healed only at its 30 s periodic relist when
  // no Docker event wakes it.
  it(
    "runs a kill schedule applied as a Swarm config, and writes the run's history into that config",
    { timeout: 150_000 },
    async () => {
      const scope = `e2e-${randomBytes(4).toString("hex")}`;
      const instance = `e2e-${randomBytes(4).toString("hex")}`;
      // The schedule's configs and the controller's leader lease, all labelled with the test's scope.
      cleanups.push(async () => {
        for (const c of await engine.listConfigs([`${STORE_LABEL}=${scope}`]))
          await engine.removeConfig(c.id).catch(() => undefined);
      });
      const svc = await createTestService({ replicas: 2, namePrefix: "chaosctl-e2e" });
      cleanups.push(() => svc.remove());
      await waitFor(async () => (await runningTasks(svc.id)).length === 2, {
        timeoutMs: 30_000,
        what: "2 running tasks",
      });
      const before = (await runningTasks(svc.id)).map((t) => t.id);

      const store = new SwarmConfigStore({ engine, scope });
      const child = spawnSwarmController(scope, instance);
      await new Promise((r) => setTimeout(r, 3_000)); // the controller is up and watching config events
      const m = parse(
        manifest("kill", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}`),
      ) as ChaosSchedule;
      const appliedAt = Date.now();
      expect(await store.apply(m, { origin: { appliedBy: "e2e@test" } })).toMatchObject({
        result: "created",
        generation: 1,
      });

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
      // Woken by the config event, not by the 30 s periodic relist.
      expect(Date.parse(run.startedAt ?? "") - appliedAt).toBeLessThan(10_000);
      // A task really died and Swarm replaced it.
      await waitFor(async () => (await serviceTaskIds(svc.id)).some((id) => !before.includes(id)), {
        timeoutMs: 30_000,
        what: "a replacement task",
      });
      expect(run.tasks?.every((t) => before.includes(t))).toBe(true);
      // The history is in the config's own status label, at generation 1.
      let cfgs = await engine.listConfigs(scopeFilters(scope)); // the schedule's configs (the leader lease has the scope label too)
      expect(cfgs).toHaveLength(1);
      const label = JSON.parse(cfgs[0]?.labels[STATUS_LABEL] ?? "{}") as {
        observedGeneration?: number;
        history?: unknown[];
      };
      expect(label.observedGeneration).toBe(1);
      expect(label.history).toHaveLength(1);

      // A spec change while it runs (after the service healed, or safety would skip the run):
      // generation 2 (an @once schedule fires once per generation), the first run's history carried
      // into the new config, the old config removed.
      const m2 = parse(
        manifest("kill", `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGTERM}}`),
      ) as ChaosSchedule;
      expect(await store.apply(m2, { origin: { appliedBy: "e2e@test" } })).toMatchObject({
        result: "configured",
        generation: 2,
      });
      const history = await waitFor(
        async () => {
          const s = (await store.list()).manifests.find((x) => x.key === "default/kill")?.status;
          const h = s?.history ?? [];
          return s?.observedGeneration === 2 && h.length === 2 && h.every((r) => r.result === "Succeeded")
            ? h
            : undefined;
        },
        { timeoutMs: 60_000, what: "the generation-2 run recorded beside the first one" },
      );
      expect(history.map((r) => r.generation)).toEqual([1, 2]);
      cfgs = await engine.listConfigs(scopeFilters(scope));
      expect(cfgs.map((c) => c.labels["chaosctl.io/generation"])).toEqual(["2"]);
    },
  );
});

async function serviceTaskIds(serviceId: string): Promise<string[]> {
  const r = await docker(["service", "ps", "-q", "--no-trunc", serviceId]);
  return r.stdout.split("\n").filter(Boolean);
}
