// loadPaths over real temp directories: recursion, duplicates across files, size bound on a
// 50 MB file, unreadable entries, stdin. Every path is accounted for; others are unaffected.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allProblems, duplicateProblems, loadPaths } from "../../src/api/load.js";

const manifest = (name: string, namespace?: string) =>
  `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaosctl-load-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPaths", () => {
  it("walks directories recursively for .yaml/.yml only, in a stable order", async () => {
    await mkdir(join(dir, "b/deeper"), { recursive: true });
    await writeFile(join(dir, "z.yaml"), manifest("z"));
    await writeFile(join(dir, "b/deeper/y.yml"), manifest("y"));
    await writeFile(join(dir, "b/README.md"), "# not a manifest\n");
    await writeFile(join(dir, "a.YAML"), manifest("a"));
    const r = await loadPaths([dir]);
    expect(allProblems(r)).toEqual([]);
    expect(r.files).toEqual([join(dir, "a.YAML"), join(dir, "b/deeper/y.yml"), join(dir, "z.yaml")]);
    expect(r.documents.map((d) => d.key)).toEqual(["default/a", "default/y", "default/z"]);
  });

  it("reports a namespace/name defined twice, across files and within one, on the repeat", async () => {
    await writeFile(join(dir, "1.yaml"), manifest("web") + "---\n" + manifest("web", "other"));
    await writeFile(join(dir, "2.yaml"), "# again\n" + manifest("web"));
    await writeFile(join(dir, "3.yaml"), manifest("db") + "---\n" + manifest("db"));
    const r = await loadPaths([dir]);
    const dups = allProblems(r).filter((p) => p.rule === "duplicateName");
    expect(dups).toEqual([
      {
        file: join(dir, "2.yaml"),
        line: 5,
        column: 9,
        path: "metadata.name",
        rule: "duplicateName",
        message: `duplicate ChaosSchedule "default/web": already defined at ${join(dir, "1.yaml")}:4`,
      },
      {
        file: join(dir, "3.yaml"),
        line: 12,
        column: 9,
        path: "metadata.name",
        rule: "duplicateName",
        message: `duplicate ChaosSchedule "default/db": already defined at ${join(dir, "3.yaml")}:4`,
      },
    ]);
    expect(allProblems(r)).toEqual(dups);
    // The first definition is taken; the repeat is not.
    expect(r.documents.map((d) => [d.key, d.manifest !== undefined])).toEqual([
      ["default/web", true],
      ["other/web", true],
      ["default/web", false],
      ["default/db", true],
      ["default/db", false],
    ]);
    // The pure function agrees and does not mutate.
    expect(duplicateProblems(r.documents)).toEqual(dups);
  });

  it("refuses a 50 MB file by its size, without reading it, and still loads the others", async () => {
    const big = join(dir, "big.yaml");
    await writeFile(big, Buffer.alloc(50 * 1024 * 1024, "# padding line\n"));
    await writeFile(join(dir, "ok.yaml"), manifest("ok"));
    const t0 = performance.now();
    const r = await loadPaths([dir]);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(500);
    expect(r.problems).toEqual([
      {
        file: big,
        line: 0,
        column: 0,
        path: "",
        rule: "fileTooLarge",
        message: "too large: 50 MiB, the limit is 1 MiB; not read",
      },
    ]);
    expect(r.documents.map((d) => d.key)).toEqual(["default/ok"]);
    expect(r.documents[0]?.manifest).toBeDefined();
  });

  it("reports unreadable entries (dangling symlink, symlink loop, missing path) and loads the rest", async () => {
    // Tests run as root, where chmod 000 does not stop a read: these are entries that really
    // cannot be read by anyone.
    await writeFile(join(dir, "good.yaml"), manifest("good"));
    await symlink(join(dir, "nowhere.yaml"), join(dir, "dangling.yaml"));
    await symlink(join(dir, "loop-b.yaml"), join(dir, "loop-a.yaml"));
    await symlink(join(dir, "loop-a.yaml"), join(dir, "loop-b.yaml"));
    // A directory named like a manifest is a directory: walked, not read as a file.
    await mkdir(join(dir, "dir.yaml"));
    await writeFile(join(dir, "dir.yaml", "inner.yaml"), manifest("inner"));
    const missing = join(dir, "missing.yaml");
    const r = await loadPaths([dir, missing]);
    expect(r.problems).toEqual([
      {
        file: join(dir, "dangling.yaml"),
        line: 0,
        column: 0,
        path: "",
        rule: "unreadable",
        message: "cannot read: no such file (or a dangling symlink)",
      },
      {
        file: join(dir, "loop-a.yaml"),
        line: 0,
        column: 0,
        path: "",
        rule: "unreadable",
        message: "cannot read: symlink loop",
      },
      {
        file: join(dir, "loop-b.yaml"),
        line: 0,
        column: 0,
        path: "",
        rule: "unreadable",
        message: "cannot read: symlink loop",
      },
      {
        file: missing,
        line: 0,
        column: 0,
        path: "",
        rule: "unreadable",
        message: "cannot read: no such file (or a dangling symlink)",
      },
    ]);
    expect(r.documents.map((d) => [d.key, d.manifest !== undefined])).toEqual([
      ["default/inner", true],
      ["default/good", true],
    ]);
    expect(r.files).toHaveLength(6);
  });

  it("reads '-' from the given stdin, bounded", async () => {
    async function* chunks(...parts: string[]) {
      for (const p of parts) yield Buffer.from(p);
    }
    const r = await loadPaths(["-"], {
      stdin: chunks(manifest("from-stdin").slice(0, 40), manifest("from-stdin").slice(40)),
    });
    expect(r.files).toEqual(["<stdin>"]);
    expect(r.documents[0]?.manifest?.metadata.name).toBe("from-stdin");
    const big = await loadPaths(["-"], { stdin: chunks("a".repeat(600), "b".repeat(600)), maxBytes: 1000 });
    expect(big.problems).toEqual([
      {
        file: "<stdin>",
        line: 0,
        column: 0,
        path: "",
        rule: "fileTooLarge",
        message: "too large: more than 1000 bytes, the limit is 1000 bytes; not read",
      },
    ]);
  });

  it("a binary file among good ones is a located problem of its own", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await writeFile(join(dir, "b.yaml"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]));
    const r = await loadPaths([dir]);
    expect(r.problems).toEqual([
      {
        file: join(dir, "b.yaml"),
        line: 1,
        column: 8,
        path: "",
        rule: "binary",
        message: "binary content: the file contains a NUL byte; not a YAML manifest",
      },
    ]);
    expect(r.documents.map((d) => d.key)).toEqual(["default/a"]);
  });
});

describe("loadPaths, edge cases", () => {
  let d: string;
  beforeEach(async () => {
    d = await mkdtemp(join(tmpdir(), "chaosctl-edge-"));
  });
  afterEach(async () => {
    await rm(d, { recursive: true, force: true });
  });

  it("a directory without any manifest file is a problem, so CI pointed at the wrong folder fails", async () => {
    await writeFile(join(d, "notes.txt"), "hello\n");
    const r = await loadPaths([d, d]);
    expect(r.problems).toEqual([
      { file: d, line: 0, column: 0, path: "", rule: "noFiles", message: "no .yaml or .yml files in this directory" },
    ]);
    expect(r.files).toEqual([]);
  });

  it("follows merge keys (<<) like kubectl, still bounded by the alias limit", async () => {
    const text =
      "apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: merged\n  labels: &l {team: web}\n" +
      "  annotations:\n    <<: *l\n    owner: me\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n";
    await writeFile(join(d, "m.yaml"), text);
    const r = await loadPaths([join(d, "m.yaml")]);
    expect(allProblems(r)).toEqual([]);
    expect(r.documents[0]?.manifest?.metadata.annotations).toEqual({ team: "web", owner: "me" });
  });
});
