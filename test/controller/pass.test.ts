// The reconcile pass, phase by phase, on a directory store and the in-memory engine of the
// bench (no Docker): what each phase must keep true whatever shape the pass takes.
import { writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildController } from "../../src/controller/build.js";
import { RECOVERY_POLL_MS } from "../../src/controller/record.js";
import { LeadershipLost } from "../../src/controller/observer.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import { createLogger } from "../../src/util/log.js";
import { FakeEngine, fakeServiceName } from "../../bench/fake-engine.js";

const logger = createLogger("silent");
const READS = new Set(["info", "nodes.list", "services.list", "tasks.list", "containers.list"]);
const mutating = (calls: Readonly<Record<string, number>>): string[] =>
  Object.keys(calls).filter((op) => !READS.has(op));

const manifest = (name: string, spec: string): string =>
  `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, "  ")}\n`;
const killOnce = (svc: string): string => `selector: {services: [${svc}]}\nfault: {kill: {signal: SIGKILL}}`;

let dir: string;
let store: DirectoryStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaosctl-pass-"));
  store = new DirectoryStore({ dir, logger });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function statusOf(file: string): Promise<ChaosScheduleStatus | undefined> {
  const doc = parseAllDocuments(await readFile(join(dir, file), "utf8"))[0];
  return doc && !Array.isArray(doc) ? (doc.toJS() as { status?: ChaosScheduleStatus }).status : undefined;
}

