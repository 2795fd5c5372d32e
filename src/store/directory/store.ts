// The directory store (docs/stores.md, "Directory store"): a GitOps folder of ChaosSchedule YAML files.
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
import { statSync, unlinkSync } from "node:fs";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Document, stringify } from "yaml";
import type { ChaosSchedule, ChaosScheduleStatus, LoadedChaosSchedule } from "../../api/types.js";
import {
  duplicateProblems,
  loadBytes,
  LOAD_DEFAULTS,
  type LoadedDocument,
  type LoadOptions,
  type LoadResult,
} from "../../api/load.js";
import { readBounded } from "../../api/read.js";
import { decodeText } from "../../api/text.js";
import type { Problem } from "../../api/problems.js";
import { silentLogger, type Logger } from "../../util/log.js";
import {
  StoreWriteError,
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyResult,
  type DeleteOptions,
  type DeleteResult,
  type InvalidManifest,
  type SpecPatch,
  type StoredManifest,
  type StoreSnapshot,
  type WritableStore,
  type WriteResult,
} from "../store.js";
import {
  checkManifest,
  patchedManifest,
  planManifestApply,
  userPart,
  type CheckedManifest,
  type CurrentManifest,
} from "../apply-plan.js";
import { defaultOrigin } from "../origin.js";
import {
  createExclusive,
  isNotFound,
  isStaleTemp,
  replaceIfUnchanged,
  TempFiles,
  type ReplaceHooks,
} from "./atomic.js";
import { recoverSwap } from "./swap.js";
import { cutDocument, newFileName } from "./documents.js";
import { sameJson, specHash, toPlainJson } from "./canonical.js";
import { currentGeneration, SPEC_HASH_ANNOTATION, type GenerationMemo } from "./generation.js";
import { nowNs, sameStamp, scanDir, stampOf, stampProves, type FileStamp, type ScanProblem } from "./scan.js";
import { invalidStatus } from "./invalid.js";
import { spliceFields, spliceStatus, spliceStatusOnly } from "./splice.js";
import { verifyApply, verifyRemoved, verifySplice, verifyStatusOnly } from "./verify.js";
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

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Write attempts before giving up with "conflict" (each retry follows a concurrent edit). */
const MAX_ATTEMPTS = 5;

/** One file as last read: its bytes and what the loader made of them. */
interface FileState {
  path: string;
  real: string;
  bytes: Buffer;
  /** The text the loader parsed (BOM removed); undefined when the bytes are not text. */
  text?: string;
  result: LoadResult;
  /** The stat taken just before `bytes` were read, when it proves they are still current (scan.ts stampProves). */
  stamp?: FileStamp;
  /**
   * Kept by list() without the YAML syntax trees and text (most of a parse's memory): enough for
   * snapshots; a write parses the file again (stateOf never hands a slim state to a write).
   */
  slim?: true;
}

/** Stands in for the syntax tree of a slim state's documents (never spliced into). */
const NO_TREE = new Document();

type WritePlan = { result: Exclude<WriteResult, "written"> } | { bytes: Buffer; state: FileState };
/** Plans a write on top of the file's current bytes. */
type Planner = (bytes: Buffer) => WritePlan;

export class DirectoryStore implements WritableStore {
  readonly kind = "dir" as const;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly rootPollMs: number;
  private readonly loadOpts: LoadOptions;
  private readonly hooks: ReplaceHooks;
  /** Files as last read (by list() or by a write), by shown path. */
  private files = new Map<string, FileState>();
  /** Valid keys of the last list(), to their file's shown path. */
  private index = new Map<string, string>();
  private invalidKeys = new Set<string>();
  /** Invalid (not duplicate) keys of the last list(), to their file's shown path. */
  private invalidIndex = new Map<string, string>();
  /** Keys defined more than once in the last list(): never written by reportInvalid. */
  private duplicateKeys = new Set<string>();
  private listed = false;
  /** The last list()'s file states (in scan order) and what it handed out for them. */
  private lastList: { states: FileState[]; snapshot: StoreSnapshot } | undefined;
  /** Generations handed out, so they only ever rise while we run (generation.ts). */
  private readonly memo = new Map<string, GenerationMemo>();
  /** Bytes we wrote on top of what list() had seen: their watcher events are our own echo. */
  private readonly echoes = new Map<string, Buffer>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** This instance's temp files: unique names per write, in flight (never swept) until done. */
  private readonly inFlight = new TempFiles();
  private readonly watchers = new Set<DirWatcher>();

