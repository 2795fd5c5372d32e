// Safety guards on the real one-node Swarm: protected services, opt-in, chaosctl's own
// services (controller, agents) and --dry-run. Each test runs single controller passes with its
// own instance; services are the test's own, removed by id.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildController } from "../../src/controller/build.js";
import type { Controller } from "../../src/controller/controller.js";
import type { PlanConfig } from "../../src/controller/plan.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { createLogger } from "../../src/util/log.js";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { eventClock, serviceContainerEvents } from "../helpers/events.js";
import { manifest, workspace, type Workspace } from "./harness.js";

/** Docker API operations that change nothing (every other counted operation mutates). */
const READ_OPS = new Set([
  "info",
  "nodes.list",
  "nodes.inspect",
  "services.list",
  "tasks.list",
  "containers.list",
  "containers.inspect",
  "containers.logs",
  "containers.wait",
  "exec.inspect",
  "images.inspect",
  "ping",
  "events",
  "configs.list",
  "configs.inspect",
  "system.info",
]);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
beforeAll(async () => requireSwarm([WEB_IMAGE, APP_IMAGE]));

async function service(replicas: number, labels: Record<string, string> = {}): Promise<TestService> {
  const svc = await createTestService({ replicas, labels, namePrefix: "chaosctl-safety" });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks of ${svc.name}`,
  });
  return svc;
}

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

function controllerOn(
  w: Workspace,
  config: Partial<PlanConfig>,
  clock?: () => Date,
): { controller: Controller; engine: DockerEngine } {
  const logger = createLogger(process.env.CHAOSCTL_TEST_LOG ?? "silent");
  const store = new DirectoryStore({ dir: w.dir, logger });
  cleanups.push(() => store.close());
  const engine = new DockerEngine();
  const controller = buildController({
    store,
    engine,
    image: APP_IMAGE,
    logger,
    instance: w.instance,
    config,
    ...(clock ? { clock } : {}),
  });
  return { controller, engine };
}

const mutating = (calls: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(calls).filter(([op]) => !READ_OPS.has(op)));
const taskIds = async (svc: TestService): Promise<string[]> => (await runningTasks(svc.id)).map((t) => t.id).sort();

describe("safety guards on a real Swarm", () => {
  it("--dry-run plans, records DryRun runs with the chosen targets, and makes no mutating engine call", async () => {
    const svc = await service(2);
    const before = await taskIds(svc);
    const w = await ws();
    await w.write(
      "kill.yaml",
      manifest(
        "kill",
        `selector: {services: [${svc.name}], mode: all}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
      ),
    );
    await w.write(
      "pause.yaml",
      manifest(
        "pause",
        `schedule: "@every 1s"\nduration: 5s\nselector: {services: [${svc.name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
      ),
    );
    // Time is the controller's parameter: three passes 1.1 s apart on its clock (dry-run
    // injects nothing, so no guard's real timer is involved), instead of sleeping through them.
    let now = Date.now();
    const { controller, engine } = controllerOn(w, { dryRun: true }, () => new Date(now));
    for (let i = 0; i < 3; i++) {
      await controller.pass();
      now += 1100;
    }
    expect(mutating(engine.calls)).toEqual({});
    expect(Object.keys(engine.calls).length).toBeGreaterThan(0); // it did look at the cluster
    const kill = await w.history("kill.yaml");
    expect(kill).toHaveLength(1);
    expect(kill[0]).toMatchObject({ result: "DryRun", fault: "kill", targets: 2, services: [svc.name] });
    expect([...(kill[0]?.tasks ?? [])].sort()).toEqual(before);
    expect(kill[0]?.message).toMatch(/would inject kill/);
    const pause = await w.history("pause.yaml");
    expect(pause.length).toBeGreaterThanOrEqual(2); // @every keeps planning: one record per due run
    // The first pass's planned kill (all tasks) leaves the pause nothing to take: Skipped, as it would be.
    expect(pause.every((r) => r.result === "DryRun" || r.result === "Skipped")).toBe(true);
    expect(pause.filter((r) => r.result === "DryRun" && r.targets === 1).length).toBeGreaterThanOrEqual(1);
    // Nothing happened to the service: the same tasks run, nothing paused.
    expect(await taskIds(svc)).toEqual(before);
  });

  it("never targets a service labelled chaosctl.io/protected=true, nor chaosctl's own controller and agent services", async () => {
    const [plain, guarded, ctl, agent] = await Promise.all([
      service(1),
      service(1, { "chaosctl.io/protected": "true" }),
      service(1, { "chaosctl.io/role": "controller" }),
      service(1, { "chaosctl.io/role": "agent" }),
    ]);
    const shielded = [guarded, ctl, agent];
    const before = await Promise.all(shielded.map(taskIds));
    const w = await ws();
    const names = [plain, ...shielded].map((s) => s.name).join(", ");
    await w.write(
      "all.yaml",
      manifest(
        "all",
        `selector: {services: [${names}], mode: all}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
      ),
    );
    const { controller } = controllerOn(w, {});
    await controller.pass();
    const run = (await w.history("all.yaml"))[0];
    expect(run).toMatchObject({ result: "Succeeded", targets: 1, services: [plain.name] });
    // Let Swarm show any kill that happened, then: the shielded services still run the same tasks.
    await waitFor(
      async () => (await taskIds(plain)).length === 1 && !(await taskIds(plain)).includes(run?.tasks?.[0] ?? ""),
      { timeoutMs: 30_000, what: "the plain service's task replaced" },
    );
    expect(await Promise.all(shielded.map(taskIds))).toEqual(before);
  });

  it("with --require-opt-in targets only services labelled chaosctl.io/enabled=true", async () => {
    const [off, on] = await Promise.all([service(1), service(1, { "chaosctl.io/enabled": "true" })]);
    const offBefore = await taskIds(off);
    const w = await ws();
    await w.write(
      "both.yaml",
      manifest(
        "both",
        `selector: {services: [${off.name}, ${on.name}], mode: all}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
      ),
    );
    await w.write(
      "off.yaml",
      manifest(
        "off",
        `selector: {services: [${off.name}]}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
      ),
    );
    const { controller } = controllerOn(w, { requireOptIn: true });
    const since = eventClock();
    await controller.pass();
    expect((await w.history("both.yaml"))[0]).toMatchObject({ result: "Succeeded", targets: 1, services: [on.name] });
    expect((await w.history("off.yaml"))[0]).toMatchObject({ result: "Skipped", targets: 0 });
    // The engine's record, not a wait: the killed task was `on`'s, and `off`'s saw no kill.
    expect(await serviceContainerEvents(on.name, since, ["kill"])).not.toEqual([]);
    expect(await serviceContainerEvents(off.name, since, ["kill", "die"])).toEqual([]);
    expect(await taskIds(off)).toEqual(offBefore);
  });

  it("--kill-switch (config) reverts this instance's active pause and starts nothing", async () => {
    const svc = await service(1);
    const w = await ws();
    await w.write(
      "pause.yaml",
      manifest(
        "pause",
        `duration: 60s\nselector: {services: [${svc.name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
      ),
    );
    await controllerOn(w, {}).controller.pass();
    const [task] = await runningTasks(svc.id);
    const container = task?.containerId ?? "";
    const state = (): Promise<string> => dockerOk(["inspect", "-f", "{{.State.Status}}", container]);
    await waitFor(async () => (await state()) === "paused", { timeoutMs: 20_000, what: "the target paused" });
    const { controller } = controllerOn(w, { killSwitch: true });
    await controller.pass();
    expect(await state()).toBe("running");
    await w.write(
      "again.yaml",
      manifest(
        "again",
        `selector: {services: [${svc.name}]}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
      ),
    );
    await controller.pass();
    expect(await w.history("again.yaml")).toEqual([]);
  });
});
