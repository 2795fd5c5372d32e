// The directory store on real files in temp folders: loading, status write-back, the user's
// edit winning, generations, invalid files, atomicity.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendFile,
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { DirectoryStore, DirectoryMissingError } from "../../src/store/directory/store.js";
import { FANCY, manifest } from "./fixtures.js";
import { hashOf, identity, status, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const STATUS_LINES = (phase: string, gen = 1): string =>
  `status:\n  observedGeneration: ${gen}\n  phase: ${phase}\n  conditions:\n    - type: Ready\n      status: "True"\n      reason: Reconciled\n`;

function withMeta(text: string, name: string, generation: number, hash: string): string {
  return text.replace(
    `  name: ${name}\n`,
    `  name: ${name}\n  generation: ${generation}\n  annotations:\n    chaosctl.io/spec-hash: ${hash}\n`,
  );
}

describe("list", () => {
  it("loads folders recursively, multi-document files, with generation 1 on a fresh manifest", async () => {
    await mkdir(join(dir, "team", "deep"), { recursive: true });
    await writeFile(join(dir, "a.yaml"), manifest("a") + "---\n" + manifest("b", { namespace: "other" }));
    await writeFile(join(dir, "team", "deep", "c.yml"), manifest("c"));
    await writeFile(join(dir, "team", "notes.txt"), "not a manifest");
    await writeFile(join(dir, ".hidden.yaml"), "garbage: [");
    const store = new DirectoryStore({ dir });
    const snap = await store.list();
    expect(snap.invalid).toEqual([]);
    expect(snap.manifests.map((m) => m.key).sort()).toEqual(["default/a", "default/c", "other/b"]);
    const b = snap.manifests.find((m) => m.key === "other/b");
    expect(b?.source).toEqual({ store: "dir", file: join(dir, "a.yaml"), index: 1, line: 11 });
    expect(snap.manifests.every((m) => m.manifest.metadata.generation === 1)).toBe(true);
    expect(b?.manifest.spec.schedule).toBe("@once"); // defaults applied by the one loader
  });

  it("leaves a Docker stack file beside the manifests alone (not invalid, never written)", async () => {
    const stack = 'version: "3.8"\nservices:\n  agent: {image: local/chaosctl:dev}\n';
    await writeFile(join(dir, "stack.yml"), stack);
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    const store = new DirectoryStore({ dir });
    const snap = await store.list();
    expect(snap.invalid).toEqual([]);
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/a"]);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    expect(await readFile(join(dir, "stack.yml"), "utf8")).toBe(stack);
  });

  it("reports both definitions of a duplicate namespace/name and takes neither", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("same"));
    await writeFile(join(dir, "b.yaml"), manifest("same", { services: "api" }));
    await writeFile(join(dir, "c.yaml"), manifest("other"));
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/other"]);
    expect(snap.invalid).toHaveLength(2);
    for (const inv of snap.invalid) {
      expect(inv.key).toBe("default/same");
      expect(inv.problems).toHaveLength(1);
      expect(inv.problems[0]).toMatchObject({ rule: "duplicateName", line: 4, path: "metadata.name" });
      expect(inv.problems[0]?.message).toMatch(/duplicate ChaosSchedule "default\/same".*neither is used/);
    }
    expect(snap.invalid[0]?.problems[0]?.message).toContain(`${join(dir, "b.yaml")}:4`);
    expect(snap.invalid[1]?.problems[0]?.message).toContain(`${join(dir, "a.yaml")}:4`);
  });

  it("reports an unparsable file with its line while the others still load", async () => {
    await writeFile(join(dir, "good.yaml"), manifest("good"));
    await writeFile(join(dir, "bad.yaml"), manifest("bad").replace("services: [web]", "services: [web"));
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/good"]);
    const problems = snap.invalid.flatMap((i) => i.problems);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: join(dir, "bad.yaml"), rule: "yamlSyntax" });
    expect(problems[0]?.line).toBeGreaterThan(0);
  });

  it("does not follow a symlink out of the folder, and reads one that stays inside", async () => {
    const outside = await tempDir();
    try {
      await writeFile(join(outside.dir, "x.yaml"), manifest("escaped"));
      await symlink(join(outside.dir, "x.yaml"), join(dir, "escape.yaml"));
      await mkdir(join(dir, ".data"));
      await writeFile(join(dir, ".data", "in.yaml"), manifest("linked"));
      await symlink(join(dir, ".data", "in.yaml"), join(dir, "in.yaml"));
      const store = new DirectoryStore({ dir });
      const snap = await store.list();
      expect(snap.manifests.map((m) => m.key)).toEqual(["default/linked"]);
      expect(snap.invalid.flatMap((i) => i.problems)).toMatchObject([
        { file: join(dir, "escape.yaml"), rule: "symlinkOutside" },
      ]);
      // Writing goes through to the target; the link stays a link.
      expect(await store.writeStatus("default/linked", 1, status("Active"))).toBe("written");
      expect((await readFile(join(dir, ".data", "in.yaml"), "utf8")).endsWith(STATUS_LINES("Active"))).toBe(true);
      expect((await lstat(join(dir, "in.yaml"))).isSymbolicLink()).toBe(true);
    } finally {
      await outside.cleanup();
    }
  });

  it("rejects with DirectoryMissingError when the folder does not exist (not an empty snapshot)", async () => {
    await expect(new DirectoryStore({ dir: join(dir, "nope") }).list()).rejects.toBeInstanceOf(DirectoryMissingError);
  });
});

