// Which files of the manifest folder are manifests: .yaml/.yml files found recursively,
// skipping dotfiles and dot-folders (our temp files, editors' swap files, .git, the `..data`
// folders of a Kubernetes ConfigMap mount). A symlinked file is read only when it resolves to
// a place inside the folder; symlinked folders are not entered (no cycles, no escapes).
import { statSync } from "node:fs";
import { readdir, realpath, lstat, stat } from "node:fs/promises";
import { join, relative, isAbsolute, sep } from "node:path";
import { isNotFound, tempFileOwner } from "./atomic.js";
import { swapTarget } from "./swap.js";

export interface ScannedFile {
  /** The path shown to users: the folder as given, joined with the relative path. */
  path: string;
  /** Where reads and writes go (the symlink target for a symlinked file). */
  real: string;
  /** Reached through a symlink. */
  linked?: boolean;
}

export interface ScanProblem {
  path: string;
  message: string;
  rule: string;
}

export interface ScanResult {
  files: ScannedFile[];
  problems: ScanProblem[];
  /** Temp files of ours found in the tree (possibly left by a crash). */
  temps: string[];
  /** Users' files held aside by a status write (swap.ts): in flight, or left by a crash. */
  swaps: string[];
}

export class DirectoryMissingError extends Error {
  constructor(readonly dir: string) {
    super(`manifest directory ${dir} does not exist (or is not a directory)`);
  }
}

export const MANIFEST_FILE = /\.ya?ml$/i;

export async function scanDir(dir: string): Promise<ScanResult> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new DirectoryMissingError(dir);
  } catch (err) {
    if (isNotFound(err)) throw new DirectoryMissingError(dir);
    throw err;
  }
  const result: ScanResult = { files: [], problems: [], temps: [], swaps: [] };
  await walk(root, dir, root, result);
  // A symlink to a file that is itself in the tree would load its manifests twice.
  const seen = new Set(result.files.filter((f) => !f.linked).map((f) => f.real));
  result.files = result.files.filter((f) => !f.linked || !seen.has(f.real));
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

async function walk(root: string, shown: string, real: string, out: ScanResult): Promise<void> {
  let entries;
  try {
    entries = await readdir(real, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return; // removed while we walked: the watcher will tell
    out.problems.push({ path: shown, message: `cannot read directory: ${errMessage(err)}`, rule: "unreadable" });
    return;
  }
  for (const e of entries) {
    const shownPath = join(shown, e.name);
    const realPath = join(real, e.name);
    if (e.name.startsWith(".")) {
      if (e.isFile() && tempFileOwner(e.name) !== undefined) out.temps.push(realPath);
      else if (e.isFile() && swapTarget(e.name) !== undefined) out.swaps.push(realPath);
      continue;
    }
    if (e.isDirectory()) {
      await walk(root, shownPath, realPath, out);
    } else if (e.isFile()) {
      if (MANIFEST_FILE.test(e.name)) out.files.push({ path: shownPath, real: realPath });
    } else if (e.isSymbolicLink() && MANIFEST_FILE.test(e.name)) {
      await addSymlink(root, shownPath, realPath, out);
    }
  }
}

async function addSymlink(root: string, shownPath: string, linkPath: string, out: ScanResult): Promise<void> {
  let target: string;
  try {
    target = await realpath(linkPath);
  } catch (err) {
    out.problems.push({ path: shownPath, message: `broken symlink: ${errMessage(err)}`, rule: "unreadable" });
    return;
  }
  if (!isInside(root, target)) {
    out.problems.push({
      path: shownPath,
      message: "symlink points outside the manifest directory; not followed",
      rule: "symlinkOutside",
    });
    return;
  }
  const st = await lstat(target).catch(() => undefined);
  if (st?.isFile()) out.files.push({ path: shownPath, real: target, linked: true });
}

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== "" && !rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel);
}

/**
 * What a file looks like to stat: any write, truncate, rename over it or chmod changes one of
 * these (ctime moves on every change and cannot be set back by a user, unlike mtime).
 */
export interface FileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/**
 * A file's stamp, or undefined when it cannot be stat'ed now. Synchronous on purpose: one
 * stat per manifest per pass, and a thousand async stats cost several times the CPU of
 * synchronous ones (each is a thread-pool round trip).
 */
export function stampOf(real: string): FileStamp | undefined {
  try {
    const s = statSync(real, { bigint: true, throwIfNoEntry: false });
    return s?.isFile() ? { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs } : undefined;
  } catch {
    return undefined;
  }
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * File system timestamps are coarse (a kernel tick of 1-10 ms on ext4, xfs, tmpfs; whole seconds
 * on some file systems), so a second same-size write within the tick of the one we read would
 * leave the stamp as it was. As git does for its index ("racily clean"), a stamp this close to
 * the moment we read the bytes proves nothing: that file is read again next time, until its
 * stamp is older than the margin. Whole-second stamps (no nanoseconds at all) get the wide one.
 */
export const RACY_MARGIN_NS = 50_000_000n;
export const RACY_MARGIN_COARSE_NS = 3_000_000_000n;

/** Wall-clock now in ns, the clock file timestamps are taken from. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Can bytes read at `readAtNs` (after taking `stamp`) stand for the file while its stamp is unchanged? */
export function stampProves(stamp: FileStamp | undefined, readAtNs: bigint): boolean {
  if (stamp === undefined) return false;
  const coarse = stamp.ctimeNs % 1_000_000_000n === 0n && stamp.mtimeNs % 1_000_000_000n === 0n;
  const margin = coarse ? RACY_MARGIN_COARSE_NS : RACY_MARGIN_NS;
  return stamp.ctimeNs + margin < readAtNs && stamp.mtimeNs + margin < readAtNs;
}

function errMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return err instanceof Error ? err.message : String(err);
}
