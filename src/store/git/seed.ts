// After a sync replaced the working copy's files with the commit's, put back what the
// controller keeps in them: for each document with a durable record, its status and the
// store-managed metadata (generation, spec-hash annotation) as last written. The directory
// store then sees the file as if it had never been replaced: the same spec is the same
// generation (its runs are not repeated), a new spec is the next one (its runs start).
// Same splice + verify as the directory store's own writes; a document it cannot place status
// in is left as committed (and logged).
import { readFile } from "node:fs/promises";
import { loadText, type LoadOptions, type LoadResult } from "../../api/load.js";
import { decodeText } from "../../api/text.js";
import type { Logger } from "../../util/log.js";
import { replaceIfUnchanged, TempFiles } from "../directory/atomic.js";
import { scanDir } from "../directory/scan.js";
import { spliceStatus, spliceStatusOnly } from "../directory/splice.js";
import { verifySplice, verifyStatusOnly } from "../directory/verify.js";
import type { ScheduleRecord } from "./records.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface SeedResult {
  /** Documents given their record back. */
  seeded: number;
  /** Documents whose record could not be placed (left as committed). */
  skipped: number;
}

/** Writes records into the manifests under `dir`. Only the caller writes these files meanwhile. */
export async function seedStatus(
  dir: string,
  records: ReadonlyMap<string, ScheduleRecord>,
  logger: Logger,
  load: LoadOptions = {},
): Promise<SeedResult> {
  const out: SeedResult = { seeded: 0, skipped: 0 };
  if (records.size === 0) return out;
  const scan = await scanDir(dir);
  for (const f of scan.files) {
    const bytes = await readFile(f.real).catch(() => undefined);
    if (!bytes) continue;
    const decoded = decodeText(bytes);
    if (!decoded.ok) continue;
    let text = decoded.text;
    let result = loadText(text, f.path, load);
    if (result.problems.length > 0) continue;
    const keys = result.documents.map((d) => d.key);
    let changed = false;
    for (let i = 0; i < result.documents.length; i++) {
      const doc = result.documents[i];
      const record = doc?.key !== undefined ? records.get(doc.key) : undefined;
      if (!doc || !record || doc.doc.errors.length > 0) continue;
      // Twice in one file: which one the record belongs to cannot be told.
      if (keys.filter((k) => k === doc.key).length > 1) continue;
      const next = place(text, result, i, record, f.path, load);
      if (typeof next === "string") {
        logger.warn(
          { file: f.path, schedule: doc.key, reason: next },
          "could not put the schedule's status back after a sync; left as committed",
        );
        out.skipped++;
        continue;
      }
      text = next.text;
      result = next.result;
      changed = true;
      out.seeded++;
    }
    if (!changed) continue;
    const body = Buffer.from(text, "utf8");
    const content = bytes.subarray(0, 3).equals(BOM) ? Buffer.concat([BOM, body]) : body;
    await replaceIfUnchanged(f.real, bytes, content, new TempFiles());
  }
  return out;
}

/** The text with `record` placed in document `index`, or why not. */
function place(
  text: string,
  before: LoadResult,
  index: number,
  record: ScheduleRecord,
  file: string,
  load: LoadOptions,
): { text: string; result: LoadResult } | string {
  const doc = before.documents[index];
  if (!doc) return "no such document";
  // A valid manifest gets status and store metadata; an invalid one (still parsable) status
  // only, so the InvalidSpec condition the controller adds keeps the run history next to it.
  const update = { status: record.status, generation: record.generation, specHash: record.specHash };
  const spliced = doc.manifest ? spliceStatus(text, doc.doc, update) : spliceStatusOnly(text, doc.doc, record.status);
  if (!spliced.ok) return spliced.reason;
  const after = loadText(spliced.text, file, load);
  const problem = doc.manifest
    ? verifySplice(before, after, doc.index, update)
    : verifyStatusOnly(before, after, doc.index, record.status);
  return problem ?? { text: spliced.text, result: after };
}
