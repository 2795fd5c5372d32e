// apply / delete / patchSpec of the directory store on real files in temp folders: the user's
// text survives (comments, formatting, other documents), created/configured/unchanged, dry-run,
// and a user edit landing during the write is never lost.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { ManifestRejected, StoreWriteError, type Origin } from "../../src/store/store.js";
import type { ChaosSchedule } from "../../src/api/types.js";
import { FANCY, manifest } from "./fixtures.js";
import { status, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const origin: Origin = { appliedBy: "alice@laptop" };
const now = new Date("2026-01-02T03:04:05.000Z");
const opts = { origin, now };

function obj(text: string): ChaosSchedule {
  return parse(text) as ChaosSchedule;
}

const read = (file: string): Promise<string> => readFile(join(dir, file), "utf8");

describe("apply: new manifests", () => {
  it("creates <name>.yaml (or <namespace>.<name>.yaml), then answers unchanged, then configured with a new generation", async () => {
    const store = new DirectoryStore({ dir });
    expect(await store.apply(obj(manifest("a")), opts)).toEqual({ result: "created", key: "default/a", generation: 1 });
    expect(await store.apply(obj(manifest("b", { namespace: "team" })), opts)).toEqual({
      result: "created",
      key: "team/b",
      generation: 1,
    });
    expect((await readdir(dir)).sort()).toEqual(["a.yaml", "team.b.yaml"]);
    const written = parse(await read("a.yaml")) as ChaosSchedule;
    expect(written.metadata.annotations).toMatchObject({
      "chaosctl.io/applied-by": "alice@laptop",
      "chaosctl.io/applied-at": now.toISOString(),
    });
    expect(written.metadata.generation).toBe(1);
    expect(written.spec).toEqual({ selector: { services: ["web"] }, fault: { kill: {} } }); // as given: no defaults written

    const before = await readFile(join(dir, "a.yaml"));
    expect(await store.apply(obj(manifest("a")), { origin: { appliedBy: "bob@x" } })).toMatchObject({
      result: "unchanged",
      generation: 1,
    });
    expect((await readFile(join(dir, "a.yaml"))).equals(before)).toBe(true); // not even applied-at moves
    expect(await store.apply(obj(manifest("a", { services: "api" })), opts)).toMatchObject({
      result: "configured",
      generation: 2,
    });
    const snap = await store.list();
    const a = snap.manifests.find((m) => m.key === "default/a");
    expect(a?.manifest.spec.selector.services).toEqual(["api"]);
    expect(a?.manifest.metadata.generation).toBe(2);
  });

  it("never clobbers an existing file of that name: the new manifest goes to <name>-1.yaml", async () => {
    await writeFile(join(dir, "a.yaml"), "# my notes, not a manifest yet\n");
    const store = new DirectoryStore({ dir });
    expect(await store.apply(obj(manifest("a")), opts)).toMatchObject({ result: "created" });
    expect(await read("a.yaml")).toBe("# my notes, not a manifest yet\n");
    expect(parse(await read("a-1.yaml"))).toMatchObject({ metadata: { name: "a" } });
  });

  it("dry-run answers without writing anything", async () => {
    const store = new DirectoryStore({ dir });
    expect(await store.apply(obj(manifest("a")), { ...opts, dryRun: true })).toMatchObject({ result: "created" });
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, "m.yaml"), FANCY);
    const fancy = obj(FANCY);
    fancy.spec.selector.mode = "all";
    expect(await store.apply(fancy, { ...opts, dryRun: true })).toMatchObject({ result: "configured", generation: 2 });
    expect(await read("m.yaml")).toBe(FANCY);
    expect(await store.delete("default/fancy", { dryRun: true })).toBe("deleted");
    expect(await store.patchSpec("default/fancy", { suspend: true }, { ...opts, dryRun: true })).toBe("configured");
    expect(await read("m.yaml")).toBe(FANCY);
  });

  it("rejects an invalid manifest whole and writes nothing", async () => {
    const store = new DirectoryStore({ dir });
    const bad = obj(manifest("a"));
    (bad.spec as unknown as Record<string, unknown>).fault = {};
    const err = await store.apply(bad, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestRejected);
    expect((err as ManifestRejected).problems.length).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("apply: an existing document, in place", () => {
  it("changes only the changed paths: comments, quoting, flow maps, blank lines and status survive", async () => {
    const text = FANCY + STATUS;
    await writeFile(join(dir, "m.yaml"), text);
    const store = new DirectoryStore({ dir });
    const next = obj(FANCY);
    next.spec.schedule = "@every 5m";
    next.metadata.labels = { team: "web", tier: "front", owner: "sre" };
    expect(await store.apply(next, opts)).toMatchObject({ result: "configured", generation: 2 });
    const out = await read("m.yaml");
    // Every line of the original but the schedule and the labels line is still there, verbatim.
    const untouched = text.split("\n").filter((l) => !l.includes("schedule:") && !l.includes("labels:"));
    for (const line of untouched) expect(out.split("\n")).toContain(line);
    expect(out).toContain('schedule: "@every 5m"     # quoted on purpose');
    expect(out).toContain("  labels: {team: web, tier: front, owner: sre}   # flow map"); // still a flow map, comment kept
    const data = parse(out) as ChaosSchedule;
    expect(data.metadata.labels).toEqual({ team: "web", tier: "front", owner: "sre" });
    expect(data.status).toEqual(parse(STATUS).status);
    expect(data.metadata.generation).toBe(2);
    expect(data.metadata.annotations?.["chaosctl.io/applied-by"]).toBe("alice@laptop");
  });

  it("labels alone are configured at the same generation; a removed label goes with its line", async () => {
    await writeFile(
      join(dir, "m.yaml"),
      manifest("a").replace("  name: a\n", "  name: a\n  labels:\n    team: web # owner\n    tier: front\n"),
    );
    const store = new DirectoryStore({ dir });
    const next = obj(manifest("a"));
    next.metadata.labels = { team: "web" };
    expect(await store.apply(next, opts)).toMatchObject({ result: "configured", generation: 1 });
    const out = await read("m.yaml");
    expect(out).toContain("    team: web # owner\n");
    expect(out).not.toContain("tier");
    expect((await store.list()).manifests[0]?.manifest.metadata.generation).toBe(1);
  });

  it("in a multi-document file, only the target document changes, byte for byte", async () => {
    const first = manifest("a") + "# between\n";
    const third = "---\n# third\n" + manifest("c");
    await writeFile(join(dir, "m.yaml"), first + "---\n" + manifest("b") + third);
    const store = new DirectoryStore({ dir });
    expect(await store.apply(obj(manifest("b", { services: "api" })), opts)).toMatchObject({ result: "configured" });
    const out = await read("m.yaml");
    expect(out.startsWith(first + "---\n")).toBe(true);
    expect(out.endsWith(third)).toBe(true);
    expect((await store.list()).manifests.find((m) => m.key === "default/b")?.manifest.spec.selector.services).toEqual([
      "api",
    ]);
  });

  it("keeps a user's edit made while the apply was being written (it is planned again on top of it)", async () => {
    const file = join(dir, "m.yaml");
    await writeFile(file, manifest("a") + "---\n" + manifest("b"));
    let raced = 0;
    const store = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: async () => {
          if (raced++ > 0) return;
          // The user saves the file between our read and our rename: a comment and the other document's spec.
          const now = await readFile(file, "utf8");
          const i = now.indexOf("---\n");
          await writeFile(
            file,
            "# the user's comment\n" + now.slice(0, i) + now.slice(i).replace("services: [web]", "services: [db]"),
          );
        },
      },
    });
    const next = obj(manifest("a"));
    next.metadata.labels = { team: "web" };
    expect(await store.apply(next, opts)).toMatchObject({ result: "configured", generation: 1 });
    expect(raced).toBe(2); // the first rename was abandoned, the second one planned on the user's text
    const out = await read("m.yaml");
    expect(out.startsWith("# the user's comment\n")).toBe(true);
    const snap = await store.list();
    expect(snap.manifests.find((m) => m.key === "default/b")?.manifest.spec.selector.services).toEqual(["db"]);
    expect(snap.manifests.find((m) => m.key === "default/a")?.manifest.metadata.labels).toEqual({ team: "web" });
  });

  it("patchSpec (suspend/resume) sets only spec.suspend, as a new generation; the rest of the text stays", async () => {
    await writeFile(join(dir, "m.yaml"), FANCY);
    const store = new DirectoryStore({ dir });
    expect(await store.patchSpec("default/fancy", { suspend: true }, opts)).toBe("configured");
    expect(await store.patchSpec("default/fancy", { suspend: true }, opts)).toBe("unchanged");
    const out = await read("m.yaml");
    for (const line of FANCY.split("\n")) expect(out.split("\n")).toContain(line);
    expect(out).toContain("  suspend: true");
    expect((await store.list()).manifests[0]?.manifest.metadata.generation).toBe(2);
    expect(await store.patchSpec("default/fancy", { suspend: false }, opts)).toBe("configured");
    expect((await store.list()).manifests[0]?.manifest.spec.suspend).toBe(false);
    expect(await store.patchSpec("default/nope", { suspend: true }, opts)).toBe("notfound");
  });

  it("refuses a name defined twice in the folder", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("same"));
    await writeFile(join(dir, "b.yaml"), manifest("same"));
    const store = new DirectoryStore({ dir });
    await expect(store.apply(obj(manifest("same")), opts)).rejects.toBeInstanceOf(StoreWriteError);
    await expect(store.delete("default/same")).rejects.toBeInstanceOf(StoreWriteError);
  });

  it("a status write after an apply sees the new generation (the controller re-plans)", async () => {
    await writeFile(join(dir, "m.yaml"), manifest("a"));
    const controller = new DirectoryStore({ dir });
    await controller.list();
    await new DirectoryStore({ dir }).apply(obj(manifest("a", { services: "api" })), opts);
    expect(await controller.writeStatus("default/a", 1, status("Active"))).toBe("conflict");
    await controller.list();
    expect(await controller.writeStatus("default/a", 2, status("Active", 2))).toBe("written");
    const data = parse(await read("m.yaml")) as ChaosSchedule;
    expect(data.spec.selector.services).toEqual(["api"]);
    expect(data.status?.phase).toBe("Active");
  });
});

