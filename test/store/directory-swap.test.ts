// The status write's last step (src/store/directory/swap.ts) against a user editing at each
// point inside it, on real files: a save by rename or by create, an in-place write before and
// after our link. The user's bytes always end up in the file (or, when two user writes race
// each other, the older one's kept aside), and a crash's swap file is put back, never deleted.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeSync, fstatSync, openSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { STALE_SWAP_MS, swapTarget } from "../../src/store/directory/swap.js";
import { manifest } from "./fixtures.js";
import { status, tempDir } from "./helpers.js";

let dir: string;
let file: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, "a.yaml");
  await writeFile(file, manifest("a"));
});
afterEach(() => cleanup());

const dotfiles = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.startsWith("."));
const swapName = (pid: number, host = "0a0b0c0d") => join(dir, `.a.yaml.chaosctl-swap-${pid}-${host}-0123456789ab`);

/** A store whose first write meets `race` at one seam; later attempts run undisturbed. */
function racing(
  seam: "afterTake" | "afterLink",
  race: (target: string) => void,
  before?: (target: string) => void,
): DirectoryStore {
  let armed = true;
  return new DirectoryStore({
    dir,
    hooks: {
      beforeRename: (_temp, target) => {
        if (armed) before?.(target);
      },
      [seam]: (target: string) => {
        if (!armed) return;
        armed = false;
        race(target);
      },
    },
  });
}

describe("a user's edit inside the swap", () => {
  it("a save created at the path while it is absent: kept; our link fails and the write is planned again on top of it", async () => {
    const store = racing("afterTake", (target) => writeFileSync(target, manifest("a") + "# saved while absent\n"));
    await store.list();
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    const text = await readFile(file, "utf8");
    expect(text).toContain("# saved while absent\n");
    expect(text).toContain("phase: Active");
    expect(await dotfiles()).toEqual([]);
  });

  it("a save renamed over the path right before the take: the taken file is theirs, it goes back", async () => {
    let once = true;
    const store = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: (_temp, target) => {
          if (!once) return;
          once = false;
          writeFileSync(join(dir, "new.tmp"), manifest("a") + "# renamed save\n");
          renameSync(join(dir, "new.tmp"), target);
        },
      },
    });
    await store.list();
    expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
    const text = await readFile(file, "utf8");
    expect(text).toContain("# renamed save\n");
    expect(text).toContain("phase: Active");
    expect(await dotfiles()).toEqual([]);
  });

  it("an in-place write (opened before the take) landing after the take, before the check: the file goes back", async () => {
    let fd = -1;
    const store = racing(
      "afterTake",
      () => writeSync(fd, "# in place after take\n", fstatSync(fd).size),
      (target) => (fd = openSync(target, "r+")),
    );
    try {
      await store.list();
      expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
      expect(await readFile(file, "utf8")).toContain("# in place after take\n");
      expect(await dotfiles()).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it("an in-place write landing after our link: the written-into file goes back over ours (the same inode); status is planned again on top", async () => {
    let fd = -1;
    const store = racing(
      "afterLink",
      () => writeSync(fd, "# in place after link\n", fstatSync(fd).size),
      (target) => (fd = openSync(target, "r+")),
    );
    // A writer that does it on every attempt: each time its file goes back, and after the last
    // attempt the path holds that very file (the inode it writes into) with all its bytes.
    let late = -1;
    const plain = new DirectoryStore({
      dir,
      hooks: {
        beforeRename: (_temp, target) => {
          if (late >= 0) closeSync(late);
          late = openSync(target, "r+");
        },
        afterLink: () => void writeSync(late, "# late\n", fstatSync(late).size),
      },
    });
    try {
      await store.list();
      expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
      const text = await readFile(file, "utf8");
      expect(text).toContain("# in place after link\n");
      expect(text).toContain("phase: Active");
      expect(await dotfiles()).toEqual([]);
      await plain.list();
      expect(await plain.writeStatus("default/a", 1, status("Failed"))).toBe("conflict");
      expect((await stat(file)).ino).toBe(fstatSync(late).ino);
      const after = await readFile(file, "utf8");
      expect(after.match(/# late\n/g)).toHaveLength(5); // MAX_ATTEMPTS
      expect(after).not.toContain("phase: Failed");
      expect(await dotfiles()).toEqual([]);
    } finally {
      closeSync(fd);
      if (late >= 0) closeSync(late);
    }
  });

  it("an in-place write and a renamed save both after our link: the save stays, the in-place bytes are kept aside", async () => {
    let fd = -1;
    const store = racing(
      "afterLink",
      (target) => {
        writeSync(fd, "# in place\n", fstatSync(fd).size);
        writeFileSync(join(dir, "new.tmp"), manifest("a") + "# renamed save\n");
        renameSync(join(dir, "new.tmp"), target);
      },
      (target) => (fd = openSync(target, "r+")),
    );
    try {
      await store.list();
      expect(await store.writeStatus("default/a", 1, status("Active"))).toBe("written");
      const text = await readFile(file, "utf8");
      expect(text).toContain("# renamed save\n");
      expect(text).toContain("phase: Active");
      const kept = await dotfiles();
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatch(/^\.a\.yaml\.chaosctl-rescued-/);
      expect(await readFile(join(dir, kept[0] ?? ""), "utf8")).toContain("# in place\n");
    } finally {
      closeSync(fd);
    }
  });
});

describe("swap files left by a crash (or another process in the middle of its write)", () => {
  it("recognised by name only", () => {
    expect(swapTarget(swapName(42))).toBe(file);
    expect(swapTarget(join(dir, ".a.yaml.chaosctl-rescued-1"))).toBeUndefined();
    expect(swapTarget(join(dir, ".chaosctl-42-0a1b.tmp"))).toBeUndefined();
  });

  it("a swap whose file is missing is put back by list() at once (link(2): the same file), and the manifest is listed", async () => {
    const { ino } = await stat(file);
    renameSync(file, swapName(process.pid + 100_000));
    const snap = await new DirectoryStore({ dir }).list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/a"]);
    expect((await stat(file)).ino).toBe(ino);
    expect(await dotfiles()).toEqual([]);
  });

  it("next to its file: left alone while fresh; once stale, removed when it is the same bytes, kept aside (never deleted) when not", async () => {
    const same = swapName(1);
    const differs = join(dir, `.a.yaml.chaosctl-swap-2-0a0b0c0d-0123456789ab`);
    await writeFile(same, manifest("a"));
    await writeFile(differs, manifest("a") + "# older edit\n");
    await new DirectoryStore({ dir }).list();
    expect((await dotfiles()).sort()).toEqual([same, differs].map((p) => p.slice(dir.length + 1)).sort());
    // Staleness is by ctime (a rename sets it; utimes cannot set it back): wait it out by clock.
    const now = Date.now() + STALE_SWAP_MS + 1000;
    const { recoverSwap } = await import("../../src/store/directory/swap.js");
    expect((await recoverSwap(same, now))?.action).toBe("removed");
    const r = await recoverSwap(differs, now);
    expect(r?.action).toBe("rescued");
    expect(await readFile(r?.kept ?? "", "utf8")).toContain("# older edit\n");
    expect(await dotfiles()).toEqual([r?.kept?.slice(dir.length + 1)]);
    expect(await readFile(file, "utf8")).toBe(manifest("a"));
  });
});
