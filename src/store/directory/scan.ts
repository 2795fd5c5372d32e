// Which files of the manifest folder are manifests: .yaml/.yml files found recursively,
// skipping dotfiles and dot-folders (our temp files, editors' swap files, .git, the `..data`
// folders of a Kubernetes ConfigMap mount). A symlinked file is read only when it resolves to
// a place inside the folder; symlinked folders are not entered (no cycles, no escapes).
import { readdir, realpath, lstat, stat } from "node:fs/promises";
import { join, relative, isAbsolute, sep } from "node:path";
import { isNotFound, tempFileOwner } from "./atomic.js";

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
  const result: ScanResult = { files: [], problems: [], temps: [] };
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
    out.problems.push({ path: shownPath, message: "symlink points outside the manifest directory; not followed", rule: "symlinkOutside" });
    return;
  }
  const st = await lstat(target).catch(() => undefined);
  if (st?.isFile()) out.files.push({ path: shownPath, real: target, linked: true });
}

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== "" && !rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel);
}

function errMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return err instanceof Error ? err.message : String(err);
}
