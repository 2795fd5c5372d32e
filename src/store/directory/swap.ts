// The last step of a status write: put our finished temp file at `target` without ever dropping
// a user's save. rename(2) over the path would silently drop a file an editor renamed there a
// moment earlier, and Node cannot call renameat2(RENAME_EXCHANGE); so:
//   1. rename(target → swap)   atomically takes whatever is at the path, into a private name;
//   2. the swap must be the very file we read (dev/ino) and still hold exactly what we planned
//      on; if not, link(swap, target) puts it back (EEXIST: the user saved again, theirs stays);
//   3. link(temp, target)      never replaces anything: EEXIST means a user's save landed in
//      between (kept, ours dropped);
//   4. the swap re-read: bytes written in place by someone who opened the file before step 1
//      land in it; if they did, the swap goes back over our file (see putBack);
//   5. unlink swap and temp.
// Between 1 and 3 the path does not exist (microseconds): list() waits that out, the watcher's
// debounce merges the unlink and add, and a process that finds a swap without its file
// (ours crashed there) restores it with link(2), which can never replace anything.
import { fstatSync, linkSync, lstatSync, readSync, renameSync, unlinkSync } from "node:fs";
import { readFile, rename, unlink, lstat, link, type FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { hostTag, isNotFound } from "./host.js";

/** ".<file>.chaosctl-swap-<pid>-<host>-<random>": the user's file, held aside for a moment. */
const SWAP_PATTERN = /^\.(.+)\.chaosctl-swap-(\d+)-([0-9a-f]{8})-[0-9a-f]{12}$/;
/** A swap older than this (by ctime: rename sets it) is a crash leftover whoever made it. */
export const STALE_SWAP_MS = 60_000;
/** Swaps this process holds right now (full paths). */
const IN_FLIGHT = new Set<string>();

export function swapPathFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target)}.chaosctl-swap-${process.pid}-${hostTag()}-${randomBytes(6).toString("hex")}`,
  );
}

/** The file a swap belongs to (full path), or undefined when `path` is not a swap. */
export function swapTarget(path: string): string | undefined {
  const m = SWAP_PATTERN.exec(basename(path));
  return m ? join(dirname(path), m[1] ?? "") : undefined;
}

export function isSwapInFlight(path: string): boolean {
  return IN_FLIGHT.has(path);
}

export type SwapOutcome = "replaced" | "changed";

/**
 * Steps 1-5 above. `held` is open on the file we read and `expected` is what it held; `temp`
 * is complete and synced. "changed": nothing of ours is at `target` and whatever a user put
 * there (or back) is; the caller re-reads and tries again.
 */
export async function swapIn(
  target: string,
  temp: string,
  held: FileHandle,
  expected: Buffer,
  syncDir: () => Promise<void>,
  seams: { afterTake?: (target: string) => void; afterLink?: (target: string) => void } = {},
): Promise<SwapOutcome> {
  const swap = swapPathFor(target);
  const ours = fstatSync(held.fd, { bigint: true });
  IN_FLIGHT.add(swap);
  try {
    // 1. Synchronous from here to the link: no event-loop turn widens the moment the path is absent.
    try {
      renameSync(target, swap);
    } catch (err) {
      if (isNotFound(err)) return "changed"; // deleted (or another writer's swap): nothing taken
      throw err;
    }
    seams.afterTake?.(target);
    // 2. The same file, and in it still what we planned on (an in-place write may have landed).
    const taken = lstatSync(swap, { bigint: true });
    if (taken.ino !== ours.ino || taken.dev !== ours.dev) {
      restore(swap, target);
      return "changed";
    }
    if (!readAllSync(held.fd).equals(expected)) {
      restore(swap, target);
      return "changed";
    }
    // 3. Never over anything: a file at the path now is a user's save.
    try {
      linkSync(temp, target);
    } catch (err) {
      if (errCode(err) !== "EEXIST") {
        restore(swap, target);
        throw err;
      }
      await settleSwap(swap, expected, held);
      return "changed";
    }
    seams.afterLink?.(target);
    await syncDir();
    // 4. Bytes written in place into the file we took (opened before step 1) land in the swap.
    if (!readAllSync(held.fd).equals(expected)) {
      await putBack(target, temp, swap);
      return "changed";
    }
    // 5.
    await unlink(swap).catch(() => undefined);
    return "replaced";
  } finally {
    IN_FLIGHT.delete(swap);
  }
}

/** Step 2 failed: the swap goes back where it was taken from; a newer file there stays. */
function restore(swap: string, target: string): void {
  try {
    linkSync(swap, target);
  } catch (err) {
    const code = errCode(err);
    if (code === "EPERM") {
      // protected_hardlinks can refuse link(2) to another user's file: rename is the fallback
      // (it could replace a save made in these microseconds; link could not).
      renameSync(swap, target);
      return;
    }
    if (code !== "EEXIST") throw err;
    // EEXIST: someone saved a newer file at the path since; the one we took is older.
  }
  unlinkSync(swap);
}

/** A user's file took the path while ours waited: the swap goes unless it holds in-place bytes. */
async function settleSwap(swap: string, expected: Buffer, held: FileHandle): Promise<void> {
  if (readAllSync(held.fd).equals(expected)) await unlink(swap).catch(() => undefined);
  else await strandSwap(swap);
}

/**
 * Step 4 failed: someone wrote into the file we took after our check. It goes back as the file
 * (the same inode, so writes still in flight into it land where they belong). Whatever is at
 * the path is taken aside first, exactly as in step 1, so a save that landed since is not lost.
 */
async function putBack(target: string, temp: string, swap: string): Promise<void> {
  const second = swapPathFor(target);
  IN_FLIGHT.add(second);
  try {
    let took = true;
    try {
      renameSync(target, second);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      took = false;
    }
    const mine = lstatSync(temp, { bigint: true });
    const secondSt = took ? lstatSync(second, { bigint: true }) : undefined;
    if (secondSt && (secondSt.ino !== mine.ino || secondSt.dev !== mine.dev)) {
      // A user's save replaced ours meanwhile: it is the newest, it stays; the in-place bytes
      // of the older file are kept aside rather than dropped.
      restore(second, target);
      await strandSwap(swap);
      return;
    }
    try {
      linkSync(swap, target);
    } catch (err) {
      if (errCode(err) !== "EEXIST") throw err;
      await strandSwap(swap);
      if (took) await unlink(second).catch(() => undefined);
      return;
    }
    await unlink(swap).catch(() => undefined);
    if (took) await unlink(second).catch(() => undefined);
  } finally {
    IN_FLIGHT.delete(second);
  }
}

/** Never delete a user's bytes: keep them next to the file under the documented rescued name. */
async function strandSwap(swap: string): Promise<string> {
  const target = swapTarget(swap) ?? swap;
  const keep = join(
    dirname(target),
    `.${basename(target)}.chaosctl-rescued-${Date.now()}-${randomBytes(2).toString("hex")}`,
  );
  await rename(swap, keep);
  return keep;
}

export type Recovery = { swap: string; target: string; action: "restored" | "removed" | "rescued"; kept?: string };

/**
 * A swap found by a scan and not held by this process. Its file missing: the holder crashed
 * between steps 1 and 3 (or is in them right now; link(2) cannot replace anything, so restoring
 * is safe either way: the holder then finds the path taken and drops its write). Its file
 * present: only once stale (the holder is done or dead), removed when it is the same file or
 * the same bytes, otherwise kept under the rescued name. Never deleted blindly.
 */
export async function recoverSwap(swap: string, now: number): Promise<Recovery | undefined> {
  const target = swapTarget(swap);
  if (target === undefined || IN_FLIGHT.has(swap)) return undefined;
  const st = await lstat(swap, { bigint: true }).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const at = await lstat(target, { bigint: true }).catch((err: unknown) => (isNotFound(err) ? null : undefined));
  if (at === undefined) return undefined;
  if (at === null) {
    try {
      await link(swap, target);
    } catch (err) {
      if (errCode(err) !== "EEXIST") return undefined;
      return undefined; // someone put a file there first: look again next time
    }
    await unlink(swap).catch(() => undefined);
    return { swap, target, action: "restored" };
  }
  if (now - Number(st.ctimeMs) <= STALE_SWAP_MS) return undefined;
  if (at.ino === st.ino && at.dev === st.dev) {
    await unlink(swap).catch(() => undefined);
    return { swap, target, action: "removed" };
  }
  const [a, b] = await Promise.all([readFile(swap).catch(() => undefined), readFile(target).catch(() => undefined)]);
  if (a !== undefined && b !== undefined && a.equals(b)) {
    await unlink(swap).catch(() => undefined);
    return { swap, target, action: "removed" };
  }
  return { swap, target, action: "rescued", kept: await strandSwap(swap) };
}

/** The whole file behind `fd`, read synchronously (a manifest is small; no event-loop turn). */
function readAllSync(fd: number): Buffer {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, position);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    position += n;
  }
  return Buffer.concat(chunks);
}

function errCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}