  constructor(opts: DirectoryStoreOptions) {
    this.dir = opts.dir;
    this.logger = opts.logger ?? silentLogger;
    this.debounceMs = opts.debounceMs ?? 25;
    this.rootPollMs = opts.rootPollMs ?? 1000;
    this.loadOpts = { skipStackFiles: true, ...opts.load };
    this.hooks = opts.hooks ?? {};
  }

  /** Throws DirectoryMissingError when the folder is gone: "no folder" is not "no manifests". */
  async list(): Promise<StoreSnapshot> {
    let scan = await scanDir(this.dir);
    if (await this.recoverSwaps(scan.swaps)) scan = await scanDir(this.dir);
    await this.sweepTemps(scan.temps);
    const states: FileState[] = [];
    for (const f of scan.files) states.push(await this.current(f.path, f.real));
    // Nothing changed since the last list(): the same snapshot, in fresh arrays.
    const last = this.lastList;
    if (
      last &&
      scan.problems.length === 0 &&
      last.states.length === states.length &&
      states.every((st, i) => st === last.states[i])
    ) {
      this.echoes.clear();
      return { manifests: last.snapshot.manifests.slice(), invalid: last.snapshot.invalid.slice() };
    }

    const snapshot: StoreSnapshot = { manifests: [], invalid: [] };
    const documents = states.flatMap((s) => s.result.documents);
    const duplicates = duplicatesByDocument(documents);
    const index = new Map<string, string>();
    const invalidKeys = new Set<string>();
    const invalidIndex = new Map<string, string>();
    const duplicateKeys = new Set<string>();
    for (const s of states) {
      if (s.result.problems.length > 0) snapshot.invalid.push(fileInvalid(s.path, s.result.problems));
      for (const d of s.result.documents) {
        const source = { store: "dir" as const, file: d.file, index: d.index, line: d.line };
        const dup = duplicates.get(d);
        if (d.manifest && !dup) {
          const key = d.key ?? "";
          snapshot.manifests.push(this.handOut(d, key, source));
          index.set(key, s.path);
        } else {
          const problems = dup ? [...d.problems, dup] : d.problems;
          const invalid: InvalidManifest = { source, problems };
          if (d.key !== undefined) {
            invalid.key = d.key;
            invalidKeys.add(d.key);
            if (dup) duplicateKeys.add(d.key);
            else invalidIndex.set(d.key, s.path);
          }
          snapshot.invalid.push(invalid);
        }
      }
    }
    for (const p of scan.problems) snapshot.invalid.push(fileInvalid(p.path, [scanProblem(p)]));
    this.files = new Map(states.map((s) => [s.path, s]));
    this.index = index;
    this.invalidKeys = invalidKeys;
    this.invalidIndex = invalidIndex;
    this.duplicateKeys = duplicateKeys;
    this.echoes.clear();
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
      isKnownContent: (path) => this.isEcho(path),
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
    if (this.invalidKeys.has(key) && !this.index.has(key)) return "invalid";
    const path = this.index.get(key);
    const state = path === undefined ? undefined : this.files.get(path);
    if (path === undefined || !state) return "gone";
    const plain = toPlainJson(status);
    const real = state.real;
    return this.locked(real, () =>
      this.writeLocked(path, real, key, (bytes) => this.plan(path, real, bytes, key, generation, plain)),
    );
  }

