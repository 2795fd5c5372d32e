// The git store against a local bare repository (the remote), with in-memory durable records:
// sync, status in the files, new commits win, force-push, deletes, invalid commits, and a
// status record that survives every reset. Real git, temp folders; no Docker.
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { GitStore } from "../../src/store/git/store.js";
import { MemoryRecords } from "../../src/store/git/records.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import { gitSync, schedule, testRemote, type TestRemote } from "./git-helpers.js";

let remote: TestRemote;
let records: MemoryRecords;
let store: GitStore;
let logs: string[];

function open(opts: { path?: string; branch?: string } = {}): GitStore {
  logs = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void logs.push(s) });
  return new GitStore({
    url: remote.url,
    checkoutDir: join(remote.root, "work", "repo"),
    auth: { env: {}, secrets: [] },
    records,
    logger,
    ...opts,
  });
}

const running = (run: string): ChaosScheduleStatus => ({
  observedGeneration: 1,
  phase: "Active",
  conditions: [{ type: "Ready", status: "True", reason: "Reconciled" }],
  history: [
    {
      run,
      generation: 1,
      fault: "pause",
      startedAt: "2026-01-01T00:00:00.000Z",
      result: "Running",
      source: { commit: "c", path: "p" },
    },
  ],
});

async function fileStatus(name: string): Promise<string> {
  return readFile(join(store.dir, name), "utf8");
}

beforeEach(async () => {
  remote = await testRemote();
  records = new MemoryRecords();
});
afterEach(async () => {
  await store?.close();
  await remote.cleanup();
});

