// apply / delete / patchSpec of the directory store on real files in temp folders.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { ManifestRejected, type Origin } from "../../src/store/store.js";
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

describe("apply", () => {
  it("creates <name>.yaml, then answers unchanged, then configured on a change", async () => {
    const store = new DirectoryStore({ dir });
    expect(await store.apply(obj(manifest("a")), opts)).toEqual({ result: "created", key: "default/a", generation: 1 });
    expect(await readdir(dir)).toEqual(["a.yaml"]);
    const written = parse(await readFile(join(dir, "a.yaml"), "utf8")) as ChaosSchedule;
    expect(written.metadata.annotations).toMatchObject({ "chaosctl.io/applied-by": "alice@laptop", "chaosctl.io/applied-at": now.toISOString() });
    expect(written.metadata.generation).toBe(1);
    const before = await readFile(join(dir, "a.yaml"));
    expect(await store.apply(obj(manifest("a")), { origin: { appliedBy: "bob@x" } })).toMatchObject({ result: "unchanged", generation: 1 });
    expect((await readFile(join(dir, "a.yaml"))).equals(before)).toBe(true);
    expect(await store.apply(obj(manifest("a", { services: "api" })), opts)).toMatchObject({ result: "configured", generation: 2 });
    const snap = await store.list();
    expect(snap.manifests[0]?.manifest.spec.selector.services).toEqual(["api"]);
    expect(snap.manifests[0]?.manifest.metadata.generation).toBe(2);
  });
});
