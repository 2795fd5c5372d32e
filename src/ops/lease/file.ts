// The lease as a lock file, for directory-store controllers on one host (or sharing one mounted
// folder). Creation is O_EXCL; every change of an existing file happens under a short mutex file
// (also O_EXCL) and only if the content is still what the caller read (compare-and-swap by
// content), then lands by rename, so a reader never sees half a record. A mutex left by a process
// that died inside its few-millisecond critical section is stale after staleMutexMs.
import { createHash } from "node:crypto";
import { lstat, mkdir, open, readFile, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { LeaseRecord } from "./machine.js";
import type { LeaseStore, ObservedLease } from "./store.js";
import { holderProcessGone } from "./identity.js";

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

/** A dotfile in `dir` (what `--lease-file` may name; the directory store neither loads nor watches it). */
export function leaseFilePath(dir: string, instance: string): string {
  return join(dir, `.chaosctl-lease-${instance}.json`);
}

/**
 * Where a directory-store controller keeps its lease by default: outside the manifest folder
 * (which is often a git checkout that would need an ignore rule), in this user's runtime
 * directory, one file per folder (by its real path) and instance. Controllers on one host share
 * it; controllers in separate containers sharing only a mounted folder need `--lease-file` on
 * that mount.
 */
export async function defaultLeaseFile(dir: string, instance: string, env = process.env): Promise<string> {
  const path = await defaultLeaseFileName(dir, instance, env);
  await ensureStateDir(dirname(path));
  return path;
}

/** defaultLeaseFile without creating anything (readers: `get`, `describe`). */
export async function defaultLeaseFileName(dir: string, instance: string, env = process.env): Promise<string> {
  const real = await realpath(dir).catch(() => resolve(dir));
  const id = createHash("sha256").update(real).digest("hex").slice(0, 16);
  const uid = process.getuid?.() ?? 0;
  const state = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "chaosctl") : join(tmpdir(), `chaosctl-${uid}`);
  return join(state, `lease-${id}-${instance}.json`);
}

/** $XDG_RUNTIME_DIR/chaosctl, else <tmpdir>/chaosctl-<uid>; created 0700 and checked to be ours. */
async function ensureStateDir(dir: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  // A shared /tmp: a folder someone else made (or a link) could hold or move our lock.
  if (!st.isDirectory() || st.uid !== uid) {
    throw new Error(`${dir} is not a directory of this user (uid ${uid}): give --lease-file PATH`);
  }
}

function parse(text: string): LeaseRecord {
  try {
    const o = JSON.parse(text) as Partial<LeaseRecord>;
    return {
      holder: typeof o.holder === "string" ? o.holder : "",
      renewTime: Number(o.renewTime) || 0,
      leaseDurationMs: Number(o.leaseDurationMs) || 0,
      acquireTime: Number(o.acquireTime) || 0,
      transitions: Number(o.transitions) || 0,
      ...(Number(o.lastPassTime) > 0 ? { lastPassTime: Number(o.lastPassTime) } : {}),
    };
  } catch {
    // Torn or foreign content protects nobody: it reads as a released lease.
    return { holder: "", renewTime: 0, leaseDurationMs: 0, acquireTime: 0, transitions: 0 };
  }
}

export class FileLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly mutex: string;

  constructor(
    private readonly path: string,
    private readonly staleMutexMs = 10_000,
  ) {
    this.where = `file ${path}`;
    this.mutex = `${path}.mutex`;
  }

  async read(): Promise<ObservedLease | undefined> {
    try {
      const text = await readFile(this.path, "utf8");
      return { record: parse(text), version: text };
    } catch (e) {
      if (code(e) === "ENOENT") return undefined;
      throw e;
    }
  }

  async create(record: LeaseRecord): Promise<boolean> {
    let fh;
    try {
      fh = await open(this.path, "wx");
    } catch (e) {
      if (code(e) === "EEXIST") return false;
      throw e;
    }
    try {
      await fh.writeFile(JSON.stringify(record));
    } finally {
      await fh.close();
    }
    return true;
  }

  async update(version: unknown, record: LeaseRecord): Promise<boolean> {
    if (!(await this.lock())) return false;
    try {
      const now = await readFile(this.path, "utf8").catch((e: unknown) =>
        code(e) === "ENOENT" ? undefined : Promise.reject(e),
      );
      if (now !== version) return false;
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(record));
      await rename(tmp, this.path);
      return true;
    } finally {
      await unlink(this.mutex).catch(() => undefined);
    }
  }

  holderGone(holder: string): boolean {
    return holderProcessGone(holder);
  }

  private async lock(): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await (await open(this.mutex, "wx")).close();
        return true;
      } catch (e) {
        if (code(e) !== "EEXIST") throw e;
        const st = await stat(this.mutex).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > this.staleMutexMs) await unlink(this.mutex).catch(() => undefined);
        else if (st) return false; // someone is mid-update: this attempt lost
      }
    }
    return false;
  }
}
