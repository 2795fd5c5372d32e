// The layering and size rules of docs/architecture.md, checked on the sources: every import of
// src/ allowed by the "Layers" table, no import circle between files, no file or function over
// its size without a `size:` comment saying why.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = "src";
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const GENERATED = join(SRC, "api", "generated");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((path) => {
  const text = readFileSync(path, "utf8");
  return { path, text, sf: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) };
});

/** Relative imports of a file (static, re-exports, dynamic; type-only included), as source paths. */
function importsOf(f: (typeof files)[number]): string[] {
  const out: string[] = [];
  const add = (spec: string): void => {
    if (spec.startsWith(".")) out.push(normalize(join(dirname(f.path), spec)).replace(/\.js$/, ".ts"));
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier)
      add((n.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(f.sf);
  return out;
}

/** The Layers table of docs/architecture.md: folder → folders it may import. */
function layerRules(): Map<string, Set<string>> {
  const doc = readFileSync("docs/architecture.md", "utf8");
  const section = doc.split(/^## /m).find((s) => s.startsWith("Layers"));
  if (!section) throw new Error('docs/architecture.md: no "## Layers" section');
  const rules = new Map<string, Set<string>>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    // | Folder | May import | Why |
    if (cells.length < 4 || cells[1] === "Folder" || /^-+$/.test(cells[1] ?? "")) continue;
    const may = (cells[2] ?? "").split(",").map((s) => s.trim());
    rules.set(cells[1] ?? "", new Set(may.filter(Boolean)));
  }
  return rules;
}

const folderOf = (path: string): string => relative(SRC, path).split("/")[0] ?? "";

describe("architecture (docs/architecture.md)", () => {
  it("every src/ folder has a row in the Layers table, and every import is one its row allows", () => {
    const rules = layerRules();
    expect(rules.size).toBeGreaterThan(5);
    const folders = [...new Set(files.map((f) => folderOf(f.path)))];
    const missing = folders.filter((d) => !rules.has(d));
    expect(
      missing,
      "folders without a row in docs/architecture.md (add one: which folders it may import, why)",
    ).toEqual([]);
    const broken: string[] = [];
    for (const f of files) {
      const from = folderOf(f.path);
      for (const target of importsOf(f)) {
        const to = folderOf(target);
        if (to !== from && !rules.get(from)?.has(to)) broken.push(`${f.path} imports ${target} (${from} → ${to})`);
      }
    }
    expect(broken, "imports the Layers table does not allow").toEqual([]);
  });

  it("no import circle between files", () => {
    const graph = new Map(files.map((f) => [f.path, importsOf(f).filter((t) => t !== f.path)]));
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (v: string): void => {
      state.set(v, "open");
      stack.push(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (state.get(w) === "open") circles.push([...stack.slice(stack.indexOf(w)), w].join(" → "));
        else if (!state.has(w)) visit(w);
      }
      stack.pop();
      state.set(v, "done");
    };
    for (const v of graph.keys()) if (!state.has(v)) visit(v);
    expect(circles).toEqual([]);
  });

  it(`no file over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES} without a size: comment`, () => {
    const over: string[] = [];
    for (const f of files) {
      if (f.path.startsWith(GENERATED)) continue;
      const lines = f.text.split("\n").length;
      if (lines > MAX_FILE_LINES && !/\/\/ size:|\* size:/.test(f.text)) over.push(`${f.path}: ${lines} lines`);
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && "body" in n && n.body) {
          const start = f.sf.getLineAndCharacterOfPosition(n.getStart()).line;
          const length = f.sf.getLineAndCharacterOfPosition(n.end).line - start + 1;
          // The comment just above: of the function itself, or of the statement that holds it.
          let holder: ts.Node = n;
          while (
            ts.isVariableDeclaration(holder.parent) ||
            ts.isVariableDeclarationList(holder.parent) ||
            ts.isVariableStatement(holder.parent) ||
            ts.isPropertyAssignment(holder.parent) ||
            ts.isPropertyDeclaration(holder.parent)
          )
            holder = holder.parent;
          const leading = f.text.slice(holder.getFullStart(), holder.getStart());
          if (length > MAX_FUNCTION_LINES && !/size:/.test(leading))
            over.push(`${f.path}:${start + 1}: a function of ${length} lines`);
        }
        ts.forEachChild(n, visit);
      };
      visit(f.sf);
    }
    expect(over).toEqual([]);
  });
});