  async reportInvalid(key: string, message: string, now: Date): Promise<WriteResult> {
    if (!this.listed) await this.list();
    // Which of two definitions is meant cannot be told: neither is written.
    if (this.duplicateKeys.has(key)) return "invalid";
    const path = this.invalidIndex.get(key) ?? this.index.get(key);
    const state = path === undefined ? undefined : this.files.get(path);
    if (path === undefined || !state) return "gone";
    const real = state.real;
    return this.locked(real, () =>
      this.writeLocked(path, real, key, (bytes) => this.planInvalid(path, real, bytes, key, message, now)),
    );
  }

  // ---- apply / delete / patchSpec (the CLI's writes; same protocol as the status write) -----

  async apply(manifest: ChaosSchedule, opts: ApplyOptions = {}): Promise<ApplyOutcome> {
    const checked = checkManifest(manifest);
    const out = await this.applyTo(checked.key, () => checked, opts);
    if (out === "notfound") throw new StoreWriteError(`${checked.key}: apply found nothing to apply`); // cannot happen: apply always has a manifest
    return out;
  }

  async patchSpec(key: string, patch: SpecPatch, opts: ApplyOptions = {}): Promise<ApplyResult | "notfound"> {
    const out = await this.applyTo(
      key,
      (stored) => (stored ? checkManifest(patchedManifest(stored, patch)) : undefined),
      opts,
    );
    return out === "notfound" ? out : out.result;
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    await this.list();
    if (this.duplicateKeys.has(key))
      throw new StoreWriteError(`${key} is defined more than once under ${this.dir}; remove one by hand`);
    const path = this.index.get(key) ?? this.invalidIndex.get(key);
    const state = path === undefined ? undefined : this.files.get(path);
    if (path === undefined || !state) return "notfound";
    if (opts.dryRun) return "deleted";
    const real = state.real;
    return this.locked(real, () => this.deleteLocked(path, real, key));
  }

  /**
   * apply and patchSpec: `incoming(stored)` is the manifest to store, given the stored one as
   * written (undefined when there is none, or it is invalid); undefined from it: "notfound".
   * An existing document is changed in place, path by path (spliceFields); a new one goes to a
   * new file. A document that vanishes meanwhile is applied again from a fresh list, once.
   */
  private async applyTo(
    key: string,
    incoming: (stored: ChaosSchedule | undefined) => CheckedManifest | undefined,
    opts: ApplyOptions,
    again = true,
  ): Promise<ApplyOutcome | "notfound"> {
    await this.list();
    if (this.duplicateKeys.has(key))
      throw new StoreWriteError(`${key} is defined more than once under ${this.dir}; remove one by hand`);
    const origin = opts.origin ?? defaultOrigin();
    const now = opts.now ?? new Date();
    const path = this.index.get(key) ?? this.invalidIndex.get(key);
    const state = path === undefined ? undefined : this.files.get(path);
    if (path === undefined || !state) {
      const checked = incoming(undefined);
      if (!checked) return "notfound";
      const plan = planManifestApply(undefined, checked, origin, now);
      if (!opts.dryRun && plan.next) await this.createFile(key, plan.next);
      return { result: plan.result, key, generation: plan.generation };
    }
    let outcome: ApplyOutcome | "notfound" | undefined;
    let failure: string | undefined;
    const planner = (bytes: Buffer): WritePlan => {
      outcome = undefined;
      const found = this.target(path, state.real, bytes, key);
      if ("result" in found) return found;
      const { doc, text } = found;
      const raw = dataOf(doc, this.loadOpts.maxAliasCount ?? LOAD_DEFAULTS.maxAliasCount);
      if (!raw) return { result: "invalid" };
      const current = currentOf(doc, raw, (m) => this.generationOf(key, m));
      const checked = incoming(doc.manifest ? current.data : undefined);
      if (!checked) {
        outcome = "notfound";
        return { result: "unchanged" };
      }
      const plan = planManifestApply(current, checked, origin, now);
      outcome = { result: plan.result, key, generation: plan.generation };
      if (!plan.next || opts.dryRun) return { result: "unchanged" };
      const next = toPlainJson(plan.next);
      const spliced = spliceFields(text, doc.doc, next as unknown as Record<string, unknown>);
      if (!spliced.ok) {
        failure = spliced.reason;
        return { result: "invalid" };
      }
      const out = Buffer.from(spliced.text, "utf8");
      const after = this.stateOf(path, state.real, hasBom(bytes) ? Buffer.concat([BOM, out]) : out);
      const problem = verifyApply(found.state.result, after.result, doc.index, next);
      if (problem) {
        failure = problem;
        return { result: "invalid" };
      }
      this.memo.set(key, { generation: plan.generation, specHash: checked.specHash });
      return { bytes: after.bytes, state: after };
    };
    const result = await this.locked(state.real, () => this.writeLocked(path, state.real, key, planner));
    if (outcome !== undefined && (result === "written" || result === "unchanged")) return outcome;
    if (result === "gone" && again) return this.applyTo(key, incoming, opts, false);
    if (result === "invalid")
      throw new StoreWriteError(
        `${path}: cannot apply ${key} in place${failure ? `: ${failure}` : " (the file does not parse cleanly now)"}; edit the file by hand`,
      );
    throw new StoreWriteError(`${path}: ${key} kept changing while applying; try again`);
  }

