// Swarm configs through DockerEngine (SwarmConfigs) on the real engine: the compare-and-swap
// the config store, the controller lease and the controller's records rely on.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import { ConfigNameConflict, ConfigNotFound, VersionConflict } from "../../src/engine/errors.js";
import { requireSwarm } from "../helpers/docker.js";

const engine = new DockerEngine();
const created: string[] = [];
const name = (): string => `chaosctl-test-cfg-${randomBytes(4).toString("hex")}`;

beforeAll(() => requireSwarm());
afterAll(async () => {
  for (const id of created) await engine.removeConfig(id).catch(() => undefined);
});

describe("Swarm configs on the real engine", () => {
  it("creates, lists by label, and reads back data and labels", async () => {
    const n = name();
    const id = await engine.createConfig(n, "kind: ChaosSchedule\n# é ünicode\n", {
      "chaosctl-test": "configs",
      "chaosctl.io/name": n,
    });
    created.push(id);
    const got = await engine.inspectConfig(n);
    expect(got).toMatchObject({
      id,
      name: n,
      data: "kind: ChaosSchedule\n# é ünicode\n",
      labels: { "chaosctl.io/name": n },
    });
    expect(got.version).toBeGreaterThan(0);
    const listed = await engine.listConfigs([`chaosctl.io/name=${n}`]);
    expect(listed.map((c) => c.id)).toEqual([id]);
    await expect(engine.createConfig(n, "x", {})).rejects.toBeInstanceOf(ConfigNameConflict);
  });

  it("updates labels only at the current version: a stale version is a VersionConflict", async () => {
    const n = name();
    const id = await engine.createConfig(n, "data stays", { "chaosctl-test": "configs" });
    created.push(id);
    const v1 = (await engine.inspectConfig(id)).version;
    const status = JSON.stringify({ phase: "Active", note: "x".repeat(4000) });
    await engine.updateConfigLabels(id, v1, { "chaosctl-test": "configs", "chaosctl.io/status": status });
    const after = await engine.inspectConfig(id);
    expect(after.version).toBeGreaterThan(v1);
    expect(after.labels["chaosctl.io/status"]).toBe(status);
    expect(after.data).toBe("data stays");
    await expect(engine.updateConfigLabels(id, v1, { "chaosctl-test": "configs" })).rejects.toBeInstanceOf(
      VersionConflict,
    );
    expect((await engine.inspectConfig(id)).labels["chaosctl.io/status"]).toBe(status);
  });

  it("remove makes it gone: inspect and remove again are ConfigNotFound", async () => {
    const id = await engine.createConfig(name(), "bye", { "chaosctl-test": "configs" });
    await engine.removeConfig(id);
    await expect(engine.inspectConfig(id)).rejects.toBeInstanceOf(ConfigNotFound);
    await expect(engine.removeConfig(id)).rejects.toBeInstanceOf(ConfigNotFound);
  });
});