describe("apply racing the controller's status writes", () => {
  it("loses neither: 50 interleavings of a labels-only apply (another process) and a status write", async () => {
    await writeFile(join(dir, "m.yaml"), "# keep me\n" + manifest("a") + "---\n" + manifest("b"));
    const controller = new DirectoryStore({ dir });
    const cli = new DirectoryStore({ dir });
    for (let i = 0; i < 50; i++) {
      await controller.list();
      const st = { ...status("Active"), lastScheduleTime: `2026-01-01T00:00:${String(i).padStart(2, "0")}Z` };
      const next = obj(manifest("a"));
      next.metadata.labels = { round: String(i) };
      const delay = (i % 4) * 2;
      const [w, a] = await Promise.all([
        new Promise((r) => setTimeout(r, i % 2 ? delay : 0)).then(() => controller.writeStatus("default/a", 1, st)),
        new Promise((r) => setTimeout(r, i % 2 ? 0 : delay)).then(() => cli.apply(next, opts)),
      ]);
      expect(w).toBe("written");
      expect(a.result).toBe("configured");
      const text = await read("m.yaml");
      expect(text.startsWith("# keep me\n")).toBe(true);
      const m = (await new DirectoryStore({ dir }).list()).manifests.find((x) => x.key === "default/a");
      expect(m?.status).toEqual(st);
      expect(m?.manifest.metadata.labels).toEqual({ round: String(i) });
      expect(m?.manifest.metadata.generation).toBe(1);
    }
  });
});

