// The git store (docs/gitops.md): a DirectoryStore over a working copy the controller owns,
// synced from a remote. Protocol, all under one lock so a sync never lands inside a write:
//  - sync: fetch (outside the lock), then hard-reset the files to the fetched commit, put each
//    schedule's durable record (status, generation, spec hash) back into its document
//    (seed.ts), and list again. New commits always win for spec; status is never lost.
//  - writeStatus: the durable record first (Swarm config, compare-and-swap), then the file. A
//    run is recorded in status before it is injected; the durable write makes that record
//    survive the next reset, so no run is ever repeated because a sync wiped its record.
//  - nothing is ever committed or pushed: status in the working copy stays local.
import { lstat, realpath } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Problem } from "../../api/problems.js";
import type { ChaosScheduleStatus } from "../../api/types.js";
import type { LoadOptions } from "../../api/load.js";
import { silentLogger, type Logger } from "../../util/log.js";
import type { Store, StoreSnapshot, WriteResult } from "../store.js";
import { DirectoryStore, DirectoryMissingError } from "../directory/store.js";
import { sameJson, specHash, toPlainJson } from "../directory/canonical.js";
import type { RecordStore, ScheduleRecord } from "./records.js";
import { seedStatus } from "./seed.js";
import { WorkingCopy, type SyncOutcome } from "./working-copy.js";
import type { GitAuth } from "./credentials.js";

export interface GitStoreOptions {
  url: string;
  branch?: string;
  /** The manifests' folder inside the repository (default: its root). */
  path?: string;
  /** The working copy's folder (the controller's own). */
  checkoutDir: string;
  auth: GitAuth;
  records: RecordStore;
  logger?: Logger;
  /** How often to fetch while watched. Default 30 s. */
  intervalMs?: number;
  debounceMs?: number;
  load?: LoadOptions;
  gitTimeoutMs?: number;
}

/** What the last list() said about a valid manifest: what its status write must match. */
interface Known {
  generation: number;
  specHash: string;
  path: string;
}

export class GitStore implements Store {
  readonly kind = "dir" as const;
  private readonly copy: WorkingCopy;
  private readonly inner: DirectoryStore;
  private readonly logger: Logger;
  private readonly manifestDir: string;
  private readonly path: string;
  private records?: Map<string, ScheduleRecord>;
  private commit?: string;
  private known = new Map<string, Known>();
  private tail: Promise<unknown> = Promise.resolve();
  private syncing?: Promise<SyncOutcome | undefined>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<() => void>();
  private failures = 0;
  /** Why the synced commit's --path was refused (it leaves the checkout), if it was. */
  private refused?: Problem;

  constructor(private readonly opts: GitStoreOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.path = normalizePath(opts.path ?? ".");
    this.copy = new WorkingCopy({
      url: opts.url,
      dir: opts.checkoutDir,
      auth: opts.auth,
      ...(opts.branch ? { branch: opts.branch } : {}),
      ...(opts.gitTimeoutMs ? { timeoutMs: opts.gitTimeoutMs } : {}),
    });
    this.manifestDir = this.path === "." ? opts.checkoutDir : `${opts.checkoutDir}/${this.path}`;
    this.inner = new DirectoryStore({
      dir: this.manifestDir,
      logger: this.logger,
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      ...(opts.load ? { load: opts.load } : {}),
    });
  }

  /** The commit the manifests were last synced to. */
  get syncedCommit(): string | undefined {
    return this.commit;
  }

  /** The folder the manifests are read from (inside the working copy). */
  get dir(): string {
    return this.manifestDir;
  }

  /**
   * Fetch and, when the remote moved, replace the files and put status back. Concurrent calls
   * share one sync (a call during a sync runs one more after it). Throws when git fails; the
   * working copy then stays at the last good commit.
   */
  sync(): Promise<SyncOutcome | undefined> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    const run = async (): Promise<SyncOutcome | undefined> => {
      let out: SyncOutcome | undefined;
      do {
        this.again = false;
        out = await this.syncOnce();
      } while (this.again);
      return out;
    };
    this.syncing = run().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** A sync soon (SIGHUP, a webhook): errors are logged, not thrown. */
  requestSync(): void {
    this.sync().catch(() => undefined);
  }

