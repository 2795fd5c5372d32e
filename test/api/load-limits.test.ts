// The loader's bounds on hostile input: every limit refuses with one located problem and a clear
// message, and the ordinary cases near a limit still load. Speed and memory of the same inputs
// are measured in bench/yaml.ts, not asserted here.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allProblems, loadText, manifestsOf } from "../../src/api/load.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { tempDir } from "../store/helpers.js";

const HEAD = "apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\n";
const valid = (name: string): string =>
  HEAD + `metadata: {name: ${name}}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n`;

function problems(text: string, opts = {}) {
  return allProblems(loadText(text, "m.yaml", opts)).map(({ line, column, rule, message }) => ({
    line,
    column,
    rule,
    message,
  }));
}

describe("loader limits", () => {
  it("a map of 60,000 keys is refused at the token limit, located where the limit was crossed", () => {
    let text = HEAD + "metadata:\n  name: x\n  labels:\n";
    for (let i = 0; i < 60_000; i++) text += `    k${i}: v\n`;
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      rule: "tokenLimit",
      message: expect.stringContaining("more than 100,000"),
    });
    // The lexer yields 8 tokens per `    kN: v` line.
    expect(found[0]!.line).toBeGreaterThan(12_000);
    expect(found[0]!.line).toBeLessThan(13_000);
  });

  it("duplicate keys: found in one pass, each at the repeat, naming the first line", () => {
    let labels = "";
    for (let i = 0; i < 5_000; i++) labels += `    k${i}: v\n`;
    const text =
      HEAD +
      "metadata:\n  name: x\n  labels:\n" +
      labels +
      "    k0: again\n" +
      "spec: {fault: {kill: {}}, a: 1, a: 2}\n";
    expect(problems(text)).toEqual([
      { line: 5006, column: 5, rule: "yamlSyntax", message: 'Map keys must be unique: "k0" is already at line 6' },
      { line: 5007, column: 33, rule: "yamlSyntax", message: 'Map keys must be unique: "a" is already at line 5007' },
    ]);
    // Keys compare by value and type as in the yaml library: 1 and "1" are two keys, and merge
    // keys may repeat; a repeat in a nested flow map is found too.
    for (const text of ["a: {1: x, '1': y}\n", "b: &b {x: 1}\na: {<<: *b, <<: *b}\n"])
      expect(problems(text)).not.toContainEqual(expect.objectContaining({ rule: "yamlSyntax" }));
    expect(problems("a: [{b: {c: 1, c: 2}}]\n")).toEqual([
      { line: 1, column: 16, rule: "yamlSyntax", message: 'Map keys must be unique: "c" is already at line 1' },
    ]);
  });

  it("documents per file are capped, and the file is refused at the first one past the cap", () => {
    const many = "---\na: 1\n".repeat(100_000);
    expect(problems(many)).toEqual([
      {
        line: 2001,
        column: 1,
        rule: "documentLimit",
        message: "too many documents (more than 1,000 in one file): split it into several files; not parsed further",
      },
    ]);
    expect(problems("---\n".repeat(100_000))[0]?.rule).toBe("documentLimit");
    // Up to the cap, every document loads.
    const names = Array.from({ length: 200 }, (_, i) => `s${i}`);
    const r = loadText(names.map(valid).join("---\n"), "m.yaml", { maxDocuments: 200 });
    expect(allProblems(r)).toEqual([]);
    expect(manifestsOf(r)).toHaveLength(200);
  });

  it("deep nesting is refused before it is built: flow, compact block sequences, block maps", () => {
    for (const text of [
      "[".repeat(500_000) + "]".repeat(500_000),
      "{a: ".repeat(200_000) + "}".repeat(200_000),
      "- ".repeat(400_000) + "x\n",
    ]) {
      expect(problems(text)).toEqual([
        {
          line: 1,
          column: expect.any(Number),
          rule: "depthLimit",
          message: "nesting too deep to parse (the limit is 64 levels)",
        },
      ]);
    }
    let block = "";
    for (let i = 0; i < 1_000; i++) block += " ".repeat(i) + "k:\n";
    expect(problems(block)[0]).toMatchObject({ rule: "depthLimit" });
  });

  it("problems per document are capped, with a count of the rest", () => {
    let extra = "";
    for (let i = 0; i < 200; i++) extra += `x${i}: 1\n`;
    const found = problems(valid("ok") + extra);
    expect(found).toHaveLength(51);
    expect(found.slice(0, 50).every((p) => p.message.includes("unknown field"))).toBe(true);
    expect(found[50]).toEqual({
      line: 56,
      column: 1,
      rule: "problemLimit",
      message: "150 more problems in this document not shown (at most 50 are reported per document)",
    });
    // Many bad documents in one file: each is capped on its own, and good ones still load.
    const r = loadText([valid("ok") + extra, valid("fine")].join("---\n"), "m.yaml");
    expect(manifestsOf(r).map((m) => m.metadata.name)).toEqual(["fine"]);
  });
});

describe("a costly file in a watched folder", () => {
  it("is one invalid entry of the snapshot; the other manifests load as usual", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "a-keys.yaml"), Array.from({ length: 60_000 }, (_, i) => `k${i}: 1\n`).join(""));
      await writeFile(join(dir, "b-deep.yaml"), "[".repeat(500_000) + "]".repeat(500_000));
      await writeFile(join(dir, "c-ok.yaml"), valid("ok"));
      const snap = await new DirectoryStore({ dir }).list();
      expect(snap.manifests.map((m) => m.key)).toEqual(["default/ok"]);
      expect(snap.invalid.map((i) => i.problems.map((p) => p.rule))).toEqual([["tokenLimit"], ["depthLimit"]]);
    } finally {
      await cleanup();
    }
  });
});