  /** A new manifest's own file, never over an existing one (name-1.yaml, ... when taken). */
  private async createFile(key: string, manifest: ChaosSchedule): Promise<string> {
    const bytes = Buffer.from(stringify(toPlainJson(manifest), { lineWidth: 0 }), "utf8");
    for (let n = 0; n < 100; n++) {
      const path = join(this.dir, newFileName(key, n));
      if (await createExclusive(path, bytes, this.inFlight)) {
        this.logger.info({ file: path, key }, "created a manifest file");
        return path;
      }
    }
    throw new StoreWriteError(`no free file name for ${key} under ${this.dir}`);
  }

  /** Removes the document (the file when it was alone in it); a concurrent edit restarts the attempt. */
  private async deleteLocked(path: string, real: string, key: string): Promise<DeleteResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const bytes = await this.readBytes(real);
      if (bytes === "gone") return "notfound";
      if (bytes === "invalid") throw new StoreWriteError(`${path}: cannot read it to delete ${key}`);
      const found = this.target(path, real, bytes, key);
      if ("result" in found) {
        if (found.result === "gone") return "notfound";
        throw new StoreWriteError(`${path}: does not parse cleanly now; delete ${key} by hand`);
      }
      const { state, text, doc } = found;
      if (state.result.documents.length === 1) {
        const gone = await unlinkIfUnchanged(real, bytes);
        if (gone === "notfound") return "notfound";
        if (gone === "changed") continue;
        this.files.delete(path);
        this.index.delete(key);
        return "deleted";
      }
      const cut = cutDocument(text, doc.index);
      if (cut === undefined) throw new StoreWriteError(`${path}: cannot find the document of ${key}`);
      const out = Buffer.from(cut, "utf8");
      const after = this.stateOf(path, real, hasBom(bytes) ? Buffer.concat([BOM, out]) : out);
      const problem = verifyRemoved(state.result, after.result, doc.index);
      if (problem)
        throw new StoreWriteError(
          `${path}: removing ${key} would change more than that document (${problem}); delete it by hand`,
        );
      const outcome = await replaceIfUnchanged(real, bytes, after.bytes, this.inFlight, this.hooks);
      if (outcome.kind === "changed") {
        if (outcome.current === null) return "notfound";
        continue;
      }
      this.files.set(path, after);
      this.index.delete(key);
      return "deleted";
    }
    throw new StoreWriteError(`${path}: kept changing while deleting ${key}; try again`);
  }

  async close(): Promise<void> {
    const all = [...this.watchers];
    this.watchers.clear();
    await Promise.all(all.map((w) => w.stop()));
  }

  // ---- writing ------------------------------------------------------------------------------

  private async writeLocked(path: string, real: string, key: string, planner: Planner): Promise<WriteResult> {
    const listedBytes = this.files.get(path)?.bytes;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const base = await this.readBytes(real);
      if (base === "gone") return "gone";
      if (base === "invalid") return "invalid";
      const plan = planner(base);
      if ("result" in plan) return plan.result;
      // replaceIfUnchanged never drops a user's edit that races with it (swap.ts): "changed"
      // means theirs is in place and ours is not; it becomes the new base.
      const outcome = await replaceIfUnchanged(real, base, plan.bytes, this.inFlight, this.hooks);
      if (outcome.kind === "changed") {
        if (outcome.current === null) return "gone";
        continue;
      }
      this.files.set(path, plan.state);
      if (listedBytes && base.equals(listedBytes)) this.echoes.set(path, plan.bytes);
      return "written";
    }
    this.logger.warn({ file: path, key }, "file kept changing during the status write; giving up for now");
    return "conflict";
  }

  /**
   * The one document named `key` in `bytes`, with the file's state; or why no write may touch
   * it: a file that is not clean text, a YAML error anywhere (a duplicate mapping key included:
   * the re-parse check cannot vouch for the file), no such document, or more than one.
   */
  private target(
    path: string,
    real: string,
    bytes: Buffer,
    key: string,
  ): { result: "invalid" | "gone" } | { state: FileState; text: string; doc: LoadedDocument } {
    const state = this.stateOf(path, real, bytes);
    const text = state.text;
    if (text === undefined || state.result.problems.length > 0) return { result: "invalid" };
    if (state.result.documents.some((d) => d.doc.errors.length > 0)) return { result: "invalid" };
    const docs = state.result.documents.filter((d) => d.key === key);
    if (docs.length === 0) return { result: "gone" };
    const doc = docs[0];
    if (docs.length > 1 || !doc) return { result: "invalid" };
    return { state, text, doc };
  }

  /** What to write on top of `bytes` (the file as it is now), or why nothing. */
  private plan(path: string, real: string, bytes: Buffer, key: string, generation: number, status: unknown): WritePlan {
    const found = this.target(path, real, bytes, key);
    if ("result" in found) return found;
    const { state, text, doc } = found;
    if (!doc.manifest) return { result: "invalid" };
    const current = this.generationOf(key, doc.manifest);
    if (current !== generation) return { result: "conflict" };
    const hash = specHash(doc.manifest.spec);
    const meta = doc.manifest.metadata;
    if (
      sameJson(doc.manifest.status ?? null, status) &&
      meta.generation === current &&
      meta.annotations?.[SPEC_HASH_ANNOTATION] === hash
    ) {
      return { result: "unchanged" };
    }
    const spliced = spliceStatus(text, doc.doc, { status, generation: current, specHash: hash });
    if (!spliced.ok) {
      this.logger.error(
        { file: path, key, reason: spliced.reason },
        "cannot place status in this document without touching other text; not written",
      );
      return { result: "invalid" };
    }
    const out = Buffer.from(spliced.text, "utf8");
    const next = this.stateOf(path, real, hasBom(bytes) ? Buffer.concat([BOM, out]) : out);
    const problem = verifySplice(state.result, next.result, doc.index, { status, generation: current, specHash: hash });
    if (problem) {
      this.logger.error({ file: path, key, problem }, "status write would change more than status; not written");
      return { result: "invalid" };
    }
    return { bytes: next.bytes, state: next };
  }

  /** reportInvalid's plan on top of `bytes`: the InvalidSpec condition, or why nothing. */
  private planInvalid(path: string, real: string, bytes: Buffer, key: string, message: string, now: Date): WritePlan {
    const found = this.target(path, real, bytes, key);
    if ("result" in found) return found;
    const { state, text, doc } = found;
    // Valid now (the user fixed it meanwhile): the normal status write's business.
    if (doc.manifest) return { result: "conflict" };
    const read = statusOf(doc, this.loadOpts.maxAliasCount ?? LOAD_DEFAULTS.maxAliasCount);
    if (!read.ok) return { result: "invalid" };
    const current = read.status;
    const next = invalidStatus(current, message, now);
    if (!next.ok) {
      this.logger.warn(
        { file: path, key, reason: next.reason },
        "cannot mark an invalid manifest in its status; not written",
      );
      return { result: "invalid" };
    }
    if (sameJson(current ?? null, next.status)) return { result: "unchanged" };
    const spliced = spliceStatusOnly(text, doc.doc, next.status);
    if (!spliced.ok) {
      this.logger.error(
        { file: path, key, reason: spliced.reason },
        "cannot place status in this document without touching other text; not written",
      );
      return { result: "invalid" };
    }
    const out = Buffer.from(spliced.text, "utf8");
    const after = this.stateOf(path, real, hasBom(bytes) ? Buffer.concat([BOM, out]) : out);
    const problem = verifyStatusOnly(state.result, after.result, doc.index, next.status);
    if (problem) {
      this.logger.error({ file: path, key, problem }, "status write would change more than status; not written");
      return { result: "invalid" };
    }
    return { bytes: after.bytes, state: after };
  }

  private async locked<T>(real: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(real) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(real, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(real) === tail) this.locks.delete(real);
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  /**
   * The StoredManifest list() hands out for a valid document: a copy of the parse (writeStatus
   * compares against the parse, never against what callers hold), made once per parse and
   * generation and handed out again while the file is unchanged, so an idle pass copies nothing.
   * Callers treat snapshots as read-only (the controller does); a caller that changes one sees
   * its change again in the next snapshot, never in the file.
   */
  private handOut(d: LoadedDocument, key: string, source: StoredManifest["source"]): StoredManifest {
    const parsed = d.manifest;
    if (!parsed) throw new Error("handOut: not a valid document");
    const generation = this.generationOf(key, parsed);
    const kept = handedOut.get(d);
    if (kept && kept.generation === generation && kept.stored.key === key && sameSource(kept.stored.source, source))
      return kept.stored;
    const manifest = cloneManifest(parsed);
    manifest.metadata.generation = generation;
    const stored: StoredManifest = { key, source, manifest };
    if (manifest.status) stored.status = manifest.status;
    handedOut.set(d, { generation, stored });
    return stored;
  }

  private generationOf(
    key: string,
    manifest: { spec: unknown; metadata: { generation?: number; annotations?: Record<string, string | undefined> } },
  ): number {
    const hash = cachedSpecHash(manifest.spec);
    const stored = {
      generation: manifest.metadata.generation,
      specHash: manifest.metadata.annotations?.[SPEC_HASH_ANNOTATION],
    };
    const generation = currentGeneration(stored, hash, this.memo.get(key));
    this.memo.set(key, { generation, specHash: hash });
    return generation;
  }

  /**
   * The file's state for list(): the last one kept when its stamp is unchanged and proves the
   * bytes current; else read again (re-parsed only when the bytes differ). An idle pass costs one
   * stat per file.
   */
  private async current(path: string, real: string): Promise<FileState> {
    const stamp = stampOf(real);
    const known = this.files.get(path);
    if (stamp && known?.stamp && known.real === real && sameStamp(known.stamp, stamp)) return known;
    const readAt = nowNs();
    const state = await this.readState(path, real);
    slim(state); // at once: a thousand files' syntax trees are never alive together
    if (stampProves(stamp, readAt)) state.stamp = stamp;
    else delete state.stamp;
    return state;
  }

  private async readState(path: string, real: string): Promise<FileState> {
    const read = await readBounded(real, this.loadOpts.maxBytes ?? LOAD_DEFAULTS.maxBytes);
    if (read.ok) return this.stateOf(path, real, Buffer.from(read.bytes), true);
    const problem: Problem = { ...read.problem, file: path };
    return { path, real, bytes: Buffer.alloc(0), result: { documents: [], problems: [problem] } };
  }

  private async readBytes(real: string): Promise<Buffer | "gone" | "invalid"> {
    const read = await readBounded(real, this.loadOpts.maxBytes ?? LOAD_DEFAULTS.maxBytes);
    if (read.ok) return Buffer.from(read.bytes);
    if (await stat(real).then(() => false, isNotFound)) return "gone";
    this.logger.warn({ file: real, problem: read.problem.message }, "cannot read a manifest file for a status write");
    return "invalid";
  }

  /** Parse `bytes`, reusing the last parse when they are the very bytes we last read (a slim one only for list()). */
  private stateOf(path: string, real: string, bytes: Buffer, forList = false): FileState {
    const known = this.files.get(path);
    if (known && known.real === real && (forList || !known.slim) && known.bytes.equals(bytes)) return known;
    const result = loadBytes(bytes, path, this.loadOpts);
    const decoded = result.problems.length === 0 ? decodeText(bytes) : undefined;
    const state: FileState = { path, real, bytes, result };
    if (decoded?.ok) state.text = decoded.text;
    return state;
  }

  private async isEcho(path: string): Promise<boolean> {
    const real = this.files.get(path)?.real;
    if (!real) return false;
    // A write of ours to this file still in flight (the watcher reports its first event at once):
    // judge the file once it is done.
    await this.locks.get(real);
    const ours = this.echoes.get(path);
    if (!ours) return false;
    return ours.equals(await readFile(real));
  }

  /**
   * Users' files held aside by another process's status write (swap.ts): one whose file is
   * missing goes back at once (link(2), which cannot replace anything), stale ones are settled.
   * Ours in flight are never seen without their file (that stretch is synchronous). True when a
   * file was put back (the scan is then out of date).
   */
  private async recoverSwaps(swaps: string[]): Promise<boolean> {
    let restored = false;
    for (const swap of swaps) {
      const r = await recoverSwap(swap, Date.now()).catch((err: unknown) => {
        this.logger.warn({ err, file: swap }, "could not settle a file held aside by a status write; will retry");
        return undefined;
      });
      if (!r) continue;
      if (r.action === "restored") restored = true;
      if (r.action === "rescued")
        this.logger.warn(
          { file: r.target, kept: r.kept },
          "a copy of the file from an interrupted status write differs from it; kept aside",
        );
      else
        this.logger.info(
          { file: r.target, action: r.action },
          "settled a file held aside by an interrupted status write",
        );
    }
    return restored;
  }

  /** Temp files of a crashed or failed write, once provably stale (atomic.ts isStaleTemp). */
  private async sweepTemps(temps: string[]): Promise<void> {
    for (const temp of temps) {
      const mtime = (await stat(temp).catch(() => undefined))?.mtimeMs;
      if (mtime !== undefined && isStaleTemp(temp, mtime, Date.now())) {
        await unlink(temp).then(
          () => this.logger.info({ file: temp }, "removed a leftover temp file of an interrupted status write"),
          () => undefined,
        );
      }
    }
  }
}

