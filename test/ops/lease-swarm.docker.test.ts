// The Swarm-config lease store on the real engine: a write at a stale version is refused, so two
// candidates never both win.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { SwarmLeaseStore, leaseConfigName } from "../../src/ops/lease/swarm.js";
import type { LeaseRecord } from "../../src/ops/lease/machine.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { requireSwarm } from "../helpers/docker.js";

const rec = (holder: string, renewTime: number): LeaseRecord => ({
  holder,
  renewTime,
  leaseDurationMs: 15_000,
  acquireTime: renewTime,
  transitions: 0,
});
const engine = new DockerEngine();
const configs: string[] = [];
afterAll(async () => {
  for (const id of configs) await engine.removeConfig(id).catch(() => undefined);
});

describe("SwarmLeaseStore on the real engine", () => {
  it("create once, update at the version read, stale version refused", async () => {
    await requireSwarm([]);
    const instance = `lease-test-${randomBytes(4).toString("hex")}`;
    const s = new SwarmLeaseStore(engine, instance, "lease-test-scope");
    expect(await s.read()).toBeUndefined();
    expect(await s.create(rec("a", 1_000))).toBe(true);
    configs.push((await engine.inspectConfig(leaseConfigName("lease-test-scope", instance))).id);
    expect(await s.create(rec("b", 1_000))).toBe(false);
    const seen = await s.read();
    expect(seen?.record).toEqual(rec("a", 1_000));
    expect(await s.update(seen?.version, rec("a", 2_000))).toBe(true);
    expect(await s.update(seen?.version, rec("b", 3_000))).toBe(false);
    const labels = (await engine.inspectConfig(leaseConfigName("lease-test-scope", instance))).labels;
    expect(labels).toMatchObject({
      "chaosctl.io/store": "lease-test-scope",
      "chaosctl.io/lease": instance,
      "chaosctl.io/lease-holder": "a",
      "chaosctl.io/lease-renew-time": new Date(2_000).toISOString(),
      "chaosctl.io/lease-duration-ms": "15000",
    });
  });

  it("one lease per store scope and instance; long names stay within Docker's 64 characters", () => {
    expect(leaseConfigName("default", "web")).toBe("chaosctl-lease.default.web");
    expect(leaseConfigName("a", "b-c")).not.toBe(leaseConfigName("a-b", "c"));
    const long = leaseConfigName("s".repeat(40), "i".repeat(40));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(leaseConfigName("s".repeat(40), "i".repeat(41)));
  });
});
