// The git store's durable records as Swarm configs on the real engine: one per schedule,
// read back by a fresh reader (a restarted controller), compare-and-swap against a stale writer.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import { recordName, SwarmRecords, type ScheduleRecord } from "../../src/store/git/records.js";
import { requireSwarm } from "../helpers/docker.js";

const engine = new DockerEngine();
const instance = `gitrec-${randomBytes(4).toString("hex")}`;

beforeAll(() => requireSwarm());
afterAll(async () => {
  for (const c of await engine.listConfigs([`chaosctl.io/instance=${instance}`]))
    await engine.removeConfig(c.id).catch(() => undefined);
});

const record = (run: string, generation = 1): ScheduleRecord => ({
  generation,
  specHash: "sha256:abc",
  status: {
    phase: "Active",
    history: [
      { run, generation, fault: "pause", result: "Running", source: { commit: "0123abc", path: "chaos/web.yaml" } },
    ],
  },
  commit: "0123abc",
  path: "chaos/web.yaml",
});

describe("SwarmRecords on the real engine", () => {
  it("writes one config per schedule and a fresh reader loads them", async () => {
    const a = new SwarmRecords(engine, instance);
    expect(await a.put("default/web", record("r1"))).toBe("written");
    expect(await a.put("default/web", record("r2"))).toBe("written");
    expect(await a.put("team/api", record("r9", 3))).toBe("written");
    const loaded = await new SwarmRecords(engine, instance).load();
    expect([...loaded.keys()].sort()).toEqual(["default/web", "team/api"]);
    expect(loaded.get("default/web")?.status.history?.[0]?.run).toBe("r2");
    expect(loaded.get("team/api")?.generation).toBe(3);
    const configs = await engine.listConfigs([`chaosctl.io/instance=${instance}`]);
    expect(configs.map((c) => c.name).sort()).toEqual(
      [recordName(instance, "default/web"), recordName(instance, "team/api")].sort(),
    );
    // Removed: gone for a fresh reader; removing again is fine.
    await a.remove("team/api");
    await a.remove("team/api");
    expect([...(await new SwarmRecords(engine, instance).load()).keys()]).toEqual(["default/web"]);
    // Another instance sees none of them.
    expect((await new SwarmRecords(engine, `${instance}-other`).load()).size).toBe(0);
  });

  it("a stale writer gets a conflict and never overwrites; after re-reading it can write", async () => {
    const a = new SwarmRecords(engine, instance);
    const b = new SwarmRecords(engine, instance);
    await a.load();
    await b.load();
    expect(await a.put("default/cas", record("from-a"))).toBe("written");
    // b never saw the config: creating it collides.
    expect(await b.put("default/cas", record("from-b"))).toBe("conflict");
    expect((await new SwarmRecords(engine, instance).load()).get("default/cas")?.status.history?.[0]?.run).toBe(
      "from-a",
    );
    expect(await a.put("default/cas", record("from-a-2"))).toBe("written");
    // b's version is stale now.
    expect(await b.put("default/cas", record("from-b-2"))).toBe("conflict");
    expect((await new SwarmRecords(engine, instance).load()).get("default/cas")?.status.history?.[0]?.run).toBe(
      "from-a-2",
    );
    // b re-read the version on the conflict: its next write is based on what it has seen.
    expect(await b.put("default/cas", record("from-b-3"))).toBe("written");
  });

  it("a large history (50 runs) fits in the label", async () => {
    const big: ScheduleRecord = {
      ...record("x"),
      status: {
        phase: "Idle",
        history: Array.from({ length: 50 }, (_, i) => ({
          run: `run-${i}-${"x".repeat(40)}`,
          generation: 1,
          fault: "pause",
          result: "Succeeded",
          message: "m".repeat(300),
        })),
      },
    };
    const a = new SwarmRecords(engine, instance);
    expect(await a.put("default/big", big)).toBe("written");
    expect((await new SwarmRecords(engine, instance).load()).get("default/big")?.status.history).toHaveLength(50);
  });
});