// ---- helpers --------------------------------------------------------------------------------

/**
 * Every document whose namespace/name is defined more than once gets a problem, the first
 * definition included: which file "wins" would depend on file names, so neither is taken.
 */
function duplicatesByDocument(docs: LoadedDocument[]): Map<LoadedDocument, Problem> {
  const byKey = new Map<string, LoadedDocument[]>();
  for (const d of docs) if (d.key !== undefined) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const out = new Map<LoadedDocument, Problem>();
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    const [first, ...rest] = group;
    if (!first) continue;
    // The loader words the problem of each repeat; the first definition gets the mirror image.
    const repeats = duplicateProblems(group);
    rest.forEach((d, i) => {
      const p = repeats[i];
      if (p) out.set(d, { ...p, message: `${p.message}; neither is used until one is renamed or removed` });
    });
    const others = rest.map((d) => `${d.file}:${d.keyAt?.line ?? d.line}`).join(", ");
    out.set(first, {
      file: first.file,
      line: first.keyAt?.line ?? first.line,
      column: first.keyAt?.column ?? 1,
      path: "metadata.name",
      message: `duplicate ChaosSchedule "${first.key}": also defined at ${others}; neither is used until one is renamed or removed`,
      rule: "duplicateName",
    });
  }
  return out;
}

