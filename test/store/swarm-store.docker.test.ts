// The Swarm config store on the real engine (one-node Swarm): every test uses its own store
// scope (label chaosctl.io/store=<random>) and removes the configs of that scope by id.
import { randomBytes } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DockerEngine } from "../../src/engine/docker.js";
import type { ConfigInfo } from "../../src/engine/engine.js";
import { VersionConflict } from "../../src/engine/errors.js";
import type { ChaosSchedule, ChaosScheduleStatus } from "../../src/api/types.js";
import { SwarmConfigStore, type ConfigEngine } from "../../src/store/swarm/store.js";
import {
  configName,
  GENERATION_LABEL,
  KIND_LABEL,
  METADATA_LABEL,
  NAME_LABEL,
  NAMESPACE_LABEL,
  STATUS_FROM_LABEL,
  STATUS_LABEL,
  STORE_LABEL,
} from "../../src/store/swarm/labels.js";
import { ManifestRejected } from "../../src/store/store.js";
import { requireSwarm } from "../helpers/docker.js";
import { manifest } from "./fixtures.js";

const engine = new DockerEngine();
const scopes: string[] = [];
const origin = { appliedBy: "tester@ci" };

beforeAll(() => requireSwarm([]));
afterEach(async () => {
  for (const scope of scopes.splice(0)) {
    for (const c of await engine.listConfigs([`${STORE_LABEL}=${scope}`]))
      await engine.removeConfig(c.id).catch(() => undefined);
  }
});

function newScope(): string {
  const s = `t-${randomBytes(5).toString("hex")}`;
  scopes.push(s);
  return s;
}

function storeOf(
  scope: string,
  e: ConfigEngine = engine,
  extra: Partial<ConstructorParameters<typeof SwarmConfigStore>[0]> = {},
): SwarmConfigStore {
  return new SwarmConfigStore({ engine: e, scope, debounceMs: 20, ...extra });
}

/** The real engine, counting the version conflicts its updates meet. */
function counting(): { engine: ConfigEngine; conflicts: () => number } {
  let n = 0;
  return {
    conflicts: () => n,
    engine: {
      listConfigs: (f) => engine.listConfigs(f),
      inspectConfig: (id) => engine.inspectConfig(id),
      createConfig: (name, d, l) => engine.createConfig(name, d, l),
      removeConfig: (id) => engine.removeConfig(id),
      events: (...args) => engine.events(...args),
      updateConfigLabels: async (id, version, labels) => {
        try {
          await engine.updateConfigLabels(id, version, labels);
        } catch (err) {
          if (err instanceof VersionConflict) n++;
          throw err;
        }
      },
    },
  };
}

function obj(text: string): ChaosSchedule {
  return parse(text) as ChaosSchedule;
}

function withLabels(text: string, labels: Record<string, string>): ChaosSchedule {
  const m = obj(text);
  m.metadata.labels = labels;
  return m;
}

const st = (
  phase: ChaosScheduleStatus["phase"],
  observedGeneration: number,
  extra: Partial<ChaosScheduleStatus> = {},
): ChaosScheduleStatus => ({ observedGeneration, phase, ...extra });

async function configsOf(scope: string): Promise<ConfigInfo[]> {
  return engine.listConfigs([`${STORE_LABEL}=${scope}`]);
}

