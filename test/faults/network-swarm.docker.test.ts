// Partition between two Swarm services on an overlay network: the controller's path, for
// real. The destination service is resolved from an engine snapshot (resolveDestinations),
// the network driver applies through a guard in the target task's namespace.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, InjectionHandle } from "../../src/faults/driver.js";
import { networkDriver } from "../../src/faults/network/driver.js";
import { resolveDestinations } from "../../src/faults/network/resolve.js";
import type { ResolvedNetworkSpec } from "../../src/faults/network/spec.js";
import {
  APP_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  WEB_IMAGE,
  type TestService,
} from "../helpers/docker.js";
import { BASE_IMAGE, CLEAN, NetnsLab, owned, ping } from "./netns-fixture.js";

const engine = new DockerEngine();
const lab = new NetnsLab(); // only for the helper that reads the target's namespace
let network = "";
let a: TestService;
let b: TestService;
let aTask: { id: string; containerId: string };
let bContainer = "";
let aIp = "";
let bIp = "";

const overlayIp = async (container: string) =>
  dockerOk(["inspect", "-f", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, BASE_IMAGE, APP_IMAGE]);
  network = `chaosctl-netpart-${randomBytes(4).toString("hex")}`;
  await dockerOk(["network", "create", "-d", "overlay", "--attachable", "--label", "chaosctl-test=1", network]);
  const flags = ["--network", network, "--endpoint-mode", "dnsrr"];
  a = await createTestService({ namePrefix: "chaosctl-netpart-a", flags });
  b = await createTestService({ namePrefix: "chaosctl-netpart-b", flags });
  const [ta] = await waitFor(
    async () => {
      const t = await runningTasks(a.id);
      return t.length === 1 && t[0]?.containerId ? t : false;
    },
    { timeoutMs: 30_000, what: "service a running" },
  );
  const [tb] = await waitFor(
    async () => {
      const t = await runningTasks(b.id);
      return t.length === 1 && t[0]?.containerId ? t : false;
    },
    { timeoutMs: 30_000, what: "service b running" },
  );
  aTask = { id: ta!.id, containerId: ta!.containerId! };
  bContainer = tb!.containerId!;
  aIp = await overlayIp(aTask.containerId);
  bIp = await overlayIp(bContainer);
}, 90_000);

afterAll(async () => {
  await lab.down();
  await a?.remove();
  await b?.remove();
  if (network) await docker(["network", "rm", network]);
}, 90_000);

describe("partition between two services", () => {
  it("resolves b's task address from a snapshot, cuts a<->b while active, heals after recover", async () => {
    const snapshot = await engine.snapshot();
    const resolved = resolveDestinations(
      { network: { partition: { from: { services: [b.name] }, direction: "both" } } },
      snapshot,
      aTask.id,
    );
    expect(resolved.unresolved).toEqual([]);
    expect(resolved.spec).toEqual({ partition: { cidrs: [`${bIp}/32`], direction: "both" } });

    expect((await ping(bContainer, aIp, 3, 0.2)).received).toBe(3);
    const ctx: DriverContext = { engine, image: APP_IMAGE, now: new Date() };
    const target = {
      kind: "container" as const,
      nodeId: snapshot.selfNodeId,
      serviceId: a.id,
      serviceName: a.name,
      taskId: aTask.id,
      containerId: aTask.containerId,
    };
    const r = await networkDriver.apply(ctx, target, resolved.spec as ResolvedNetworkSpec, {
      schedule: "test/partition",
      generation: 1,
      run: randomBytes(4).toString("hex"),
      expires: new Date(Date.now() + 120_000),
    });
    expect(r.phase).toBe("Injected");
    const handle = (r as { handle: InjectionHandle }).handle;
    try {
      expect((await ping(bContainer, aIp, 3, 0.2)).received).toBe(0);
      expect((await ping(aTask.containerId, bIp, 3, 0.2)).received).toBe(0);
    } finally {
      expect(await networkDriver.recover(ctx, handle)).toEqual({ phase: "Recovered" });
    }
    expect((await ping(bContainer, aIp, 3, 0.2)).received).toBe(3);
    expect((await ping(aTask.containerId, bIp, 3, 0.2)).received).toBe(3);
    expect(await owned(await lab.helper(aTask.containerId))).toEqual(CLEAN);
  });
});