describe("GitStore", () => {
  it("syncs a commit: manifests listed with their commit and path, status written into the file and durably first", async () => {
    const c1 = await remote.commit({
      "chaos/web.yaml": schedule("web", { duration: "30s" }),
      "README.md": "not a manifest",
    });
    store = open({ path: "chaos" });
    const snap = await store.list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/web"]);
    expect(snap.manifests[0]?.provenance).toEqual({ commit: c1, path: "chaos/web.yaml" });
    expect(store.syncedCommit).toBe(c1);

    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("written");
    expect(records.records.get("default/web")).toMatchObject({
      generation: 1,
      commit: c1,
      path: "chaos/web.yaml",
      status: { history: [{ run: "r1" }] },
    });
    const text = await fileStatus("web.yaml");
    expect(text).toContain("# committed by the team");
    expect(text).toMatch(/status:\n(.|\n)*run: r1/);
    // Same status again: neither the record nor the file is written.
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("unchanged");
    expect(records.writes).toBe(1);
  });

  it("a new commit changing the spec while status is written: no conflict, new spec wins, status put back, new generation", async () => {
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }) });
    store = open();
    await store.list();
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("written");
    const c2 = await remote.commit({ "web.yaml": schedule("web", { duration: "45s" }) }, "longer pause");
    const out = await store.sync();
    expect(out).toMatchObject({ commit: c2, changed: true });
    const snap = await store.list();
    const m = snap.manifests[0];
    expect(m?.manifest.spec.duration).toBe("45s");
    expect(m?.manifest.metadata.generation).toBe(2);
    expect(m?.provenance?.commit).toBe(c2);
    // The status the controller wrote is back in the new file, with the run that was recorded.
    expect(m?.status?.history?.map((r) => r.run)).toEqual(["r1"]);
    expect(await fileStatus("web.yaml")).toContain("duration: 45s");
    // A write planned for the old generation is refused; the new one goes through.
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("conflict");
    expect(await store.writeStatus("default/web", 2, { ...running("r1"), observedGeneration: 2 })).toBe("written");
    expect(records.records.get("default/web")).toMatchObject({ generation: 2, commit: c2 });
  });

  it("status writes racing a sync of a new commit: every call settles, the new spec is in the file with the last recorded status", async () => {
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }) });
    store = open();
    await store.list();
    await remote.commit({ "web.yaml": schedule("web", { duration: "45s" }) });
    // The controller keeps writing status (one write at a time, as a pass does) while the sync runs.
    let synced: Awaited<ReturnType<GitStore["sync"]>> | undefined;
    const sync = store.sync().then((o) => (synced = o));
    const results: string[] = [];
    for (let i = 0; i < 2000 && (!synced || results.filter((r) => r === "conflict").length < 3); i++) {
      results.push(await store.writeStatus("default/web", 1, running(`r${i}`)));
    }
    await sync;
    expect(synced?.changed).toBe(true);
    // Writes before the reset went through; from the reset on they are for an old generation.
    expect(results).toContain("written");
    expect(results).toContain("conflict");
    expect(results.slice(results.indexOf("conflict"))).not.toContain("written");
    const m = (await store.list()).manifests[0];
    expect(m?.manifest.spec.duration).toBe("45s");
    const last = [...records.records.values()][0]?.status.history?.[0]?.run;
    expect(last).toBeDefined();
    expect(m?.status?.history?.[0]?.run).toBe(last);
    expect(m?.manifest.metadata.generation).toBe(2);
  });

  it("a run recorded before a sync is still recorded after it (same spec, same generation: never repeated)", async () => {
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }), "other.yaml": schedule("other") });
    store = open();
    await store.list();
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("written");
    // Another file changes; web.yaml is replaced by its committed bytes (no status) on reset.
    await remote.commit({ "other.yaml": schedule("other", { services: "api" }) });
    await store.sync();
    const web = (await store.list()).manifests.find((m) => m.key === "default/web");
    expect(web?.manifest.metadata.generation).toBe(1);
    expect(web?.status?.history?.[0]).toMatchObject({ run: "r1", result: "Running" });
    // A brand-new store (controller restart, working folder lost) rebuilds the same from the records.
    await store.close();
    store = new GitStore({
      url: remote.url,
      checkoutDir: join(remote.root, "work2"),
      auth: { env: {}, secrets: [] },
      records,
    });
    const again = (await store.list()).manifests.find((m) => m.key === "default/web");
    expect(again?.manifest.metadata.generation).toBe(1);
    expect(again?.status?.history?.[0]?.run).toBe("r1");
  });

  it("follows a force-push (rewritten history)", async () => {
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }) });
    await remote.commit({ "web.yaml": schedule("web", { duration: "40s" }) });
    store = open();
    await store.list();
    const rewritten = await remote.amend({ "web.yaml": schedule("web", { duration: "50s" }) });
    expect((await store.sync())?.commit).toBe(rewritten);
    expect((await store.list()).manifests[0]?.manifest.spec.duration).toBe("50s");
    expect(gitSync(join(remote.root, "work", "repo"), ["rev-parse", "HEAD"]).trim()).toBe(rewritten);
  });

  it("a manifest deleted in git is gone after the next sync; its status write says gone", async () => {
    await remote.commit({
      "web.yaml": schedule("web", { duration: "30s" }),
      "api.yaml": schedule("api", { duration: "30s" }),
    });
    store = open();
    expect((await store.list()).manifests).toHaveLength(2);
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("written");
    await remote.commit({ "web.yaml": null });
    await store.sync();
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/api"]);
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("gone");
    // Its durable record goes too: added again later, it is a new schedule.
    expect([...records.records.keys()]).toEqual([]);
  });

  it("an invalid commit is reported for that manifest only; its status keeps the recorded history", async () => {
    await remote.commit({
      "web.yaml": schedule("web", { duration: "30s" }),
      "api.yaml": schedule("api", { duration: "30s" }),
    });
    store = open();
    await store.list();
    expect(await store.writeStatus("default/web", 1, running("r1"))).toBe("written");
    await remote.commit({ "web.yaml": schedule("web", { duration: "thirty" }) });
    await store.sync();
    const snap = await store.list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/api"]);
    expect(snap.invalid.map((i) => i.key)).toEqual(["default/web"]);
    expect(await store.reportInvalid("default/web", "spec.duration: bad", new Date("2026-01-01T00:00:00Z"))).toBe(
      "written",
    );
    const text = await fileStatus("web.yaml");
    expect(text).toContain("reason: InvalidSpec");
    expect(text).toContain("run: r1");
  });

  it("no local change blocks a sync: edited, deleted and stray files in the working copy are replaced", async () => {
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }), "api.yaml": schedule("api") });
    store = open();
    await store.list();
    await writeFile(join(store.dir, "web.yaml"), "garbage: [");
    await writeFile(join(store.dir, "stray.yaml"), schedule("stray"));
    const c2 = await remote.commit({ "api.yaml": schedule("api", { services: "db" }) });
    expect((await store.sync())?.commit).toBe(c2);
    const snap = await store.list();
    expect(snap.manifests.map((m) => m.key).sort()).toEqual(["default/api", "default/web"]);
    expect(snap.invalid).toEqual([]);
  });

  it("a failing remote keeps the last synced commit and its manifests", async () => {
    const c1 = await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }) });
    store = open();
    await store.list();
    gitSync(remote.root, ["-C", join(remote.root, "remote.git"), "update-ref", "-d", "refs/heads/main"]);
    await expect(store.sync()).rejects.toThrow(/git fetch failed/);
    expect(store.syncedCommit).toBe(c1);
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/web"]);
    expect(logs.join("")).toContain("keeping the last synced commit");
  });

  it("follows --branch, and a --path missing from the commit means no manifests", async () => {
    await remote.commit({ "web.yaml": schedule("web") });
    gitSync(remote.clone, ["checkout", "--quiet", "-b", "chaos"]);
    gitSync(remote.clone, ["push", "--quiet", "origin", "chaos"]);
    const onBranch = await remote.commit({ "web.yaml": null, "x/api.yaml": schedule("api") });
    gitSync(remote.clone, ["push", "--quiet", "origin", "HEAD:chaos"]);
    store = open({ branch: "chaos", path: "x" });
    expect((await store.list()).manifests.map((m) => m.provenance)).toEqual([{ commit: onBranch, path: "x/api.yaml" }]);
    await store.close();
    await records.put("default/api", { generation: 1, specHash: "h", status: { phase: "Idle" } });
    store = open({ path: "nowhere" });
    expect(await store.list()).toEqual({ manifests: [], invalid: [] });
    // A path missing altogether (a typo?) never wipes the records.
    expect([...records.records.keys()]).toEqual(["default/api"]);
  });

  it("refuses a --path that goes through a symlink of the commit, as the folder or as a parent; writes nothing there", async () => {
    // Manifests outside the checkout that a symlinked --path would reach.
    const outside = join(remote.root, "outside");
    await mkdir(join(outside, "b"), { recursive: true });
    const text = schedule("stolen");
    await writeFile(join(outside, "stolen.yaml"), text);
    await writeFile(join(outside, "b", "stolen.yaml"), text);
    await remote.commit({ "real/web.yaml": schedule("web") });
    await symlink(outside, join(remote.clone, "chaos"));
    await symlink("real", join(remote.clone, "inside"));
    gitSync(remote.clone, ["add", "--all", "."]);
    await remote.commit({}, "symlinks");
    await records.put("default/web", { generation: 1, specHash: "h", status: { phase: "Idle" } });
    for (const [path, link] of [
      ["chaos", "chaos"],
      ["chaos/b", "chaos"],
      ["inside", "inside"], // even one that stays inside: the commit decides where links point
    ] as const) {
      store = open({ path });
      const snap = await store.list();
      expect(snap.manifests).toEqual([]);
      expect(snap.invalid.map((i) => i.problems)).toEqual([
        [
          expect.objectContaining({
            rule: "pathOutside",
            message: `--path ${path}: ${link} is a symlink in the repository; --path must not go through symlinks`,
          }),
        ],
      ]);
      expect(logs.some((l) => l.includes("--path refused"))).toBe(true);
      await store.close();
    }
    expect(await readFile(join(outside, "stolen.yaml"), "utf8")).toBe(text);
    expect(await readFile(join(outside, "b", "stolen.yaml"), "utf8")).toBe(text);
    // The refusal never wipes records, and the real folder still works.
    expect([...records.records.keys()]).toEqual(["default/web"]);
    store = open({ path: "real" });
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/web"]);
  });

  it("refuses apply, delete and suspend: the repository is the source of truth", async () => {
    await remote.commit({ "web.yaml": schedule("web") });
    store = open();
    await expect(store.apply()).rejects.toMatchObject({ exitCode: 2 });
    await expect(store.delete()).rejects.toThrow(/commits to the repository/);
  });
});