describe("SwarmConfigStore round trips", () => {
  it("apply → list → writeStatus → labels-only apply → spec change (new generation, status carried) → delete", async () => {
    const scope = newScope();
    const store = storeOf(scope);
    expect(await store.apply(obj(manifest("web-kill")), { origin })).toEqual({
      result: "created",
      key: "default/web-kill",
      generation: 1,
    });
    const [cfg] = await configsOf(scope);
    expect(cfg?.name).toBe(configName(scope, "default/web-kill", 1));
    expect(cfg?.labels).toMatchObject({
      [KIND_LABEL]: "ChaosSchedule",
      [NAMESPACE_LABEL]: "default",
      [NAME_LABEL]: "web-kill",
      [GENERATION_LABEL]: "1",
    });
    expect(parse(cfg?.data ?? "")).toMatchObject({
      metadata: { name: "web-kill", generation: 1, annotations: { "chaosctl.io/applied-by": "tester@ci" } },
      spec: { selector: { services: ["web"] } },
    });

    let snap = await store.list();
    expect(snap.invalid).toEqual([]);
    expect(snap.manifests).toHaveLength(1);
    const m = snap.manifests[0];
    expect(m?.source).toEqual({ store: "swarm", configId: cfg?.id, configName: cfg?.name });
    expect(m?.manifest.metadata.generation).toBe(1);
    expect(m?.manifest.spec.schedule).toBe("@once"); // defaulted like any loaded manifest

    expect(await store.writeStatus("default/web-kill", 1, st("Active", 1))).toBe("written");
    expect(await store.writeStatus("default/web-kill", 1, st("Active", 1))).toBe("unchanged");
    expect((await store.list()).manifests[0]?.status).toEqual(st("Active", 1));

    expect(await store.apply(obj(manifest("web-kill")), { origin })).toMatchObject({
      result: "unchanged",
      generation: 1,
    });
    expect(await store.apply(withLabels(manifest("web-kill"), { team: "web" }), { origin })).toMatchObject({
      result: "configured",
      generation: 1,
    });
    snap = await store.list();
    expect(snap.manifests[0]?.manifest.metadata.labels).toEqual({ team: "web" });
    expect(snap.manifests[0]?.status).toEqual(st("Active", 1)); // kept
    expect((await configsOf(scope)).map((c) => c.id)).toEqual([cfg?.id]); // same config, same generation

    expect(
      await store.apply(withLabels(manifest("web-kill", { services: "api" }), { team: "web" }), { origin }),
    ).toMatchObject({ result: "configured", generation: 2 });
    const after = await configsOf(scope);
    expect(after.map((c) => c.labels[GENERATION_LABEL])).toEqual(["2"]); // the old generation is gone
    snap = await store.list();
    expect(snap.manifests[0]?.manifest.metadata.generation).toBe(2);
    expect(snap.manifests[0]?.manifest.spec.selector.services).toEqual(["api"]);
    expect(snap.manifests[0]?.manifest.metadata.labels).toEqual({ team: "web" });
    expect(snap.manifests[0]?.status).toEqual(st("Active", 1)); // carried to the new generation
    expect(await store.writeStatus("default/web-kill", 1, st("Idle", 1))).toBe("conflict"); // not current any more
    expect(await store.writeStatus("default/web-kill", 2, st("Idle", 2))).toBe("written");

    expect(await store.delete("default/web-kill", { dryRun: true })).toBe("deleted");
    expect(await configsOf(scope)).toHaveLength(1);
    expect(await store.delete("default/web-kill")).toBe("deleted");
    expect(await configsOf(scope)).toHaveLength(0);
    expect(await store.delete("default/web-kill")).toBe("notfound");
    expect(await store.writeStatus("default/web-kill", 2, st("Idle", 2))).toBe("gone");
    expect((await store.list()).manifests).toEqual([]);
  });

  it("dry-run answers without writing; an invalid manifest is rejected whole; suspend/resume are spec changes", async () => {
    const scope = newScope();
    const store = storeOf(scope);
    expect(await store.apply(obj(manifest("a", { namespace: "team" })), { dryRun: true, origin })).toMatchObject({
      result: "created",
      key: "team/a",
    });
    expect(await configsOf(scope)).toHaveLength(0);
    const bad = obj(manifest("a"));
    (bad.spec as unknown as Record<string, unknown>).fault = { kill: {}, pause: {} };
    await expect(store.apply(bad, { origin })).rejects.toBeInstanceOf(ManifestRejected);
    expect(await configsOf(scope)).toHaveLength(0);

    await store.apply(obj(manifest("a", { namespace: "team" })), { origin });
    expect(await store.patchSpec("team/a", { suspend: true }, { dryRun: true, origin })).toBe("configured");
    expect((await configsOf(scope))[0]?.labels[GENERATION_LABEL]).toBe("1");
    expect(await store.patchSpec("team/a", { suspend: true }, { origin })).toBe("configured");
    expect(await store.patchSpec("team/a", { suspend: true }, { origin })).toBe("unchanged");
    let m = (await store.list()).manifests[0];
    expect(m?.manifest.spec.suspend).toBe(true);
    expect(m?.manifest.metadata.generation).toBe(2);
    expect(await store.patchSpec("team/a", { suspend: false }, { origin })).toBe("configured");
    m = (await store.list()).manifests[0];
    expect(m?.manifest.spec.suspend).toBe(false);
    expect(m?.manifest.metadata.generation).toBe(3);
    expect(await store.patchSpec("team/nope", { suspend: true }, { origin })).toBe("notfound");
  });

  it("a config made by hand with bad data is an InvalidManifest naming the config; list never throws; reportInvalid marks it once", async () => {
    const scope = newScope();
    const store = storeOf(scope);
    await store.apply(obj(manifest("good")), { origin });
    const base = { [STORE_LABEL]: scope, [KIND_LABEL]: "ChaosSchedule" };
    const bad = await engine.createConfig(`chaosctl.test-${scope}-bad`, "spec: [unclosed", {
      ...base,
      [NAMESPACE_LABEL]: "default",
      [NAME_LABEL]: "bad",
      [GENERATION_LABEL]: "1",
    });
    const wrong = await engine.createConfig(`chaosctl.test-${scope}-nolabels`, manifest("x"), base);
    const snap = await store.list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/good"]);
    const names = snap.invalid.map((i) => i.source.store === "swarm" && i.source.configName).sort();
    expect(names).toEqual([`chaosctl.test-${scope}-bad`, `chaosctl.test-${scope}-nolabels`]);
    const badOne = snap.invalid.find((i) => i.key === "default/bad");
    expect(badOne?.source).toMatchObject({ store: "swarm", configId: bad });
    expect(badOne?.problems[0]?.file).toBe(`swarm config chaosctl.test-${scope}-bad`);
    expect(snap.invalid.find((i) => i.key === undefined)?.problems[0]?.message).toMatch(/labels .* are required/);
    expect(wrong).toBeTruthy();

    const now = new Date("2026-01-01T00:00:00Z");
    expect(await store.reportInvalid("default/bad", "1:7 spec: bad", now)).toBe("written");
    await store.list();
    expect(await store.reportInvalid("default/bad", "1:7 spec: bad", new Date())).toBe("unchanged");
    const label = (await engine.inspectConfig(bad)).labels[STATUS_LABEL] ?? "";
    expect(JSON.parse(label)).toMatchObject({
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "InvalidSpec",
          message: "1:7 spec: bad",
          lastTransitionTime: now.toISOString(),
        },
      ],
    });
    // Applying a valid manifest over it replaces it by the next generation.
    expect(await store.apply(obj(manifest("bad")), { origin })).toMatchObject({ result: "configured", generation: 2 });
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/bad", "default/good"]);
  });
});