  private async syncOnce(): Promise<SyncOutcome> {
    const t0 = Date.now();
    let fetched: string;
    try {
      fetched = await this.copy.fetch();
    } catch (e) {
      this.failures++;
      this.logger.warn(
        { event: "sync", result: "Failed", err: errText(e), failures: this.failures, commit: this.commit },
        "git fetch failed; keeping the last synced commit",
      );
      throw e;
    }
    this.failures = 0;
    return this.locked(async () => {
      const out = await this.copy.checkout(fetched);
      if (out.changed || !this.records) {
        this.records = await this.opts.records.load();
        const seeded = await this.seed();
        this.commit = out.commit;
        const snap = await this.relist();
        if (snap) await this.forgetDeleted(snap);
        this.logger.info(
          {
            event: "sync",
            commit: out.commit,
            previous: out.previous,
            seeded: seeded.seeded,
            skipped: seeded.skipped,
            ms: Date.now() - t0,
          },
          out.previous && out.previous !== out.commit ? "synced a new commit" : "synced",
        );
        if (out.changed) for (const l of this.listeners) l();
      }
      this.commit = out.commit;
      return out;
    });
  }

  private async seed(): Promise<{ seeded: number; skipped: number }> {
    if (await this.pathRefused()) return { seeded: 0, skipped: 0 };
    try {
      return await seedStatus(this.manifestDir, this.records ?? new Map(), this.logger, {
        skipStackFiles: true,
        ...this.opts.load,
      });
    } catch (e) {
      if (e instanceof DirectoryMissingError) return { seeded: 0, skipped: 0 };
      throw e;
    }
  }

  async list(): Promise<StoreSnapshot> {
    if (!this.commit) await this.sync();
    return this.locked(async () => {
      const snap = await this.relist();
      if (snap) return snap;
      const invalid = this.refused
        ? [{ source: { store: "dir" as const, file: this.manifestDir, index: 0, line: 0 }, problems: [this.refused] }]
        : [];
      return { manifests: [], invalid };
    });
  }

  /**
   * Under the lock, before anything in the manifests' folder is read or written: the commit
   * decides what --path resolves to, and a symlink anywhere on the way (the folder itself or a
   * parent) could point it outside the checkout, where status would then be written. Refused
   * whatever the link points at; logged once per commit.
   */
  private async pathRefused(): Promise<boolean> {
    const why = await pathLeavesCheckout(this.opts.checkoutDir, this.path);
    if (!why) {
      this.refused = undefined;
      return false;
    }
    if (this.refused?.message !== why)
      this.logger.error(
        { event: "sync", commit: this.commit, path: this.path, err: why },
        "--path refused: no manifests",
      );
    this.refused = { file: this.manifestDir, line: 0, column: 0, path: "", message: why, rule: "pathOutside" };
    this.known = new Map();
    return true;
  }

  /**
   * Records of schedules the commit no longer holds (neither valid nor invalid) go: a manifest
   * deleted in git and added again later is a new schedule, as with the directory store. Their
   * injections are reverted from the guards, which need no record. Never when the path is
   * missing altogether (a typo in --path must not wipe history).
   */
  private async forgetDeleted(snap: StoreSnapshot): Promise<void> {
    const present = new Set([
      ...snap.manifests.map((m) => m.key),
      ...snap.invalid.map((i) => i.key).filter((k): k is string => !!k),
    ]);
    for (const key of [...(this.records?.keys() ?? [])]) {
      if (present.has(key)) continue;
      try {
        await this.opts.records.remove(key);
        this.records?.delete(key);
        this.logger.info(
          { event: "record", schedule: key, commit: this.commit },
          "schedule deleted in git: its durable record is removed",
        );
      } catch (e) {
        this.logger.warn(
          { event: "record", schedule: key, err: errText(e) },
          "could not remove the durable record of a deleted schedule",
        );
      }
    }
  }

  /**
   * Under the lock. The commit is the truth: a path it does not hold has no manifests
   * (undefined is returned to the sync, which then keeps the records).
   */
  private async relist(): Promise<StoreSnapshot | undefined> {
    if (await this.pathRefused()) return undefined;
    let snap: StoreSnapshot;
    try {
      snap = await this.inner.list();
    } catch (e) {
      if (!(e instanceof DirectoryMissingError)) throw e;
      this.logger.warn(
        { event: "sync", commit: this.commit, path: this.path },
        "the synced commit has no such path: no manifests",
      );
      this.known = new Map();
      return undefined;
    }
    const known = new Map<string, Known>();
    const commit = this.commit ?? "";
    for (const m of snap.manifests) {
      const path = m.source.store === "dir" ? relative(this.opts.checkoutDir, m.source.file) : "";
      known.set(m.key, { generation: m.manifest.metadata.generation ?? 1, specHash: specHash(m.manifest.spec), path });
      m.provenance = { commit, path };
    }
    this.known = known;
    return snap;
  }

