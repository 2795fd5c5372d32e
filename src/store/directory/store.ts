// The directory store (docs/stores.md, "Directory store"): a GitOps folder of ChaosSchedule YAML files.
// This file is the facade; each concern has its own file: the read cache and the one
// splice → BOM → re-parse → verify sequence (files.ts), list()'s snapshot (listing.ts) and what
// it hands out (handout.ts), the status-write protocol (status-write.ts), the CLI's apply and
// delete (edits.ts), and crash recovery of swaps and temp files (recovery.ts).
// Write protocol of writeStatus, per file and one write at a time per file:
//  1. read the file now; if its bytes differ from what we last read, re-parse them (the user's
//     edit is the base: a comment edit keeps the write going, a spec edit means "conflict");
//  2. splice status + metadata.generation + the spec-hash annotation into that exact text at the
//     parser's node ranges, re-parse the result and check nothing else changed (verify.ts);
//  3. write a temp file in the same folder (mode kept), fsync, re-read the original and compare
//     with the base (changed: start over from 1);
//  4. swap it in (swap.ts): take the file aside by rename, check it is the one read, link ours
//     in (never over a save that landed meanwhile), put the taken file back if a write in place
//     reached it. Any of those: start over from 1 on top of the user's bytes.
// reportInvalid follows the same protocol with another plan: only the `status:` block of an
// invalid (but parsable, uniquely named) document changes, metadata included stays as it is.
// Remaining window (docs/stores.md): an in-place writer that opened the file before 4 and
// writes into it only after 4's final read; its bytes go to a file no longer at the path.
import type { ChaosSchedule, ChaosScheduleStatus } from "../../api/types.js";
import type { LoadOptions } from "../../api/load.js";
import { silentLogger, type Logger } from "../../util/log.js";
import {
  StoreWriteError,
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyResult,
  type DeleteOptions,
  type DeleteResult,
  type SpecPatch,
  type StoreSnapshot,
  type WritableStore,
  type WriteResult,
} from "../store.js";
import { checkManifest, patchedManifest } from "../apply-plan.js";
import { TempFiles, type ReplaceHooks } from "./atomic.js";
import { toPlainJson } from "./canonical.js";
import { FileCache, type FileState } from "./files.js";
import { HandOut } from "./handout.js";
import { snapshotOf, type KeyIndex } from "./listing.js";
import { recoverSwaps, sweepTemps } from "./recovery.js";
import { scanDir } from "./scan.js";
import { planInvalid, planStatus, Writer, type PlanContext } from "./status-write.js";
import { applyTo, deleteDocument, type EditHost } from "./edits.js";
import { DirWatcher } from "./watch.js";

export { DirectoryMissingError } from "./scan.js";

export interface DirectoryStoreOptions {
  dir: string;
  logger?: Logger;
  /** Quiet time before onChange runs after file events. Default 25 ms: an editor's save is one or two events, and apply→inject latency is felt. */
  debounceMs?: number;
  /** How often the folder itself is checked for deletion or re-creation. Default 1000 ms. */
  rootPollMs?: number;
  load?: LoadOptions;
  /** Test seam into the atomic write (e.g. a crash between temp write and rename). */
  hooks?: ReplaceHooks;
}

export class DirectoryStore implements WritableStore {
  readonly kind = "dir" as const;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly rootPollMs: number;
  private readonly cache: FileCache;
  private readonly handOut = new HandOut();
  private readonly writer: Writer;
  private readonly planCtx: PlanContext;
  /** Where the keys of the last list() live. */
  private keys: KeyIndex = {
    index: new Map(),
    invalidKeys: new Set(),
    invalidIndex: new Map(),
    duplicateKeys: new Set(),
  };
  private listed = false;
  /** The last list()'s file states (in scan order) and what it handed out for them. */
  private lastList: { states: FileState[]; snapshot: StoreSnapshot } | undefined;
  private readonly watchers = new Set<DirWatcher>();

  constructor(opts: DirectoryStoreOptions) {
    this.dir = opts.dir;
    this.logger = opts.logger ?? silentLogger;
    this.debounceMs = opts.debounceMs ?? 25;
    this.rootPollMs = opts.rootPollMs ?? 1000;
    this.cache = new FileCache({ skipStackFiles: true, ...opts.load }, this.logger);
    this.writer = new Writer(this.cache, this.logger, new TempFiles(), opts.hooks ?? {});
    this.planCtx = { cache: this.cache, handOut: this.handOut, logger: this.logger };
  }