describe("SwarmConfigStore list cache", () => {
  it("a config changed elsewhere is decoded again; what callers hold is their own copy", async () => {
    const scope = newScope();
    const store = storeOf(scope);
    await store.apply(obj(manifest("cache")), { origin });
    const first = (await store.list()).manifests[0];
    if (!first) throw new Error("not listed");
    first.manifest.spec.selector.services = ["mutated"];
    const second = (await store.list()).manifests[0];
    expect(second?.manifest.spec.selector.services).toEqual(["web"]);
    // Changed by another process: the new version is decoded again.
    await storeOf(scope).apply(withLabels(manifest("cache"), { v: "2" }), { origin });
    expect((await store.list()).manifests[0]?.manifest.metadata.labels).toEqual({ v: "2" });
  });
});

describe("SwarmConfigStore concurrency", () => {
  it("a crash between creating the next generation and removing the old one: list resolves by generation, carries a later status, removes the old", async () => {
    const scope = newScope();
    const store = storeOf(scope);
    await store.apply(obj(manifest("c")), { origin });
    expect(await store.writeStatus("default/c", 1, st("Active", 1))).toBe("written");
    const old = (await configsOf(scope))[0];
    if (!old) throw new Error("no config");
    // Step 1 of a generation change, as a crashed apply left it: generation 2 with a copy of the status.
    const data = manifest("c", { services: "api" });
    await engine.createConfig(configName(scope, "default/c", 2), data, {
      ...Object.fromEntries(Object.entries(old.labels).filter(([k]) => k !== STATUS_LABEL)),
      [GENERATION_LABEL]: "2",
      [STATUS_LABEL]: old.labels[STATUS_LABEL] ?? "",
      [STATUS_FROM_LABEL]: String(old.version),
    });
    // A status write that lands on the old generation after the copy (a controller that had not seen it yet).
    const later = st("Completed", 1, { history: [{ run: "r1", result: "Succeeded" } as never] });
    await engine.updateConfigLabels(old.id, old.version, { ...old.labels, [STATUS_LABEL]: JSON.stringify(later) });

    const snap = await store.list();
    expect(snap.manifests).toHaveLength(1);
    expect(snap.manifests[0]?.manifest.metadata.generation).toBe(2);
    expect(snap.manifests[0]?.status).toEqual(later); // carried, not lost
    const left = await configsOf(scope);
    expect(left.map((c) => c.labels[GENERATION_LABEL])).toEqual(["2"]);
  });

  it("a status write racing a labels-only apply loses neither (50 interleavings)", async () => {
    const scope = newScope();
    const counted = counting();
    const writer = storeOf(scope, counted.engine); // the controller
    const cli = storeOf(scope, counted.engine); // another process applying
    await cli.apply(obj(manifest("race")), { origin });
    for (let i = 0; i < 50; i++) {
      const status = st("Active", 1, {
        lastScheduleTime: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
        conditions: [{ type: "Ready", status: "True", reason: `R${i}` }],
      });
      const labels = { round: String(i) };
      // Start them in either order, a few ms apart or together.
      const delay = (i % 5) * 3;
      const [w, a] = await Promise.all([
        new Promise((r) => setTimeout(r, i % 2 === 0 ? 0 : delay)).then(() =>
          writer.writeStatus("default/race", 1, status),
        ),
        new Promise((r) => setTimeout(r, i % 2 === 0 ? delay : 0)).then(() =>
          cli.apply(withLabels(manifest("race"), labels), { origin }),
        ),
      ]);
      expect(w).toBe("written");
      expect(a.result).toBe("configured");
      const m = (await writer.list()).manifests[0];
      expect(m?.status).toEqual(status);
      expect(m?.manifest.metadata.labels).toEqual(labels);
      expect(m?.manifest.metadata.generation).toBe(1);
    }
    // The two really collided (each collision was retried on fresh state, as asserted above).
    console.log(`labels-only race: ${counted.conflicts()} version conflicts in 50 rounds`);
    expect(counted.conflicts()).toBeGreaterThan(0);
  });

  it("a status write racing a spec change: the status is either refused (conflict) or ends up on the new generation (30 interleavings)", async () => {
    const scope = newScope();
    const counted = counting();
    const writer = storeOf(scope, counted.engine);
    const cli = storeOf(scope, counted.engine);
    await cli.apply(obj(manifest("spec")), { origin });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const gen = (await writer.list()).manifests[0]?.manifest.metadata.generation ?? 0;
      const status = st("Active", gen, { conditions: [{ type: "Ready", status: "True", reason: `R${i}` }] });
      const delay = (i % 6) * 2;
      const [w, a] = await Promise.all([
        new Promise((r) => setTimeout(r, i % 2 === 0 ? 0 : delay)).then(() =>
          writer.writeStatus("default/spec", gen, status),
        ),
        new Promise((r) => setTimeout(r, i % 2 === 0 ? delay : 0)).then(() =>
          cli.apply(obj(manifest("spec", { services: `svc${i}` })), { origin }),
        ),
      ]);
      expect(a).toMatchObject({ result: "configured", generation: gen + 1 });
      outcomes.set(w, (outcomes.get(w) ?? 0) + 1);
      const snap = await writer.list();
      expect(snap.manifests).toHaveLength(1);
      const m = snap.manifests[0];
      expect(m?.manifest.metadata.generation).toBe(gen + 1);
      expect(m?.manifest.spec.selector.services).toEqual([`svc${i}`]);
      if (w === "written")
        expect(m?.status).toEqual(status); // written before the change: carried
      else expect(w).toBe("conflict");
      expect((await configsOf(scope)).length).toBe(1);
    }
    console.log(
      `spec-change race: ${JSON.stringify(Object.fromEntries(outcomes))}, ${counted.conflicts()} version conflicts`,
    );
    expect(outcomes.get("written") ?? 0).toBeGreaterThan(0);
  });

  it("a VersionConflict re-reads and retries on fresh state, keeping the other writer's change", async () => {
    const scope = newScope();
    await storeOf(scope).apply(obj(manifest("v")), { origin });
    let injected = 0;
    let conflicts = 0;
    // An engine where someone else changes the config's labels right before our first update.
    const racing: ConfigEngine = {
      listConfigs: (f) => engine.listConfigs(f),
      inspectConfig: (id) => engine.inspectConfig(id),
      createConfig: (n, d, l) => engine.createConfig(n, d, l),
      removeConfig: (id) => engine.removeConfig(id),
      events: (...args) => engine.events(...args),
      updateConfigLabels: async (id, version, labels) => {
        if (injected === 0) {
          injected++;
          const c = await engine.inspectConfig(id);
          await engine.updateConfigLabels(id, c.version, {
            ...c.labels,
            [METADATA_LABEL]: JSON.stringify({ labels: { by: "other" } }),
          });
        }
        try {
          await engine.updateConfigLabels(id, version, labels);
        } catch (err) {
          if (err instanceof VersionConflict) conflicts++;
          throw err;
        }
      },
    };
    const store = storeOf(scope, racing);
    expect(await store.writeStatus("default/v", 1, st("Active", 1))).toBe("written");
    expect(conflicts).toBe(1);
    const m = (await store.list()).manifests[0];
    expect(m?.status).toEqual(st("Active", 1));
    expect(m?.manifest.metadata.labels).toEqual({ by: "other" }); // not overwritten
  });
});

