// Temp files of the directory store's atomic writes: two stores on one folder (one process, as
// the controller and a CLI verb or two tests can be) never take each other's write in flight for
// a leftover, and a leftover is swept only when provably stale (a dead pid of this host, or old).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdir, readdir, rmdir, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostTag, isStaleTemp, STALE_TEMP_MS, TempFiles, tempFileOwner } from "../../src/store/directory/atomic.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { manifest } from "./fixtures.js";
import { status, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("two DirectoryStores on one folder", () => {
  it("a list() by the other store while a write's temp file waits for its rename leaves that temp alone", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    // The second store reaches the folder through another path (a symlink), as a CLI verb may.
    const alias = `${dir}-alias`;
    await symlink(dir, alias);
    const other = new DirectoryStore({ dir: alias });
    let sawTemp = false;
    const writer = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: async (temp) => {
          sawTemp = (await readdir(dir)).some((f) => join(dir, f) === temp);
          await other.list(); // sweeps temp files
        },
      },
    });
    try {
      await writer.list();
      expect(await writer.writeStatus("default/a", 1, status("Active"))).toBe("written");
      expect(sawTemp).toBe(true);
      expect((await other.list()).manifests[0]?.status?.phase).toBe("Active");
      expect(await readdir(dir)).toEqual(["a.yaml"]);
    } finally {
      await unlink(alias);
    }
  });

  it("both write status to their own files concurrently while listing: every write lands, no temp is left", async () => {
    const mine = names(8, "a");
    const theirs = names(8, "b");
    for (const n of [...mine, ...theirs]) await writeFile(join(dir, `${n}.yaml`), manifest(n));
    const one = new DirectoryStore({ dir });
    const two = new DirectoryStore({ dir });
    await Promise.all([one.list(), two.list()]);
    const rounds = async (store: DirectoryStore, keys: string[]): Promise<string[]> => {
      const out: string[] = [];
      for (let round = 0; round < 4; round++) {
        const phase = round % 2 ? "Active" : "Idle";
        const writes = keys.map((k) => store.writeStatus(`default/${k}`, 1, status(phase)));
        const lists = [store.list(), store.list()]; // each list() sweeps temp files
        out.push(...(await Promise.all(writes)));
        await Promise.all(lists);
      }
      return out;
    };
    const [r1, r2] = await Promise.all([rounds(one, mine), rounds(two, theirs)]);
    expect([...r1, ...r2].every((r) => r === "written")).toBe(true);
    expect(r1.length + r2.length).toBe(64);
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.status?.phase)).toEqual(Array(16).fill("Active"));
    expect((await readdir(dir)).filter((f) => f.startsWith("."))).toEqual([]);
  });
});

describe("temp file names and staleness", () => {
  it("names are unique per store instance and per write, and carry pid and host", () => {
    const a = new TempFiles();
    const b = new TempFiles();
    const paths = [a.begin(dir), a.begin(dir), b.begin(dir), b.begin(dir)];
    expect(new Set(paths).size).toBe(4);
    for (const p of paths) expect(tempFileOwner(p)).toBe(process.pid);
    for (const p of paths) expect(p).toContain(`-${hostTag()}-`);
    for (const p of paths) expect(isStaleTemp(p, Date.now() - 10 * STALE_TEMP_MS, Date.now())).toBe(false); // in flight
    a.end(paths[0]!);
    expect(isStaleTemp(paths[0]!, Date.now() - 10 * STALE_TEMP_MS, Date.now())).toBe(true); // done, and old
    expect(isStaleTemp(paths[2]!, Date.now() - 10 * STALE_TEMP_MS, Date.now())).toBe(false); // b's, still in flight
    a.end(paths[1]!);
    b.end(paths[2]!);
    b.end(paths[3]!);
  });

  it("is stale only when provably so: a dead pid of this host, or older than the bound", () => {
    const now = Date.now();
    const host = hostTag();
    const dead = 4_194_303; // above any pid_max a machine runs near; process.kill(pid, 0) says ESRCH
    const name = (pid: number, h = host) => join(dir, `.chaosctl-${pid}-${h}-0123456789ab-00000001.tmp`);
    expect(isStaleTemp(name(dead), now, now)).toBe(true);
    expect(isStaleTemp(name(process.pid), now, now)).toBe(false); // ours and fresh: maybe another store's write
    expect(isStaleTemp(name(process.ppid), now, now)).toBe(false); // alive
    expect(isStaleTemp(name(dead, "ffffffff" === host ? "eeeeeeee" : "ffffffff"), now, now)).toBe(false); // another host's pid
    expect(isStaleTemp(name(process.ppid), now - STALE_TEMP_MS - 1, now)).toBe(true);
    // The older name format (no host): only its age proves anything.
    expect(isStaleTemp(join(dir, `.chaosctl-${dead}-0a1b2c.tmp`), now, now)).toBe(false);
    expect(isStaleTemp(join(dir, `.chaosctl-${process.pid}-0a1b2c.tmp`), now - STALE_TEMP_MS - 1, now)).toBe(true);
    expect(isStaleTemp(join(dir, "a.yaml"), now - STALE_TEMP_MS - 1, now)).toBe(false);
  });

  it("list() sweeps a dead process's and an old temp file, and leaves live ones", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    const host = hostTag();
    const deadOne = `.chaosctl-4194303-${host}-0123456789ab-00000001.tmp`;
    const oldOwn = `.chaosctl-${process.pid}-${host}-0123456789ab-00000002.tmp`;
    const freshOwn = `.chaosctl-${process.pid}-${host}-0123456789ab-00000003.tmp`;
    const freshLive = `.chaosctl-${process.ppid}-${host}-0123456789ab-00000004.tmp`;
    for (const f of [deadOne, oldOwn, freshOwn, freshLive]) await writeFile(join(dir, f), manifest("ghost"));
    const old = new Date(Date.now() - 2 * STALE_TEMP_MS);
    await utimes(join(dir, oldOwn), old, old);
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/a"]);
    expect((await readdir(dir)).sort()).toEqual([freshOwn, freshLive, "a.yaml"].sort());
  });

  it("a temp this process could not remove (the disk went read-only) is swept at the next list(), not after STALE_TEMP_MS", async () => {
    await writeFile(join(dir, "a.yaml"), manifest("a"));
    let temp = "";
    // The write's temp is complete; then its removal fails (here: a folder took its name, as
    // EROFS would make the unlink fail) and the swap fails with it.
    const store = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: async (t) => {
          temp = t;
          await unlink(t);
          await mkdir(t);
        },
      },
    });
    await store.list();
    await expect(store.writeStatus("default/a", 1, status("Active"))).rejects.toThrow();
    expect(temp).not.toBe("");
    // The disk is writable again and what stayed behind is the temp file itself, fresh and ours.
    await rmdir(temp);
    await writeFile(temp, manifest("ghost"));
    expect(isStaleTemp(temp, Date.now(), Date.now())).toBe(true);
    await new DirectoryStore({ dir }).list();
    expect(await readdir(dir)).toEqual(["a.yaml"]);
    // Swept, it is forgotten: a file of that name again is not taken for a leftover.
    expect(isStaleTemp(temp, Date.now(), Date.now())).toBe(false);
  });
});
