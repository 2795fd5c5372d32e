// Two processes that are both pid 1 (each in its own pid namespace, as two controller containers
// sharing a bind-mounted folder are) write status to one folder while listing it. With temp
// names that carried only the pid, each list() swept the other's in-flight temp as "our own
// leftover" and the other's rename failed with ENOENT (the store before the fix, same script:
// 7 to 16 of 320 writes failed, in each of 4 runs). Runs the built store (dist/, `npm run build`) under unshare(1) as root.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { manifest } from "./fixtures.js";
import { tempDir } from "./helpers.js";

const run = promisify(execFile);
const STORE = resolve("dist/src/store/directory/store.js");

const CHILD = `
const [storeUrl, dir, prefix, n] = process.argv.slice(2);
const { DirectoryStore } = await import(storeUrl);
const store = new DirectoryStore({ dir });
await store.list();
const keys = Array.from({ length: Number(n) }, (_, i) => "default/" + prefix + i);
const results = [];
for (let round = 0; round < 20; round++) {
  const status = { observedGeneration: 1, phase: round % 2 ? "Active" : "Idle", conditions: [{ type: "Ready", status: "True", reason: "Reconciled" }] };
  const writes = keys.map((k) => store.writeStatus(k, 1, status).catch((e) => "error: " + e.message));
  const lists = [store.list(), store.list()];
  results.push(...(await Promise.all(writes)));
  await Promise.all(lists);
}
console.log(JSON.stringify({ pid: process.pid, results }));
`;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe("two DirectoryStores in two processes with the same pid, on one folder", () => {
  it("never sweep each other's temp file in flight: every write lands", async () => {
    expect(process.getuid?.(), "unshare --pid needs root").toBe(0);
    expect(existsSync(STORE), "run `npm run build` first").toBe(true);
    expect(
      await readFile(resolve("dist/src/store/directory/atomic.js"), "utf8"),
      "dist/ is older than the fix: `npm run build`",
    ).toContain("isStaleTemp");
    const files = join(dir, "files");
    const { dir: scratch, cleanup: dropScratch } = await tempDir();
    try {
      const child = join(scratch, "child.mjs");
      await writeFile(child, CHILD);
      await run("mkdir", [files]);
      for (const p of ["a", "b"])
        for (let i = 0; i < 8; i++) await writeFile(join(files, `${p}${i}.yaml`), manifest(`${p}${i}`));
      const one = (prefix: string) =>
        run(
          "unshare",
          ["--pid", "--fork", "--mount-proc", process.execPath, child, pathToFileURL(STORE).href, files, prefix, "8"],
          { timeout: 60_000 },
        );
      const outs = await Promise.all([one("a"), one("b")]);
      for (const { stdout } of outs) {
        const r = JSON.parse(stdout) as { pid: number; results: string[] };
        expect(r.pid).toBe(1);
        expect(r.results).toEqual(Array(160).fill("written"));
      }
      const snap = await new DirectoryStore({ dir: files }).list();
      expect(snap.manifests.map((m) => m.status?.phase)).toEqual(Array(16).fill("Active"));
      expect((await readdir(files)).filter((f) => f.startsWith("."))).toEqual([]);
    } finally {
      await dropScratch();
    }
  });
});