describe("delete", () => {
  it("removes the file when the manifest was alone in it", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    const store = new DirectoryStore({ dir });
    expect(await store.delete("default/a")).toBe("deleted");
    expect(await readdir(dir)).toEqual([]);
    expect(await store.delete("default/a")).toBe("notfound");
  });

  it("cuts only its document out of a multi-document file, keeping the others and the file's comments", async () => {
    await writeFile(
      join(dir, "m.yaml"),
      "# header\n" + manifest("a") + "---\n# about b\n" + manifest("b") + "---\n" + manifest("c"),
    );
    const store = new DirectoryStore({ dir });
    expect(await store.delete("default/b")).toBe("deleted");
    expect(await read("m.yaml")).toBe("# header\n" + manifest("a") + "---\n" + manifest("c"));
    expect(await store.delete("default/a")).toBe("deleted");
    const rest = await read("m.yaml");
    expect(rest.startsWith("# header\n")).toBe(true);
    expect(parseAllDocuments(rest).map((d) => (d.toJS() as ChaosSchedule).metadata.name)).toEqual(["c"]);
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/c"]);
  });

  it("an invalid document can be deleted by name", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a").replace("kill: {}", "kill: {signal: 12}"));
    const store = new DirectoryStore({ dir });
    expect((await store.list()).invalid.map((i) => i.key)).toEqual(["default/a"]);
    expect(await store.delete("default/a")).toBe("deleted");
    expect(await readdir(dir)).toEqual([]);
  });
});

const STATUS = `status:
  observedGeneration: 1
  phase: Active
  conditions:
    - type: Ready
      status: "True"
      reason: Reconciled
`;