  /** Throws DirectoryMissingError when the folder is gone: "no folder" is not "no manifests". */
  async list(): Promise<StoreSnapshot> {
    let scan = await scanDir(this.dir);
    if (await recoverSwaps(scan.swaps, this.logger)) scan = await scanDir(this.dir);
    await sweepTemps(scan.temps, this.logger);
    const states: FileState[] = [];
    for (const f of scan.files) states.push(await this.cache.current(f.path, f.real));
    // Nothing changed since the last list(): the same snapshot, in fresh arrays.
    const last = this.lastList;
    if (
      last &&
      scan.problems.length === 0 &&
      last.states.length === states.length &&
      states.every((st, i) => st === last.states[i])
    ) {
      this.writer.clearEchoes();
      return { manifests: last.snapshot.manifests.slice(), invalid: last.snapshot.invalid.slice() };
    }
    const { snapshot, keys } = snapshotOf(states, scan.problems, this.handOut);
    this.cache.replaceAll(states);
    this.keys = keys;
    this.writer.clearEchoes();
    this.listed = true;
    // Kept only when it can be reused as is (scan problems are not part of a file's state).
    this.lastList =
      scan.problems.length === 0
        ? { states, snapshot: { manifests: snapshot.manifests.slice(), invalid: snapshot.invalid.slice() } }
        : undefined;
    return snapshot;
  }

  async watch(onChange: () => void): Promise<() => Promise<void>> {
    const watcher = new DirWatcher({
      dir: this.dir,
      logger: this.logger,
      debounceMs: this.debounceMs,
      maxWaitMs: Math.max(1000, this.debounceMs * 10),
      rootPollMs: this.rootPollMs,
      isKnownContent: (path) => this.writer.isEcho(path),
      onChange,
    });
    this.watchers.add(watcher);
    await watcher.start();
    return async () => {
      this.watchers.delete(watcher);
      await watcher.stop();
    };
  }

  async writeStatus(key: string, generation: number, status: ChaosScheduleStatus): Promise<WriteResult> {
    if (!this.listed) await this.list();
    if (this.keys.invalidKeys.has(key) && !this.keys.index.has(key)) return "invalid";
    const path = this.keys.index.get(key);
    const state = path === undefined ? undefined : this.cache.get(path);
    if (path === undefined || !state) return "gone";
    const plain = toPlainJson(status);
    const at = { path, real: state.real, key };
    return this.writer.locked(at.real, () =>
      this.writer.write(path, at.real, key, (bytes) => planStatus(this.planCtx, at, bytes, generation, plain)),
    );
  }

  async reportInvalid(key: string, message: string, now: Date): Promise<WriteResult> {
    if (!this.listed) await this.list();
    // Which of two definitions is meant cannot be told: neither is written.
    if (this.keys.duplicateKeys.has(key)) return "invalid";
    const path = this.keys.invalidIndex.get(key) ?? this.keys.index.get(key);
    const state = path === undefined ? undefined : this.cache.get(path);
    if (path === undefined || !state) return "gone";
    const at = { path, real: state.real, key };
    return this.writer.locked(at.real, () =>
      this.writer.write(path, at.real, key, (bytes) => planInvalid(this.planCtx, at, bytes, message, now)),
    );
  }

  // ---- apply / delete / patchSpec (the CLI's writes, edits.ts) ------------------------------

  async apply(manifest: ChaosSchedule, opts: ApplyOptions = {}): Promise<ApplyOutcome> {
    const checked = checkManifest(manifest);
    const out = await applyTo(this.editHost(), checked.key, () => checked, opts);
    if (out === "notfound") throw new StoreWriteError(`${checked.key}: apply found nothing to apply`); // cannot happen: apply always has a manifest
    return out;
  }

  async patchSpec(key: string, patch: SpecPatch, opts: ApplyOptions = {}): Promise<ApplyResult | "notfound"> {
    const out = await applyTo(
      this.editHost(),
      key,
      (stored) => (stored ? checkManifest(patchedManifest(stored, patch)) : undefined),
      opts,
    );
    return out === "notfound" ? out : out.result;
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const host = this.editHost();
    const found = await host.locate(key);
    if (!found) return "notfound";
    if (opts.dryRun) return "deleted";
    const real = found.state.real;
    return this.writer.locked(real, () => deleteDocument(host, found.path, real, key));
  }

  async close(): Promise<void> {
    const all = [...this.watchers];
    this.watchers.clear();
    await Promise.all(all.map((w) => w.stop()));
  }

  /** What the CLI's edits need of this store. */
  private editHost(): EditHost {
    return {
      dir: this.dir,
      logger: this.logger,
      cache: this.cache,
      handOut: this.handOut,
      writer: this.writer,
      locate: async (key) => {
        await this.list();
        if (this.keys.duplicateKeys.has(key))
          throw new StoreWriteError(`${key} is defined more than once under ${this.dir}; remove one by hand`);
        const path = this.keys.index.get(key) ?? this.keys.invalidIndex.get(key);
        const state = path === undefined ? undefined : this.cache.get(path);
        return path === undefined || !state ? undefined : { path, state };
      },
      forget: (path, key, after) => {
        if (after) this.cache.set(path, after);
        else this.cache.delete(path);
        this.keys.index.delete(key);
      },
    };
  }
}
