// The lock-file lease store (temp dirs): exclusive create, compare-and-swap by content under a
// short mutex, and same-host takeover when the holder's process is gone.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, utimes, writeFile, readdir } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultLeaseFile, FileLeaseStore, leaseFilePath } from "../../src/ops/lease/file.js";
import { holderIdentity, holderProcessGone } from "../../src/ops/lease/identity.js";
import { LeaderElector } from "../../src/ops/lease/elector.js";
import type { LeaseRecord } from "../../src/ops/lease/machine.js";
import { silentLogger } from "../../src/util/log.js";

const rec = (holder: string, renewTime: number): LeaseRecord => ({
  holder,
  renewTime,
  leaseDurationMs: 15_000,
  acquireTime: renewTime,
  transitions: 0,
});
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "chaosctl-lease-"));
  dirs.push(d);
  return d;
}

describe("defaultLeaseFile", () => {
  it("is outside the manifest folder, one per folder (by real path) and instance, in XDG_RUNTIME_DIR", async () => {
    const runtime = await tempDir();
    const env = { XDG_RUNTIME_DIR: runtime };
    const folder = await tempDir();
    const link = join(await tempDir(), "manifests");
    await symlink(folder, link);
    const path = await defaultLeaseFile(folder, "default", env);
    expect(dirname(path)).toBe(join(runtime, "chaosctl"));
    expect(path.startsWith(folder)).toBe(false);
    expect(await defaultLeaseFile(link, "default", env)).toBe(path);
    expect(await defaultLeaseFile(folder, "blue", env)).not.toBe(path);
    expect(await defaultLeaseFile(await tempDir(), "default", env)).not.toBe(path);
    // Used as a lease, nothing lands in the folder.
    const s = new FileLeaseStore(path);
    expect(await s.create(rec("a", 1))).toBe(true);
    expect(await readdir(folder)).toEqual([]);
  });

  it("refuses a state folder that is a link (a shared temp dir could hold or move the lock)", async () => {
    const runtime = await tempDir();
    await symlink(await tempDir(), join(runtime, "chaosctl"));
    await expect(defaultLeaseFile(await tempDir(), "default", { XDG_RUNTIME_DIR: runtime })).rejects.toThrow(
      /not a directory of this user .*--lease-file/,
    );
  });

  it("without XDG_RUNTIME_DIR: a per-user folder in the temp dir", async () => {
    const path = await defaultLeaseFile(await tempDir(), "default", {});
    expect(dirname(path)).toBe(join(tmpdir(), `chaosctl-${process.getuid?.() ?? 0}`));
  });
});

describe("FileLeaseStore", () => {
  it("create is exclusive; update only at the content read; a reader never sees a torn file", async () => {
    const dir = await tempDir();
    const s = new FileLeaseStore(leaseFilePath(dir, "t"));
    expect(await s.read()).toBeUndefined();
    expect(await s.create(rec("a", 1))).toBe(true);
    expect(await s.create(rec("b", 1))).toBe(false);
    const seen = await s.read();
    expect(seen?.record).toMatchObject({ holder: "a", renewTime: 1 });
    expect(await s.update(seen?.version, rec("a", 2))).toBe(true);
    expect(await s.update(seen?.version, rec("b", 3))).toBe(false); // stale
    expect((await s.read())?.record.holder).toBe("a");
    // Only the lease file remains (no temp or mutex file left behind), and it is a dotfile.
    expect(await readdir(dir)).toEqual([".chaosctl-lease-t.json"]);
  });

  it("a concurrent update under the mutex loses; a mutex left by a dead process goes stale", async () => {
    const dir = await tempDir();
    const path = leaseFilePath(dir, "t");
    const s = new FileLeaseStore(path, 1_000);
    await s.create(rec("a", 1));
    const seen = await s.read();
    await writeFile(`${path}.mutex`, "");
    expect(await s.update(seen?.version, rec("b", 2))).toBe(false);
    const old = new Date(Date.now() - 5_000);
    await utimes(`${path}.mutex`, old, old);
    expect(await s.update(seen?.version, rec("b", 2))).toBe(true);
  });

  it("keeps the holder's last pass time", async () => {
    const s = new FileLeaseStore(leaseFilePath(await tempDir(), "t"));
    await s.create({ ...rec("a", 1), lastPassTime: 42 });
    expect((await s.read())?.record.lastPassTime).toBe(42);
  });

  it("garbage content reads as released, so it can be taken over", async () => {
    const dir = await tempDir();
    const path = leaseFilePath(dir, "t");
    await writeFile(path, "{not json");
    const s = new FileLeaseStore(path);
    expect((await s.read())?.record).toMatchObject({ holder: "", renewTime: 0 });
  });

  it("a holder killed but not yet reaped (a zombie) counts as gone", async () => {
    // sh starts a child then becomes `sleep`, which never reaps it: the child stays a zombie.
    const sh = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"]);
    const pid = await new Promise<number>((r) => sh.stdout.once("data", (b: Buffer) => r(Number(String(b).trim()))));
    try {
      // The child exits at once, but under load "at once" can take a while: wait for its zombie state.
      await expect.poll(() => readFile(`/proc/${pid}/stat`, "utf8"), { timeout: 10_000, interval: 20 }).toMatch(/\) Z/);
      expect(holderProcessGone(holderIdentity().replace(/\/\d+\/([0-9a-f]+)$/, `/${pid}/$1`))).toBe(true);
    } finally {
      sh.kill("SIGKILL");
    }
  });

  it("two electors on one lock file: one leader; the holder's dead process lets the other take over at once", async () => {
    const dir = await tempDir();
    const path = leaseFilePath(dir, "t");
    const timing = { durationMs: 15_000, renewMs: 5_000 };
    // A holder that was a real process of this host, now gone.
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => child.on("exit", r));
    const deadId = holderIdentity().replace(/\/\d+\/([0-9a-f]+)$/, `/${child.pid}/$1`);
    expect(holderProcessGone(deadId)).toBe(true);
    expect(holderProcessGone(holderIdentity().replace(/\/\d+\/([0-9a-f]+)$/, `/1/$1`))).toBe(false); // pid 1 lives
    expect(holderProcessGone(`other-host-${hostname()}/1/${child.pid}/00`)).toBe(false); // another host: never guessed
    const s = new FileLeaseStore(path);
    await s.create(rec(deadId, Date.now()));
    const a = new LeaderElector({ store: s, identity: "host/1/1/aa", timing, logger: silentLogger });
    const b = new LeaderElector({
      store: new FileLeaseStore(path),
      identity: "host/1/2/bb",
      timing,
      logger: silentLogger,
    });
    const roles = await Promise.all([a.attempt(), b.attempt()]);
    expect(roles.sort()).toEqual(["leader", "standby"]);
  });
});