function fileInvalid(file: string, problems: Problem[]): InvalidManifest {
  return { source: { store: "dir", file, index: 0, line: 0 }, problems };
}

function scanProblem(p: ScanProblem): Problem {
  return { file: p.path, line: 0, column: 0, path: "", message: p.message, rule: p.rule };
}

/**
 * Unlink `real` if it still holds `expected`: read through an open handle, then check the path
 * still names that very file and unlink it in the same synchronous step (an editor's save that
 * renamed a new file over it in between is never deleted). Left: a write in the two system calls
 * between the check and the unlink.
 */
async function unlinkIfUnchanged(real: string, expected: Buffer): Promise<"deleted" | "changed" | "notfound"> {
  let fh;
  try {
    fh = await open(real, "r");
  } catch (err) {
    if (isNotFound(err)) return "notfound";
    throw err;
  }
  try {
    const held = await fh.stat({ bigint: true });
    const now = await fh.readFile();
    if (!now.equals(expected)) return "changed";
    const cur = statSync(real, { bigint: true, throwIfNoEntry: false });
    if (!cur) return "notfound";
    if (cur.ino !== held.ino || cur.dev !== held.dev || cur.size !== held.size || cur.mtimeNs !== held.mtimeNs)
      return "changed";
    unlinkSync(real);
    return "deleted";
  } finally {
    await fh.close();
  }
}

