// The CLI's writes to a folder (apply, patchSpec, delete): the same protocol as the status write
// (status-write.ts), with their own plans. An existing document is changed in place, path by
// path; a new manifest gets its own file; a deleted one is cut out of its file, or the file goes.
import { statSync, unlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ChaosSchedule, LoadedChaosSchedule } from "../../api/types.js";
import type { LoadedDocument } from "../../api/load.js";
import type { Logger } from "../../util/log.js";
import { StoreWriteError, type ApplyOptions, type ApplyOutcome, type DeleteResult } from "../store.js";
import { planManifestApply, userPart, type CheckedManifest, type CurrentManifest } from "../apply-plan.js";
import { defaultOrigin } from "../origin.js";
import { createExclusive, isNotFound, replaceIfUnchanged } from "./atomic.js";
import { specHash, toPlainJson } from "./canonical.js";
import { cutDocument, newFileName } from "./documents.js";
import type { FileCache, FileState, WritePlan } from "./files.js";
import type { HandOut } from "./handout.js";
import { spliceFields } from "./splice.js";
import { MAX_ATTEMPTS, type Writer } from "./status-write.js";
import { verifyApply, verifyRemoved } from "./verify.js";

/** What the edits need of the store. */
export interface EditHost {
  dir: string;
  logger: Logger;
  cache: FileCache;
  handOut: HandOut;
  writer: Writer;
  /** A fresh list(), then where `key` lives (valid or invalid); throws when it is defined twice. */
  locate(key: string): Promise<{ path: string; state: FileState } | undefined>;
  /** `key` left `path` (deleted). */
  forget(path: string, key: string, after?: FileState): void;
}

/**
 * apply and patchSpec: `incoming(stored)` is the manifest to store, given the stored one as
 * written (undefined when there is none, or it is invalid); undefined from it: "notfound".
 * An existing document is changed in place, path by path (spliceFields); a new one goes to a
 * new file. A document that vanishes meanwhile is applied again from a fresh list, once.
 */
export async function applyTo(
  host: EditHost,
  key: string,
  incoming: (stored: ChaosSchedule | undefined) => CheckedManifest | undefined,
  opts: ApplyOptions,
  again = true,
): Promise<ApplyOutcome | "notfound"> {
  const found = await host.locate(key);
  const origin = opts.origin ?? defaultOrigin();
  const now = opts.now ?? new Date();
  if (!found) {
    const checked = incoming(undefined);
    if (!checked) return "notfound";
    const plan = planManifestApply(undefined, checked, origin, now);
    if (!opts.dryRun && plan.next) await createFile(host, key, plan.next);
    return { result: plan.result, key, generation: plan.generation };
  }
  const { path, state } = found;
  let outcome: ApplyOutcome | "notfound" | undefined;
  let failure: string | undefined;
  const planner = (bytes: Buffer): WritePlan => {
    outcome = undefined;
    const t = host.cache.target(path, state.real, bytes, key);
    if ("result" in t) return t;
    const raw = dataOf(t.doc, host.cache.maxAliasCount);
    if (!raw) return { result: "invalid" };
    const current = currentOf(t.doc, raw, (m) => host.handOut.generationOf(key, m));
    const checked = incoming(t.doc.manifest ? current.data : undefined);
    if (!checked) {
      outcome = "notfound";
      return { result: "unchanged" };
    }
    const plan = planManifestApply(current, checked, origin, now);
    outcome = { result: plan.result, key, generation: plan.generation };
    if (!plan.next || opts.dryRun) return { result: "unchanged" };
    const next = toPlainJson(plan.next);
    const edit = spliceFields(t.text, t.doc.doc, next as unknown as Record<string, unknown>);
    const r = host.cache.respliced(t, bytes, edit, (before, after) => verifyApply(before, after, t.doc.index, next));
    if (!r.ok) {
      failure = r.reason;
      return { result: "invalid" };
    }
    host.handOut.remember(key, { generation: plan.generation, specHash: checked.specHash });
    return { bytes: r.state.bytes, state: r.state };
  };
  const result = await host.writer.locked(state.real, () => host.writer.write(path, state.real, key, planner));
  if (outcome !== undefined && (result === "written" || result === "unchanged")) return outcome;
  if (result === "gone" && again) return applyTo(host, key, incoming, opts, false);
  if (result === "invalid")
    throw new StoreWriteError(
      `${path}: cannot apply ${key} in place${failure ? `: ${failure}` : " (the file does not parse cleanly now)"}; edit the file by hand`,
    );
  throw new StoreWriteError(`${path}: ${key} kept changing while applying; try again`);
}

/** A new manifest's own file, never over an existing one (name-1.yaml, ... when taken). */
async function createFile(host: EditHost, key: string, manifest: ChaosSchedule): Promise<string> {
  const bytes = Buffer.from(stringify(toPlainJson(manifest), { lineWidth: 0 }), "utf8");
  for (let n = 0; n < 100; n++) {
    const path = join(host.dir, newFileName(key, n));
    if (await createExclusive(path, bytes, host.writer.inFlight)) {
      host.logger.info({ file: path, key }, "created a manifest file");
      return path;
    }
  }
  throw new StoreWriteError(`no free file name for ${key} under ${host.dir}`);
}

/** Removes the document (the file when it was alone in it); a concurrent edit restarts the attempt. */
export async function deleteDocument(host: EditHost, path: string, real: string, key: string): Promise<DeleteResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const bytes = await host.cache.readBytes(real);
    if (bytes === "gone") return "notfound";
    if (bytes === "invalid") throw new StoreWriteError(`${path}: cannot read it to delete ${key}`);
    const t = host.cache.target(path, real, bytes, key);
    if ("result" in t) {
      if (t.result === "gone") return "notfound";
      throw new StoreWriteError(`${path}: does not parse cleanly now; delete ${key} by hand`);
    }
    if (t.state.result.documents.length === 1) {
      const gone = await unlinkIfUnchanged(real, bytes);
      if (gone === "notfound") return "notfound";
      if (gone === "changed") continue;
      host.forget(path, key);
      return "deleted";
    }
    const cut = cutDocument(t.text, t.doc.index);
    if (cut === undefined) throw new StoreWriteError(`${path}: cannot find the document of ${key}`);
    const r = host.cache.respliced(t, bytes, { ok: true, text: cut }, (before, after) =>
      verifyRemoved(before, after, t.doc.index),
    );
    if (!r.ok)
      throw new StoreWriteError(
        `${path}: removing ${key} would change more than that document (${r.reason}); delete it by hand`,
      );
    const outcome = await replaceIfUnchanged(real, bytes, r.state.bytes, host.writer.inFlight, host.writer.hooks);
    if (outcome.kind === "changed") {
      if (outcome.current === null) return "notfound";
      continue;
    }
    host.forget(path, key, r.state);
    return "deleted";
  }
  throw new StoreWriteError(`${path}: kept changing while deleting ${key}; try again`);
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
