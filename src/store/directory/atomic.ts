// Atomic replacement of a file that must not have changed since it was read: temp file in the
// same folder (same filesystem), fsync, compare, then swap.ts puts it in place without ever
// dropping a user's save (rename-over or in place) that races with us.
import { link, open, unlink, stat, type FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { hostTag, isNotFound } from "./host.js";
import { swapIn } from "./swap.js";

export { hostTag, isNotFound };

export const TEMP_PREFIX = ".chaosctl-";
export const TEMP_SUFFIX = ".tmp";
/**
 * ".chaosctl-<pid>-<host>-<store>-<write>.tmp": unique per process, store instance and write.
 * The host tag makes the pid meaningful: two containers sharing a bind-mounted folder can both be
 * pid 1. The older ".chaosctl-<pid>-<random>.tmp" (no host) is still recognised and swept by age.
 */
const TEMP_PATTERN = /^\.chaosctl-(\d+)-(?:([0-9a-f]{8})-[0-9a-f]{12}-[0-9a-f]{8}|[0-9a-f]+)\.tmp$/;
/** A temp file older than this is a crash leftover, whoever wrote it (a write takes milliseconds). */
export const STALE_TEMP_MS = 60_000;

/** Our temp files: the pid says which process wrote it; undefined for any other file. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_PATTERN.exec(basename(name));
  return m ? Number(m[1]) : undefined;
}

/** Temp files (by name) being written by this process, whichever store instance writes them. */
const IN_FLIGHT = new Set<string>();

/**
 * Temp files (by name) this process created and then could not remove: the disk went read-only
 * between the temp's write and its removal. Provably ours (the name is unique per store instance
 * and write), so the next list() that sees one sweeps it without waiting STALE_TEMP_MS. Bounded:
 * the oldest names are forgotten first (age still sweeps them).
 */
const ABANDONED = new Set<string>();
const ABANDONED_MAX = 1024;

/** Removes a temp this process created; one it cannot remove is remembered as abandoned. */
async function removeTemp(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (isNotFound(err)) return;
    ABANDONED.add(basename(path));
    if (ABANDONED.size > ABANDONED_MAX) ABANDONED.delete(ABANDONED.values().next().value as string);
  });
}

/** A swept temp: no longer remembered. */
export function tempRemoved(path: string): void {
  ABANDONED.delete(basename(path));
}

/** The temp files of one store instance: a fresh name per write, in flight from begin to end. */
export class TempFiles {
  private readonly store = randomBytes(6).toString("hex");
  private writes = 0;

  /** A new temp path in `dir`, registered as in flight. */
  begin(dir: string): string {
    this.writes = (this.writes + 1) % 0x1_0000_0000;
    const name = `${TEMP_PREFIX}${process.pid}-${hostTag()}-${this.store}-${this.writes.toString(16).padStart(8, "0")}${TEMP_SUFFIX}`;
    IN_FLIGHT.add(name);
    return join(dir, name);
  }

  end(path: string): void {
    IN_FLIGHT.delete(basename(path));
  }
}

/**
 * Whether a temp file is provably a leftover: never while this process writes it; otherwise when
 * this process created it and could not remove it (its exact name, store tag included), when older
 * than STALE_TEMP_MS, or when it names this host and a pid other than ours that is dead. Any other
 * fresh temp of our own pid is never assumed ours to sweep: another process (in another pid
 * namespace on a shared folder) may carry the same pid. Pure but for the liveness probe.
 */
export function isStaleTemp(
  path: string,
  mtimeMs: number,
  now: number,
  alive: (pid: number) => boolean = pidAlive,
): boolean {
  const name = basename(path);
  const m = TEMP_PATTERN.exec(name);
  if (!m || IN_FLIGHT.has(name)) return false;
  if (ABANDONED.has(name) || now - mtimeMs > STALE_TEMP_MS) return true;
  const pid = Number(m[1]);
  return m[2] === hostTag() && pid !== process.pid && !alive(pid);
}

/** Signal 0 probes a pid: ESRCH means no such process; EPERM means it exists (another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !(typeof err === "object" && err !== null && "code" in err && err.code === "ESRCH");
  }
}

export interface ReplaceHooks {
  /** Test seam: runs after the temp file is complete and checked, right before the swap. */
  beforeRename?: (tempPath: string, target: string) => void | Promise<void>;
  /** Test seams inside the swap's synchronous stretch (swap.ts): after step 1, after step 3. */
  afterTake?: (target: string) => void;
  afterLink?: (target: string) => void;
}

export type ReplaceOutcome =
  /** Done: our bytes are the file, and no user edit was dropped for them. */
  | { kind: "replaced" }
  /** Not done: the file no longer holds `expected` (null: it is gone). */
  | { kind: "changed"; current: Buffer | null };

/** Replace `target` with `content` if it still holds exactly `expected`. */
export async function replaceIfUnchanged(
  target: string,
  expected: Buffer,
  content: Buffer,
  temps: TempFiles,
  hooks: ReplaceHooks = {},
): Promise<ReplaceOutcome> {
  let st;
  try {
    st = await stat(target);
  } catch (err) {
    if (isNotFound(err)) return { kind: "changed", current: null };
    throw err;
  }
  const dir = dirname(target);
  const temp = temps.begin(dir);
  let original: FileHandle | undefined;
  let created = false;
  try {
    const out = await open(temp, "wx", st.mode & 0o777);
    created = true;
    try {
      await out.writeFile(content);
      await out.chmod(st.mode & 0o7777); // the create mode was reduced by the umask
      if (process.getuid?.() === 0) await out.chown(st.uid, st.gid).catch(() => undefined);
      await out.sync();
    } finally {
      await out.close();
    }
    try {
      original = await open(target, "r");
    } catch (err) {
      if (isNotFound(err)) return { kind: "changed", current: null };
      throw err;
    }
    // The last look before the rename: what is there must still be what the caller planned on.
    const now = await readAll(original);
    if (!now.equals(expected)) return { kind: "changed", current: now };
    if (hooks.beforeRename) await hooks.beforeRename(temp, target);
    if ((await swapIn(target, temp, original, expected, () => syncDir(dir), hooks)) === "replaced")
      return { kind: "replaced" };
    return { kind: "changed", current: await readNow(target) };
  } finally {
    await original?.close();
    if (created) await removeTemp(temp);
    temps.end(temp);
  }
}

/** What is at `path` now; null when nothing is. */
async function readNow(path: string): Promise<Buffer | null> {
  const fh = await open(path, "r").catch(() => undefined);
  if (!fh) return null;
  try {
    return await readAll(fh);
  } finally {
    await fh.close();
  }
}

async function readAll(fh: FileHandle): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  return Buffer.concat(chunks);
}

/** Makes the rename itself durable; some filesystems cannot fsync a folder, which is fine. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // best effort
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Create `target` with `content`, atomically and never over an existing file (temp file, fsync,
 * then link(2), which fails when the name is taken). False when the name is taken.
 */
export async function createExclusive(
  target: string,
  content: Buffer,
  temps: TempFiles,
  mode = 0o644,
): Promise<boolean> {
  const dir = dirname(target);
  const temp = temps.begin(dir);
  const out = await open(temp, "wx", mode).catch((err: unknown) => {
    temps.end(temp);
    throw err;
  });
  try {
    try {
      await out.writeFile(content);
      await out.sync();
    } finally {
      await out.close();
    }
    await link(temp, target);
    await syncDir(dir);
    return true;
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "EEXIST") return false;
    throw err;
  } finally {
    await removeTemp(temp);
    temps.end(temp);
  }
}
