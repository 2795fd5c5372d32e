// Finding and reading manifest files, with bounds. A file that cannot be read becomes a
// Problem for that file; nothing here throws for a bad path.
import { open, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Problem } from "./problems.js";

export const STDIN = "-";
export const STDIN_NAME = "<stdin>";
const YAML_FILE = /\.ya?ml$/i;

export type ReadOutcome = { ok: true; bytes: Uint8Array } | { ok: false; problem: Problem };

export interface Listing {
  /** Files to read, in a stable order: arguments in order, directory entries sorted. */
  files: string[];
  /** Manifest-named entries that are not regular files (reported, never opened). */
  skipped: string[];
  problems: Problem[];
}

function fileProblem(file: string, message: string, rule: string): Problem {
  return { file, line: 0, column: 0, path: "", message, rule };
}

/** A plain reason for a failed fs call. */
export function whyUnreadable(err: unknown): string {
  const code = err && typeof err === "object" && "code" in err ? String(err.code) : "";
  switch (code) {
    case "ENOENT":
      return "cannot read: no such file (or a dangling symlink)";
    case "EACCES":
    case "EPERM":
      return "cannot read: permission denied";
    case "ELOOP":
      return "cannot read: symlink loop";
    case "EISDIR":
      return "cannot read: is a directory";
    default:
      return `cannot read: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Expands arguments into files: "-" is stdin, a directory is walked recursively for
 * .yaml/.yml (symlinked directories are followed once; only regular files are read, so a
 * FIFO or device in a directory is reported, never opened), anything else is read as given.
 */
export async function listFiles(paths: string[]): Promise<Listing> {
  const listing: Listing = { files: [], skipped: [], problems: [] };
  const seenDirs = new Set<string>();
  const add = (f: string): void => {
    if (!listing.files.includes(f)) listing.files.push(f);
  };
  for (const p of new Set(paths)) {
    if (p === STDIN) {
      add(STDIN);
      continue;
    }
    let isDir = false;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      // Unreadable or missing: reading it reports why.
    }
    if (isDir) {
      const before = listing.files.length + listing.problems.length;
      await walk(p, listing, seenDirs, add);
      // Pointing CI at the wrong folder must not pass silently.
      if (listing.files.length + listing.problems.length === before) {
        listing.problems.push(fileProblem(p, "no .yaml or .yml files in this directory", "noFiles"));
      }
    } else add(p);
  }
  return listing;
}

async function walk(dir: string, listing: Listing, seen: Set<string>, add: (f: string) => void): Promise<void> {
  let real: string;
  let entries: string[];
  try {
    real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    entries = (await readdir(dir)).sort();
  } catch (err) {
    listing.problems.push(
      fileProblem(dir, whyUnreadable(err).replace("cannot read", "cannot list directory"), "unreadable"),
    );
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    let kind: "dir" | "file" | "other" | "broken";
    try {
      const s = await stat(path);
      kind = s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
    } catch {
      kind = "broken";
    }
    if (kind === "dir") await walk(path, listing, seen, add);
    else if (!YAML_FILE.test(name)) continue;
    else if (kind === "other") {
      listing.skipped.push(path);
      listing.problems.push(fileProblem(path, "not a regular file (a FIFO, socket or device): not read", "unreadable"));
    } else add(path); // "broken" too: reading it reports why
  }
}

/** "1.5 MiB", "12 KiB", "300 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** `size` undefined: a stream that went past the limit. */
export function tooLargeProblem(file: string, size: number | undefined, maxBytes: number): Problem {
  const what = size === undefined ? `more than ${sizeText(maxBytes)}` : sizeText(size);
  return fileProblem(file, `too large: ${what}, the limit is ${sizeText(maxBytes)}; not read`, "fileTooLarge");
}

/** Reads at most maxBytes (+1 to notice more); a larger file is a problem, not read further. */
export async function readBounded(
  file: string,
  maxBytes: number,
  stdin?: AsyncIterable<Uint8Array | string>,
): Promise<ReadOutcome> {
  const name = file === STDIN ? STDIN_NAME : file;
  if (file === STDIN) {
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of (stdin ?? process.stdin) as AsyncIterable<Uint8Array | string>) {
        const buf = Buffer.from(chunk);
        chunks.push(buf);
        total += buf.length;
        if (total > maxBytes) return { ok: false, problem: tooLargeProblem(name, undefined, maxBytes) };
      }
    } catch (err) {
      return { ok: false, problem: fileProblem(name, whyUnreadable(err), "unreadable") };
    }
    return { ok: true, bytes: Buffer.concat(chunks) };
  }
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const s = await handle.stat();
    if (s.isDirectory()) return { ok: false, problem: fileProblem(file, "cannot read: is a directory", "unreadable") };
    if (s.isFile() && s.size > maxBytes) return { ok: false, problem: tooLargeProblem(file, s.size, maxBytes) };
    // Read at most maxBytes + 1 whatever stat said: files grow, and FIFOs have no size.
    let buf = Buffer.alloc(Math.min(s.isFile() ? s.size + 1 : 64 * 1024, maxBytes + 1));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        if (buf.length > maxBytes) return { ok: false, problem: tooLargeProblem(file, undefined, maxBytes) };
        const bigger = Buffer.alloc(Math.min(buf.length * 2, maxBytes + 1));
        buf.copy(bigger);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return { ok: true, bytes: buf.subarray(0, total) };
  } catch (err) {
    return { ok: false, problem: fileProblem(file, whyUnreadable(err), "unreadable") };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
