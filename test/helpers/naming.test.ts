// The test groups are chosen by file name (vitest.config.ts): a file that reaches the real
// engine, a test cluster or real network namespaces must be named *.docker.test.ts, or it runs
// in the parallel unit group, beside other engine tests, without the engine lock's one-at-a-time.
// This catches a misnamed file by what it imports.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
// Modules that only a real-engine test has reason to import.
const ENGINE_MODULES =
  /from "(\.\.?\/)+(src\/)?(helpers\/(docker|cluster|kernel|events|fresh)|e2e\/harness|faults\/netns-fixture|engine\/docker)\.js"/;

function testFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) testFiles(p, out);
    else if (e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

describe("test file names", () => {
  it("every test file that imports an engine helper is named *.docker.test.ts", () => {
    const misnamed = testFiles(join(ROOT, "test"))
      .filter((f) => !f.endsWith(".docker.test.ts") && f !== import.meta.filename) // this file quotes the imports
      .filter((f) => ENGINE_MODULES.test(readFileSync(f, "utf8")))
      .map((f) => relative(ROOT, f));
    expect(misnamed, "rename these to *.docker.test.ts").toEqual([]);
  });

  it("the check sees an engine import (it can fail)", () => {
    expect(ENGINE_MODULES.test('import { docker } from "../helpers/docker.js";')).toBe(true);
    expect(ENGINE_MODULES.test('import { DockerEngine } from "../../src/engine/docker.js";')).toBe(true);
    expect(ENGINE_MODULES.test('import { manifest } from "../support/builders.js";')).toBe(false);
  });
});
