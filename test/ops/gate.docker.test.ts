// The mayAct gate on the real engine: a controller that loses its lease during a pass stops at
// its next action. Nothing is killed and no run is recorded; the pass ends with LeadershipLost.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildController } from "../../src/controller/build.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { LeadershipLost } from "../../src/controller/observer.js";
import { silentLogger } from "../../src/util/log.js";
import {
  APP_IMAGE,
  createTestService,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { manifest, workspace, type Workspace } from "../e2e/harness.js";

let svc: TestService | undefined;
let w: Workspace | undefined;
beforeAll(async () => {
  await requireSwarm();
  svc = await createTestService({ replicas: 2, namePrefix: "chaosctl-ops-gate" });
  await waitFor(async () => (await runningTasks(svc!.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
  w = await workspace();
});
afterAll(async () => {
  await svc?.remove();
  await w?.cleanup();
});

describe("Controller mayAct", () => {
  it("a lease lost after the pass observed the cluster: no kill, no run recorded, LeadershipLost", async () => {
    await w!.write(
      "kill.yaml",
      manifest("gate-kill", `selector: {services: [${svc!.name}]}\nfault: {kill: {signal: SIGKILL}}`),
    );
    const engine = new DockerEngine();
    const store = new DirectoryStore({ dir: w!.dir, logger: silentLogger });
    let checks = 0;
    let leading = false;
    const controller = buildController({
      store,
      engine,
      image: APP_IMAGE,
      logger: silentLogger,
      instance: w!.instance,
      mayAct: () => leading || ++checks === 1, // leader when the pass starts, not at its first action
    });
    try {
      await expect(controller.pass()).rejects.toBeInstanceOf(LeadershipLost);
      expect(checks).toBe(2);
      expect(engine.calls["tasks.list"]).toBe(1); // it did observe
      expect(engine.calls["containers.kill"]).toBeUndefined();
      expect(await w!.status("kill.yaml")).toBeUndefined();
      expect(await runningTasks(svc!.id)).toHaveLength(2);
      // The same controller, leading again: the run happens.
      leading = true;
      const r = await controller.pass();
      expect(r.plan.actions.some((a) => a.type === "start")).toBe(true);
      expect(engine.calls["containers.kill"]).toBe(1);
      expect((await w!.history("kill.yaml"))[0]).toMatchObject({ fault: "kill", result: "Succeeded" });
    } finally {
      await store.close();
    }
  });
});