/** The stored manifest of a document as apply's plan sees it (an invalid one counts as a spec change). */
function currentOf(
  doc: LoadedDocument,
  raw: Record<string, unknown>,
  generationOf: (m: LoadedChaosSchedule) => number,
): CurrentManifest {
  const data = userPart(toPlainJson(raw) as unknown as ChaosSchedule);
  if (doc.manifest)
    return {
      data,
      specHash: specHash(doc.manifest.spec),
      generation: generationOf(doc.manifest),
      defaultedSpec: doc.manifest.spec,
    };
  const meta: unknown = raw.metadata;
  const stored =
    meta && typeof meta === "object" && "generation" in meta && typeof meta.generation === "number"
      ? meta.generation
      : 0;
  return { data, specHash: "invalid", generation: stored };
}

/** A document's data as parsed; undefined when it does not render or is not a mapping. */
function dataOf(doc: LoadedDocument, maxAliasCount: number): Record<string, unknown> | undefined {
  try {
    const data: unknown = doc.doc.toJS({ maxAliasCount });
    return data !== null && typeof data === "object" && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A document's status as parsed; not ok when the document does not render (never overwrite blind). */
function statusOf(doc: LoadedDocument, maxAliasCount: number): { ok: true; status: unknown } | { ok: false } {
  try {
    const data: unknown = doc.doc.toJS({ maxAliasCount });
    if (data === null || typeof data !== "object" || Array.isArray(data)) return { ok: false };
    return { ok: true, status: (data as Record<string, unknown>).status };
  } catch {
    return { ok: false };
  }
}

/** What list() handed out for a parsed document (store.handOut). */
const handedOut = new WeakMap<LoadedDocument, { generation: number; stored: StoredManifest }>();

/** Drops what only a write needs, in place: the documents keep their identity (handOut, lastList). */
function slim(st: FileState): void {
  if (st.slim) return;
  for (const d of st.result.documents) d.doc = NO_TREE;
  delete st.text;
  st.slim = true;
}

function sameSource(a: StoredManifest["source"], b: StoredManifest["source"]): boolean {
  return a.store === "dir" && b.store === "dir" && a.file === b.file && a.index === b.index && a.line === b.line;
}

/** Spec hashes by parsed spec object: a file's parse is kept while it is unchanged, so is its hash. */
const specHashes = new WeakMap<object, string>();
function cachedSpecHash(spec: unknown): string {
  if (spec === null || typeof spec !== "object") return specHash(spec);
  let h = specHashes.get(spec);
  if (h === undefined) specHashes.set(spec, (h = specHash(spec)));
  return h;
}

/** A caller's own copy of a cached manifest (plain JSON data: a JSON round trip is the cheapest deep copy). */
function cloneManifest<T>(m: T): T {
  return JSON.parse(JSON.stringify(m)) as T;
}

function hasBom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes.subarray(0, 3).equals(BOM);
}
