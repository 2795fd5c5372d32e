// The directory store's watcher with real chokidar on real temp folders.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdir, rename, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DirectoryStore, DirectoryMissingError } from "../../src/store/directory/store.js";
import { manifest } from "./fixtures.js";
import { status, tempDir, waitFor } from "./helpers.js";

let base: string;
let cleanup: () => Promise<void>;
let dir: string;
let store: DirectoryStore;
let calls = 0;
let stop: (() => Promise<void>) | undefined;

beforeEach(async () => {
  ({ dir: base, cleanup } = await tempDir());
  dir = join(base, "manifests");
  await mkdir(dir);
  calls = 0;
  store = new DirectoryStore({ dir, debounceMs: 30, rootPollMs: 50 });
  stop = await store.watch(() => void calls++);
});

afterEach(async () => {
  await stop?.();
  await store.close();
  await cleanup();
});

/**
 * Waits for onChange to run once more than `before`, then for the calls to go quiet: none for
 * 400 ms (past the watcher's second look at what it flushed), so that a loaded machine's late
 * events are not counted against the next step.
 */
async function changed(before: number, what: string): Promise<void> {
  await waitFor(() => calls > before, 5000, what);
  let seen = calls;
  let quietSince = Date.now();
  await waitFor(
    () => {
      if (calls !== seen) [seen, quietSince] = [calls, Date.now()];
      return Date.now() - quietSince >= 400;
    },
    5000,
    `${what}: the watcher going quiet`,
  );
}

describe("watch", () => {
  it("calls onChange for add, change, delete and new folders, debounced, and ignores dotfiles", async () => {
    let n = calls;
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await changed(n, "add");
    n = calls;
    await writeFile(join(dir, "a.yaml"), manifest("a", { services: "api" }));
    await changed(n, "change");
    n = calls;
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "b.yaml"), manifest("b"));
    await changed(n, "file in a new folder");
    n = calls;
    await unlink(join(dir, "a.yaml"));
    await changed(n, "unlink");
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/b"]);

    // A burst of writes is one call; dotfiles and non-YAML files are none.
    n = calls;
    for (let i = 0; i < 5; i++) await writeFile(join(dir, "sub", "b.yaml"), manifest("b", { services: `s${i}` }));
    await changed(n, "burst");
    expect(calls - n).toBeGreaterThanOrEqual(1);
    expect(calls - n).toBeLessThan(5);
    n = calls;
    await writeFile(join(dir, ".swap.yaml"), "x");
    await writeFile(join(dir, "notes.txt"), "x");
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(n);
  });

  it("does not wake the controller for its own status write, but does for the user's next edit", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await changed(0, "add");
    await store.list();
    const n = calls;
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    await new Promise((r) => setTimeout(r, 400));
    expect(calls).toBe(n);
    await writeFile(join(dir, "a.yaml"), manifest("a", { services: "api" }));
    await changed(n, "user edit after our write");
  });

  it("wakes for a user's edit that lands within chokidar's 50 ms change throttle of our own status write", async () => {
    // chokidar reports a path's next "change" only 50 ms after its last one, with no trailing
    // event: a user's save right behind our status write used to reach the controller only at
    // its resync. Both ways a user saves: in place (most editors) and a rename into place.
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await changed(0, "add");
    for (let round = 0; round < 8; round++) {
      const { manifests } = await store.list();
      const generation = manifests[0]?.manifest.metadata.generation ?? 0;
      await new Promise((r) => setTimeout(r, 120)); // past the throttle of the previous round
      const n = calls;
      expect(await store.writeStatus("default/a", generation, status("Active", round))).toBe("written");
      await new Promise((r) => setTimeout(r, 10));
      const edit = manifest("a", { services: `svc${round}` });
      if (round % 2 === 0) await writeFile(join(dir, "a.yaml"), edit);
      else {
        await writeFile(join(dir, ".a.yaml.tmp"), edit);
        await rename(join(dir, ".a.yaml.tmp"), join(dir, "a.yaml"));
      }
      await waitFor(() => calls > n, 3000, `round ${round}: the user's edit right after our status write`);
      await new Promise((r) => setTimeout(r, 150));
    }
  });

  it("survives the folder being deleted, and picks it up again when it is re-created", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await changed(0, "add");
    let n = calls;
    await rm(dir, { recursive: true });
    await changed(n, "folder deleted");
    await expect(store.list()).rejects.toBeInstanceOf(DirectoryMissingError);

    n = calls;
    await mkdir(dir);
    await writeFile(join(dir, "b.yaml"), manifest("b"));
    await changed(n, "folder re-created");
    expect((await store.list()).manifests.map((m) => m.key)).toEqual(["default/b"]);
    // The new folder is really watched, not just noticed once.
    n = calls;
    await writeFile(join(dir, "c.yaml"), manifest("c"));
    await changed(n, "add in the re-created folder");
  });

  it("survives the folder being renamed away and back", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    await changed(0, "add");
    let n = calls;
    await rename(dir, join(base, "elsewhere"));
    await changed(n, "folder renamed away");
    n = calls;
    await rename(join(base, "elsewhere"), dir);
    await changed(n, "folder back");
    n = calls;
    await writeFile(join(dir, "a.yaml"), manifest("a", { services: "api" }));
    await changed(n, "change after the folder came back");
  });
});