describe("writeStatus", () => {
  it("changes only the status block and store metadata; a second identical write does not write", async () => {
    const file = join(dir, "fancy.yaml");
    await writeFile(file, FANCY);
    await chmod(file, 0o640);
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.writeStatus("default/fancy", 1, status("Active"))).toBe("written");
    // Metadata lines go after the last metadata entry; status after the spec, before the
    // document's trailing comment. Every other byte is FANCY's.
    const got = await readFile(file, "utf8");
    expect(got).toBe(
      FANCY.replace(
        `  labels: {team: web, "tier": 'front'}   # flow map\n`,
        `  labels: {team: web, "tier": 'front'}   # flow map\n  generation: 1\n  annotations:\n    chaosctl.io/spec-hash: ${hashOf(FANCY)}\n`,
      ).replace(
        "# trailing comment of the document\n",
        STATUS_LINES("Active") + "# trailing comment of the document\n",
      ),
    );
    expect((await stat(file)).mode & 0o777).toBe(0o640);

    const before = await identity(file);
    let renames = 0;
    const counting = new DirectoryStore({ dir, hooks: { beforeRename: () => void renames++ } });
    await counting.list();
    expect(await counting.writeStatus("default/fancy", 1, status("Active"))).toBe("unchanged");
    // Same status, different key order: still unchanged (compared as data, not text).
    const reordered = {
      conditions: [{ reason: "Reconciled", status: "True" as const, type: "Ready" }],
      phase: "Active" as const,
      observedGeneration: 1,
    };
    expect(await counting.writeStatus("default/fancy", 1, reordered)).toBe("unchanged");
    expect(renames).toBe(0);
    expect(await identity(file)).toBe(before);
    expect(await readdir(dir)).toEqual(["fancy.yaml"]);
  });

  it("keeps a UTF-8 BOM and CRLF line ends", async () => {
    const file = join(dir, "win.yaml");
    const text = "\uFEFF" + manifest("win").replace(/\n/g, "\r\n");
    await writeFile(file, text);
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.writeStatus("default/win", 1, status("Idle"))).toBe("written");
    const expected =
      "\uFEFF" +
      (withMeta(manifest("win"), "win", 1, hashOf(manifest("win"))) + STATUS_LINES("Idle")).replace(/\n/g, "\r\n");
    expect(await readFile(file, "utf8")).toBe(expected);
  });

  it("changes only the right document of a multi-document file", async () => {
    const file = join(dir, "multi.yaml");
    const [a, b, c] = [manifest("a"), "# about b\n" + manifest("b"), manifest("c") + STATUS_LINES("Idle")];
    await writeFile(file, `${a}---\n${b}---\n${c}`);
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.writeStatus("default/b", 1, status("Active"))).toBe("written");
    const bOut = withMeta(b, "b", 1, hashOf(manifest("b"))) + STATUS_LINES("Active");
    expect(await readFile(file, "utf8")).toBe(`${a}---\n${bOut}---\n${c}`);
    // A status change on an existing block replaces just that block.
    expect(await store.writeStatus("default/c", 1, status("Active"))).toBe("written");
    const cOut = withMeta(manifest("c"), "c", 1, hashOf(manifest("c"))) + STATUS_LINES("Active");
    expect(await readFile(file, "utf8")).toBe(`${a}---\n${bOut}---\n${cOut}`);
  });

  it("keeps a comment edit made after list() and still writes status on top of it", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a"));
    const store = new DirectoryStore({ dir });
    await store.list();
    await writeFile(file, "# the user's note\n" + manifest("a").replace("kill: {}", "kill: {}   # why"));
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    const text = await readFile(file, "utf8");
    expect(text).toBe(
      "# the user's note\n" +
        withMeta(manifest("a"), "a", 1, hashOf(manifest("a"))).replace("kill: {}", "kill: {}   # why") +
        STATUS_LINES("Active"),
    );
  });

  it("never writes status computed for an old spec over a spec edit: conflict, then the new generation", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a"));
    const store = new DirectoryStore({ dir });
    expect((await store.list()).manifests[0]?.manifest.metadata.generation).toBe(1);
    const edited = manifest("a", { services: "api" });
    await writeFile(file, edited);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("conflict");
    expect(await readFile(file, "utf8")).toBe(edited);
    const snap = await store.list();
    expect(snap.manifests[0]?.manifest.metadata.generation).toBe(2);
    expect(snap.manifests[0]?.manifest.spec.selector.services).toEqual(["api"]);
    expect(await store.writeStatus("default/a", 2, status("Active", 2))).toBe("written");
    expect(await readFile(file, "utf8")).toBe(withMeta(edited, "a", 2, hashOf(edited)) + STATUS_LINES("Active", 2));
  });

  it("restores an in-place edit that lands between the last check and the rename", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a"));
    let raced = false;
    const store = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: async () => {
          if (raced) return;
          raced = true;
          await appendFile(file, "# written during the rename window\n"); // same inode
        },
      },
    });
    await store.list();
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    expect(await readFile(file, "utf8")).toBe(
      withMeta(manifest("a"), "a", 1, hashOf(manifest("a"))) +
        STATUS_LINES("Active") +
        "# written during the rename window\n",
    );
  });

  it("raises generation on a spec change (seen by list() before any write), not on status writes", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a"));
    const store = new DirectoryStore({ dir });
    const gen = async (): Promise<number | undefined> =>
      (await store.list()).manifests[0]?.manifest.metadata.generation;
    expect(await gen()).toBe(1);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    expect(await store.writeStatus("default/a", 1, status("Completed"))).toBe("written");
    expect(await gen()).toBe(1);
    // A comment or formatting edit is not a spec change.
    await writeFile(file, (await readFile(file, "utf8")).replace("services: [web]", 'services:   [ "web" ]   # same'));
    expect(await gen()).toBe(1);
    await writeFile(file, (await readFile(file, "utf8")).replace('[ "web" ]', '[ "web", "db" ]'));
    expect(await gen()).toBe(2);
    await writeFile(file, (await readFile(file, "utf8")).replace('[ "web", "db" ]', '[ "db" ]'));
    expect(await gen()).toBe(3);
    // A new process reads the generation the file stores: persisted with the last write (1),
    // plus one for the spec edited since.
    expect((await new DirectoryStore({ dir }).list()).manifests[0]?.manifest.metadata.generation).toBe(2);
    expect(await store.writeStatus("default/a", 3, status("Active", 3))).toBe("written");
    expect((await new DirectoryStore({ dir }).list()).manifests[0]?.manifest.metadata.generation).toBe(3);
  });

  it("never writes a file that no longer parses, nor one whose target document is invalid", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a") + "---\n" + manifest("b"));
    const store = new DirectoryStore({ dir });
    await store.list();
    const broken = manifest("a") + "---\n" + manifest("b").replace("kill: {}", "kill: {");
    await writeFile(file, broken);
    const before = await identity(file);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("invalid");
    const schemaBad = manifest("a").replace("kill: {}", "kill: {}\n  bogus: 1") + "---\n" + manifest("b");
    await writeFile(file, schemaBad);
    const before2 = await identity(file);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("invalid");
    expect(await readFile(file, "utf8")).toBe(schemaBad);
    expect(await identity(file)).toBe(before2);
    expect(before).not.toBe(before2);
  });

  it("writes a valid document next to a schema-invalid one, leaving the invalid one untouched", async () => {
    const file = join(dir, "a.yaml");
    const bad = manifest("b").replace("kill: {}", "kill: {}\n  bogus: 1");
    await writeFile(file, manifest("a") + "---\n" + bad);
    const store = new DirectoryStore({ dir });
    const snap = await store.list();
    expect(snap.invalid.map((i) => i.key)).toEqual(["default/b"]);
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    expect(await readFile(file, "utf8")).toBe(
      withMeta(manifest("a"), "a", 1, hashOf(manifest("a"))) + STATUS_LINES("Active") + "---\n" + bad,
    );
    expect(await store.writeStatus("default/b", 1, status("Active"))).toBe("invalid");
  });

  it("answers gone for a deleted file, a removed document and an unknown key", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await writeFile(join(dir, "m.yaml"), manifest("b") + "---\n" + manifest("c"));
    const store = new DirectoryStore({ dir });
    await store.list();
    await unlink(join(dir, "a.yaml"));
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("gone");
    await writeFile(join(dir, "m.yaml"), manifest("c"));
    expect(await store.writeStatus("default/b", 1, status("Active"))).toBe("gone");
    expect(await store.writeStatus("default/zzz", 1, status("Active"))).toBe("gone");
    expect(await readdir(dir)).toEqual(["m.yaml"]);
  });

  it("leaves the original intact after a crash between temp write and rename, and no temp file", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, manifest("a"));
    const crashing = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: async (temp) => {
          // The temp file is complete at this point: the crash is the only thing between it and the rename.
          expect(await readFile(temp, "utf8")).toContain("phase: Active");
          throw new Error("simulated crash");
        },
      },
    });
    await crashing.list();
    await expect(crashing.writeStatus("default/a", 1, status("Active"))).rejects.toThrow("simulated crash");
    expect(await readFile(file, "utf8")).toBe(manifest("a"));
    expect(await readdir(dir)).toEqual(["a.yaml"]);
  });

  it("sweeps temp files a real crash left behind on the next pass, never loading them", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    const ownLeftover = join(dir, `.chaosctl-${process.pid}-0a1b2c.tmp`);
    const staleOther = join(dir, ".chaosctl-999999-0a1b2d.tmp");
    const freshOther = join(dir, ".chaosctl-999998-0a1b2e.tmp");
    for (const f of [ownLeftover, staleOther, freshOther]) await writeFile(f, manifest("ghost"));
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(staleOther, old, old);
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/a"]);
    // A fresh temp file may be a write in flight, even one carrying our pid (another pid
    // namespace sharing the folder): left alone until provably stale (test/store/directory-temps).
    expect((await readdir(dir)).sort()).toEqual(
      [".chaosctl-999998-0a1b2e.tmp", `.chaosctl-${process.pid}-0a1b2c.tmp`, "a.yaml"].sort(),
    );
  });

  it("hands out copies: a caller mutating its snapshot's status in place cannot make a write look unchanged", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.writeStatus("default/a", 1, status("Idle"))).toBe("written");
    const st = (await store.list()).manifests[0]?.status;
    if (!st) throw new Error("no status");
    st.phase = "Active";
    expect(await store.writeStatus("default/a", 1, st)).toBe("written");
    expect((await store.list()).manifests[0]?.status?.phase).toBe("Active");
  });

  it("serialises concurrent writes to one file without losing either document's status", async () => {
    await writeFile(join(dir, "m.yaml"), manifest("a") + "---\n" + manifest("b"));
    const store = new DirectoryStore({ dir });
    await store.list();
    const results = await Promise.all([
      store.writeStatus("default/a", 1, status("Active")),
      store.writeStatus("default/b", 1, status("Idle")),
    ]);
    expect(results).toEqual(["written", "written"]);
    const snap = await store.list();
    expect(Object.fromEntries(snap.manifests.map((m) => [m.key, m.status?.phase]))).toEqual({
      "default/a": "Active",
      "default/b": "Idle",
    });
  });
});