describe("Controller.pass phases", () => {
  it("an idle schedule: the first pass records its next run, later passes write nothing and call no mutating API", async () => {
    await writeFile(join(dir, "idle.yaml"), manifest("idle", `schedule: "0 0 1 1 *"\n${killOnce(fakeServiceName(0))}`));
    const engine = new FakeEngine({ services: 2, tasksPerService: 2 });
    const controller = buildController({ store, engine, logger });
    const first = await controller.pass();
    expect(first.writes.get("default/idle")).toBe("written");
    expect((await statusOf("idle.yaml"))?.nextScheduleTime).toBeTruthy();
    for (let i = 0; i < 3; i++) {
      const r = await controller.pass();
      expect(r.plan.actions).toEqual([]);
      expect(r.writes.get("default/idle")).toBe("unchanged");
    }
    expect(mutating(engine.calls)).toEqual([]);
  });

  it("a due run is recorded before it is injected: the kill happens once, and a pass after it starts nothing", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    const controller = buildController({ store, engine, logger });
    const r = await controller.pass();
    expect(r.plan.actions.map((a) => a.type)).toEqual(["start"]);
    expect(engine.calls["containers.kill"]).toBe(1);
    expect((await statusOf("kill.yaml"))?.history?.[0]).toMatchObject({ fault: "kill" });
    await controller.pass();
    expect(engine.calls["containers.kill"]).toBe(1);
  });

  it("while a recovery is pending the pass asks to look again soon, not at the resync", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    // The fake engine's tasks never change: the killed service's recovery stays Pending.
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    const controller = buildController({ store, engine, logger });
    await controller.pass();
    const r = await controller.pass();
    expect((await statusOf("kill.yaml"))?.history?.[0]).toMatchObject({ result: "Succeeded", recovery: "Pending" });
    // An @once schedule has no next run: only the pending recovery makes it wake.
    expect(r.wakeAt).toBeDefined();
    expect((r.wakeAt?.getTime() ?? Infinity) - Date.now()).toBeLessThanOrEqual(RECOVERY_POLL_MS);
  });

  it("a skipped run carries the manifest's source (git store), as applied runs do", async () => {
    await writeFile(
      join(dir, "nope.yaml"),
      manifest("nope", "selector: {services: [no-such-service]}\nfault: {kill: {}}"),
    );
    const provenance = { commit: "0123456789abcdef0123456789abcdef01234567", path: "chaos/nope.yaml" };
    const git = Object.assign(Object.create(store) as DirectoryStore, {
      list: async () => {
        const snap = await store.list();
        return { ...snap, manifests: snap.manifests.map((m) => ({ ...m, provenance })) };
      },
    });
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    await buildController({ store: git, engine, logger }).pass();
    expect((await statusOf("nope.yaml"))?.history?.[0]).toMatchObject({
      result: "Skipped",
      reason: "NoTargets",
      source: provenance,
    });
  });

  it("a run whose record cannot be written first is not started", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    const refusing = Object.assign(Object.create(store) as DirectoryStore, {
      writeStatus: async () => "conflict" as const,
    });
    const r = await buildController({ store: refusing, engine, logger }).pass();
    expect(r.writes.get("default/kill")).toBe("conflict");
    expect(mutating(engine.calls)).toEqual([]);
    expect(await statusOf("kill.yaml")).toBeUndefined();
  });

  it("--dry-run records the run as DryRun with its targets and calls no mutating API", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    await buildController({ store, engine, logger, config: { dryRun: true } }).pass();
    const run = (await statusOf("kill.yaml"))?.history?.[0];
    expect(run).toMatchObject({ fault: "kill", result: "DryRun" });
    expect(run?.tasks?.length).toBe(1);
    expect(mutating(engine.calls)).toEqual([]);
  });

  it("a lease lost after observing ends the pass before any effect or record (LeadershipLost)", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    const engine = new FakeEngine({ services: 1, tasksPerService: 2 });
    let checks = 0;
    const controller = buildController({ store, engine, logger, mayAct: () => ++checks === 1 });
    await expect(controller.pass()).rejects.toBeInstanceOf(LeadershipLost);
    expect(engine.calls["tasks.list"]).toBe(1);
    expect(mutating(engine.calls)).toEqual([]);
    expect(await statusOf("kill.yaml")).toBeUndefined();
  });

  it("the kill switch file raised while a pass is already planning: that pass drops its starts", async () => {
    await writeFile(join(dir, "kill.yaml"), manifest("kill", killOnce(fakeServiceName(0))));
    const killSwitchFile = join(dir, ".stop");
    const fake = new FakeEngine({ services: 1, tasksPerService: 2 });
    // The switch goes on while the pass plans (it picks the run's target), after it observed it off.
    const random = (): number => (writeFileSync(killSwitchFile, ""), 0.5);
    const controller = buildController({ store, engine: fake, logger, killSwitchFile, random });
    const r = await controller.pass();
    expect(r.plan.actions.map((a) => a.type)).toEqual(["start"]);
    expect(mutating(fake.calls)).toEqual([]);
    expect((await statusOf("kill.yaml"))?.history ?? []).toEqual([]);
    // The next pass sees the switch on from the start: still nothing injected.
    await controller.pass();
    expect(mutating(fake.calls)).toEqual([]);
  });

  it("a suspend saved while a pass is already planning: that pass starts nothing (its record is refused)", async () => {
    const file = join(dir, "kill.yaml");
    await writeFile(file, manifest("kill", killOnce(fakeServiceName(0))));
    const fake = new FakeEngine({ services: 1, tasksPerService: 2 });
    // The user's edit (suspend: true, as `chaosctl suspend --all` saves it) lands while the pass plans.
    const random = (): number => (
      writeFileSync(file, manifest("kill", `suspend: true\n${killOnce(fakeServiceName(0))}`)),
      0.5
    );
    const controller = buildController({ store, engine: fake, logger, random });
    const r = await controller.pass();
    expect(r.plan.actions.map((a) => a.type)).toEqual(["start"]);
    expect(r.writes.get("default/kill")).toBe("conflict");
    expect(mutating(fake.calls)).toEqual([]);
    // The pass that follows sees the suspend: nothing started, and the user's edit is intact.
    const next = await controller.pass();
    expect(next.plan.actions.filter((a) => a.type === "start")).toEqual([]);
    expect(mutating(fake.calls)).toEqual([]);
    expect(await readFile(file, "utf8")).toContain("suspend: true");
  });

  it("creating the kill switch file wakes the loop (it does not wait for the resync)", async () => {
    const killSwitchFile = join(dir, ".stop");
    const starts: number[] = [];
    const controller = buildController({
      store,
      engine: new FakeEngine({ services: 1, tasksPerService: 1 }),
      logger,
      killSwitchFile,
      resyncMs: 600_000,
      observer: { passStarted: () => void starts.push(Date.now()), passEnded: () => undefined },
    });
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    try {
      await waitUntil(() => starts.length >= 1);
      await new Promise((r) => setTimeout(r, 200)); // the first pass's own echoes settle
      const before = starts.length;
      await writeFile(killSwitchFile, "");
      await waitUntil(() => starts.length > before);
    } finally {
      stop.abort();
      await running;
    }
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