describe("SwarmConfigStore limits and watch", () => {
  it("a large status is compressed; one too large for the label drops its oldest history with a StatusTrimmed condition", async () => {
    const scope = newScope();
    const store = storeOf(scope, engine, { statusLimit: 64 * 1024 });
    await store.apply(obj(manifest("big")), { origin });
    const mid = st("Active", 1, {
      history: Array.from(
        { length: 50 },
        (_, i) => ({ run: `run-${i}`, result: "Succeeded", message: "m".repeat(600) }) as never,
      ),
    });
    expect(await store.writeStatus("default/big", 1, mid)).toBe("written");
    const label = (await configsOf(scope))[0]?.labels[STATUS_LABEL] ?? "";
    expect(label.startsWith("gzip+base64:")).toBe(true);
    expect((await store.list()).manifests[0]?.status).toEqual(mid);

    // Random messages do not compress: 200 runs of 1 KB each cannot fit in 64 KiB.
    const big = st("Active", 1, {
      history: Array.from(
        { length: 200 },
        (_, i) => ({ run: `run-${i}`, result: "Succeeded", message: randomBytes(512).toString("hex") }) as never,
      ),
    });
    expect(await store.writeStatus("default/big", 1, big)).toBe("written");
    const got = (await store.list()).manifests[0]?.status;
    const kept = got?.history ?? [];
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(200);
    expect(kept[kept.length - 1]).toEqual(big.history?.[199]); // the newest are kept
    expect(got?.conditions?.find((c) => c.type === "StatusTrimmed")?.message).toMatch(
      new RegExp(`^${200 - kept.length} oldest history entries dropped`),
    );
    expect(((await configsOf(scope))[0]?.labels[STATUS_LABEL] ?? "").length).toBeLessThanOrEqual(64 * 1024);
  });

  it("the engine takes a status label at the store's cap (256 KiB encoded)", async () => {
    const scope = newScope();
    const store = storeOf(scope); // the default cap
    await store.apply(obj(manifest("cap")), { origin });
    const history = Array.from({ length: 400 }, (_, i) => ({
      run: `run-${i}`,
      result: "Succeeded",
      message: randomBytes(450).toString("hex"),
    }));
    expect(await store.writeStatus("default/cap", 1, st("Active", 1, { history: history as never }))).toBe("written");
    const label = (await configsOf(scope))[0]?.labels[STATUS_LABEL] ?? "";
    expect(label.length).toBeGreaterThan(200 * 1024);
    expect(label.length).toBeLessThanOrEqual(256 * 1024);
    expect((await store.list()).manifests[0]?.status?.history?.length).toBeGreaterThan(100);
  });

  it("watch calls onChange after a config change, and again after its event stream fails and reconnects", async () => {
    const scope = newScope();
    let streams = 0;
    const flaky: ConfigEngine = {
      listConfigs: (f) => engine.listConfigs(f),
      inspectConfig: (id) => engine.inspectConfig(id),
      createConfig: (n, d, l) => engine.createConfig(n, d, l),
      removeConfig: (id) => engine.removeConfig(id),
      updateConfigLabels: (id, v, l) => engine.updateConfigLabels(id, v, l),
      events: (onEvent, signal, onError) => {
        streams++;
        if (streams === 1) {
          setTimeout(() => onError?.(new Error("stream broke")), 10);
          return;
        }
        engine.events(onEvent, signal, onError);
      },
    };
    const store = storeOf(scope, flaky, { backoffMs: { min: 50, max: 200 } });
    let changes = 0;
    const stop = await store.watch(() => changes++);
    try {
      await waitUntil(() => streams === 2 && changes === 1, "a change reported after the reconnect");
      await new Promise((r) => setTimeout(r, 300)); // the new stream is subscribed
      await storeOf(scope).apply(obj(manifest("w")), { origin });
      await waitUntil(() => changes >= 2, "a change reported for the apply");
    } finally {
      await stop();
    }
    expect(streams).toBe(2);
    const settled = changes;
    await storeOf(scope).apply(obj(manifest("w2")), { origin });
    await new Promise((r) => setTimeout(r, 300));
    expect(changes).toBe(settled); // stopped: no more calls
  });
});

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
