// The status-write protocol, per file and one write at a time per file (the steps are listed
// at the top of store.ts): Writer runs a plan on top of the file's current bytes and swaps the
// result in, starting over when a user's edit lands meanwhile. planStatus and planInvalid are
// the plans of writeStatus and reportInvalid; the CLI's edits (edits.ts) bring their own.
import { readFile } from "node:fs/promises";
import type { LoadedDocument } from "../../api/load.js";
import type { Logger } from "../../util/log.js";
import type { WriteResult } from "../store.js";
import { replaceIfUnchanged, type ReplaceHooks, type TempFiles } from "./atomic.js";
import { sameJson, specHash } from "./canonical.js";
import type { FileCache, WritePlan } from "./files.js";
import { SPEC_HASH_ANNOTATION } from "./generation.js";
import type { HandOut } from "./handout.js";
import { invalidStatus } from "./invalid.js";
import { spliceStatus, spliceStatusOnly } from "./splice.js";
import { verifySplice, verifyStatusOnly } from "./verify.js";

/** Write attempts before giving up with "conflict" (each retry follows a concurrent edit). */
export const MAX_ATTEMPTS = 5;

/** Plans a write on top of the file's current bytes. */
export type Planner = (bytes: Buffer) => WritePlan;

export interface PlanContext {
  cache: FileCache;
  handOut: HandOut;
  logger: Logger;
}

export class Writer {
  /** Bytes we wrote on top of what list() had seen: their watcher events are our own echo. */
  private readonly echoes = new Map<string, Buffer>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly cache: FileCache,
    private readonly logger: Logger,
    /** This store's temp files: unique names per write, in flight (never swept) until done. */
    readonly inFlight: TempFiles,
    readonly hooks: ReplaceHooks,
  ) {}

  /** Runs `fn` after every earlier write of the same file. */
  async locked<T>(real: string, fn: () => Promise<T>): Promise<T> {
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

  /** Under the file's lock: plan on the current bytes, swap in, start over on a concurrent edit. */
  async write(path: string, real: string, key: string, planner: Planner): Promise<WriteResult> {
    const listedBytes = this.cache.get(path)?.bytes;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const base = await this.cache.readBytes(real);
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
      this.cache.set(path, plan.state);
      if (listedBytes && base.equals(listedBytes)) this.echoes.set(path, plan.bytes);
      return "written";
    }
    this.logger.warn({ file: path, key }, "file kept changing during the status write; giving up for now");
    return "conflict";
  }

  /** A list() read the folder again: what we wrote is no longer news. */
  clearEchoes(): void {
    this.echoes.clear();
  }

  /** The file holds exactly what we last wrote on top of list()'s view (the watcher's event is ours). */
  async isEcho(path: string): Promise<boolean> {
    const real = this.cache.get(path)?.real;
    if (!real) return false;
    // A write of ours to this file still in flight (the watcher reports its first event at once):
    // judge the file once it is done.
    await this.locks.get(real);
    const ours = this.echoes.get(path);
    if (!ours) return false;
    return ours.equals(await readFile(real));
  }
}

/** writeStatus's plan on top of `bytes` (the file as it is now), or why nothing. */
export function planStatus(
  ctx: PlanContext,
  at: { path: string; real: string; key: string },
  bytes: Buffer,
  generation: number,
  status: unknown,
): WritePlan {
  const { path, real, key } = at;
  const found = ctx.cache.target(path, real, bytes, key);
  if ("result" in found) return found;
  const { text, doc } = found;
  if (!doc.manifest) return { result: "invalid" };
  const current = ctx.handOut.generationOf(key, doc.manifest);
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
  const update = { status, generation: current, specHash: hash };
  const r = ctx.cache.respliced(found, bytes, spliceStatus(text, doc.doc, update), (before, after) =>
    verifySplice(before, after, doc.index, update),
  );
  return r.ok ? { bytes: r.state.bytes, state: r.state } : refused(ctx.logger, path, key, r);
}

/** reportInvalid's plan on top of `bytes`: the InvalidSpec condition, or why nothing. */
export function planInvalid(
  ctx: PlanContext,
  at: { path: string; real: string; key: string },
  bytes: Buffer,
  message: string,
  now: Date,
): WritePlan {
  const { path, real, key } = at;
  const found = ctx.cache.target(path, real, bytes, key);
  if ("result" in found) return found;
  const { text, doc } = found;
  // Valid now (the user fixed it meanwhile): the normal status write's business.
  if (doc.manifest) return { result: "conflict" };
  const read = statusOf(doc, ctx.cache.maxAliasCount);
  if (!read.ok) return { result: "invalid" };
  const current = read.status;
  const next = invalidStatus(current, message, now);
  if (!next.ok) {
    ctx.logger.warn(
      { file: path, key, reason: next.reason },
      "cannot mark an invalid manifest in its status; not written",
    );
    return { result: "invalid" };
  }
  if (sameJson(current ?? null, next.status)) return { result: "unchanged" };
  const r = ctx.cache.respliced(found, bytes, spliceStatusOnly(text, doc.doc, next.status), (before, after) =>
    verifyStatusOnly(before, after, doc.index, next.status),
  );
  return r.ok ? { bytes: r.state.bytes, state: r.state } : refused(ctx.logger, path, key, r);
}

/** A status write that would touch more than status: logged, not written. */
function refused(logger: Logger, path: string, key: string, r: { step: "edit" | "verify"; reason: string }): WritePlan {
  if (r.step === "edit")
    logger.error(
      { file: path, key, reason: r.reason },
      "cannot place status in this document without touching other text; not written",
    );
  else logger.error({ file: path, key, problem: r.reason }, "status write would change more than status; not written");
  return { result: "invalid" };
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
