// DirectoryStore.list() keeps parsed files and re-reads only what changed (the idle pass):
// a change must always be seen, whatever its timing, and an unchanged folder is not read.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stat } from "node:fs/promises";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { stampProves, type FileStamp } from "../../src/store/directory/scan.js";
import { manifest } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

type Listed = Awaited<ReturnType<DirectoryStore["list"]>>;
/** The service the (only) selector of `key` names: the fixtures differ there, at equal length. */
const svc = (list: Listed, key = "default/a"): string | undefined =>
  list.manifests.find((m) => m.key === key)?.manifest.spec.selector?.services?.[0];
const version = (v: string): string => manifest("a", { services: v });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("DirectoryStore.list() cache", () => {
  it("sees a same-size edit made in the same clock tick as the write it last read", async () => {
    const file = join(dir, "a.yaml");
    const store = new DirectoryStore({ dir });
    for (let i = 0; i < 50; i++) {
      // Two writes of equal length back to back (well inside one timestamp tick), each listed.
      await writeFile(file, version("web1"));
      expect(svc(await store.list())).toBe("web1");
      await writeFile(file, version("web2"));
      expect(svc(await store.list())).toBe("web2");
    }
  });

  it("sees an edit whose mtime was set back to the old one (ctime still moves)", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, version("web1"));
    const old = new Date(Date.now() - 3600_000);
    await utimes(file, old, old);
    const store = new DirectoryStore({ dir });
    await sleep(120); // past the racy margin: the stamp is trusted from now on
    await store.list();
    expect(svc(await store.list())).toBe("web1");
    await writeFile(file, version("web2"));
    await utimes(file, old, old);
    expect(svc(await store.list())).toBe("web2");
  });

  it("sees a file renamed over another one of the same size and times (a new inode)", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, version("web1"));
    const store = new DirectoryStore({ dir });
    await sleep(120);
    await store.list();
    await store.list();
    const other = join(dir, ".next");
    await writeFile(other, version("web2"));
    const st = await stat(file);
    await utimes(other, st.atime, st.mtime);
    await rename(other, file);
    expect(svc(await store.list())).toBe("web2");
  });

  it("does not read an unchanged file again once its stamp is older than the racy margin", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await writeFile(join(dir, "b.yaml"), manifest("b"));
    const store = new DirectoryStore({ dir });
    await sleep(120);
    const first = await store.list();
    // The store's read cache (files.ts) reads a file through readState.
    const cache = (store as unknown as { cache: { readState: (p: string, r: string) => Promise<unknown> } }).cache;
    const reads = vi.spyOn(cache, "readState");
    const again = await store.list();
    expect(again.manifests.map((m) => m.key)).toEqual(first.manifests.map((m) => m.key));
    expect(reads).not.toHaveBeenCalled();
    // A write (ours) makes the file current again only after it is read back.
    expect(await store.writeStatus("default/a", 1, { phase: "Idle" })).toBe("written");
    expect((await store.list()).manifests.find((m) => m.key === "default/a")?.status?.phase).toBe("Idle");
  });

  it("a stamp proves nothing within the margin of the read, and whole-second stamps get the wide margin", () => {
    const s = (ns: bigint): FileStamp => ({ dev: 1n, ino: 1n, size: 1n, mtimeNs: ns, ctimeNs: ns });
    const t = 1_800_000_000_123_456_789n;
    expect(stampProves(s(t), t + 10_000_000n)).toBe(false);
    expect(stampProves(s(t), t + 100_000_000n)).toBe(true);
    expect(stampProves(s(1_800_000_000_000_000_000n), 1_800_000_000_000_000_000n + 1_000_000_000n)).toBe(false);
    expect(stampProves(s(1_800_000_000_000_000_000n), 1_800_000_000_000_000_000n + 4_000_000_000n)).toBe(true);
    expect(stampProves(undefined, t)).toBe(false);
  });
});