  async watch(onChange: () => void): Promise<() => Promise<void>> {
    const stopInner = await this.inner.watch(onChange);
    this.listeners.add(onChange);
    this.schedule();
    return async () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0 && this.timer) clearTimeout(this.timer);
      await stopInner();
    };
  }

  /** The fetch timer: every interval, backing off (to 5 min) while the remote fails. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const base = this.opts.intervalMs ?? 30_000;
    const wait = Math.min(base * 2 ** Math.min(this.failures, 4), Math.max(base, 300_000));
    this.timer = setTimeout(() => {
      this.sync()
        .catch(() => undefined)
        .finally(() => this.listeners.size > 0 && this.schedule());
    }, wait);
    this.timer.unref();
  }

  async writeStatus(key: string, generation: number, status: ChaosScheduleStatus): Promise<WriteResult> {
    return this.locked(async () => {
      const k = this.known.get(key);
      if (!k) return "gone";
      // A sync since the caller's list() brought a new spec: its plan is for the old one.
      if (k.generation !== generation) return "conflict";
      const record: ScheduleRecord = {
        generation,
        specHash: k.specHash,
        status: toPlainJson(status),
        ...(this.commit ? { commit: this.commit } : {}),
        path: k.path,
      };
      const prev = this.records?.get(key);
      if (
        !prev ||
        prev.generation !== generation ||
        prev.specHash !== k.specHash ||
        !sameJson(prev.status, record.status)
      ) {
        const put = await this.opts.records.put(key, record);
        if (put === "conflict") {
          this.logger.warn(
            { event: "record", schedule: key, result: "conflict" },
            "the schedule's durable record changed underneath (another controller with this --instance?); not written",
          );
          return "conflict";
        }
        this.records?.set(key, record);
      }
      return this.inner.writeStatus(key, generation, status);
    });
  }

  async reportInvalid(key: string, message: string, now: Date): Promise<WriteResult> {
    return this.locked(() => this.inner.reportInvalid(key, message, now));
  }

  // The repository is the source of truth: a change is a commit, never a write here (it would
  // be undone by the next sync). Typed loosely on purpose: refusing fits any signature.
  async apply(): Promise<never> {
    throw readOnly("apply");
  }

  async delete(): Promise<never> {
    throw readOnly("delete");
  }

  async patchSpec(): Promise<never> {
    throw readOnly("suspend/resume");
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    await this.syncing?.catch(() => undefined);
    await this.inner.close();
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** A relative folder inside the repository: no absolute paths, no "..". */
export function normalizePath(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  if (p.startsWith("/") || parts.includes(".."))
    throw new Error(`--path must be a folder inside the repository, got ${JSON.stringify(p)}`);
  return parts.length ? parts.join("/") : ".";
}

/**
 * Why `path` (normalized, relative) does not stay inside `checkoutDir`, or undefined when it
 * does or does not exist (a missing folder is "no manifests", handled by the directory store).
 * Every component is checked with lstat, so a symlink is refused wherever it is on the way.
 */
export async function pathLeavesCheckout(checkoutDir: string, path: string): Promise<string | undefined> {
  if (path === ".") return undefined;
  let cur = checkoutDir;
  for (const part of path.split("/")) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink())
      return `--path ${path}: ${relative(checkoutDir, cur)} is a symlink in the repository; --path must not go through symlinks`;
    if (!st.isDirectory()) return undefined;
  }
  const [root, real] = await Promise.all([realpath(checkoutDir), realpath(cur)]);
  if (real !== root && !real.startsWith(root + sep)) return `--path ${path} resolves to ${real}, outside the checkout`;
  return undefined;
}

function readOnly(what: string): Error {
  const e = new Error(
    `${what}: manifests of a git store change by commits to the repository (a local change would be undone by the next sync); for an emergency stop use the controller's --kill-switch-file`,
  );
  return Object.assign(e, { exitCode: 2 });
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
