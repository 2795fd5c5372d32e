// The safety net under splice.ts: the file after a status write, parsed again by the one
// loader, must hold the same documents with the same data, except for the target document's
// status, metadata.generation and spec-hash annotation, which must be exactly the new ones.
// Anything else (an unusual layout the splicer got wrong) and the write does not happen.
import type { Document } from "yaml";
import { LOAD_DEFAULTS, type LoadResult } from "../../api/load.js";
import { canonicalJson, sameJson } from "./canonical.js";
import { SPEC_HASH_ANNOTATION } from "./generation.js";
import type { StatusUpdate } from "./splice.js";

/** Undefined when `after` is `before` with `update` applied to document `index`; else why not. */
export function verifySplice(
  before: LoadResult,
  after: LoadResult,
  index: number,
  update: StatusUpdate,
): string | undefined {
  return eachDocument(before, after, index, false, (b, a) => {
    if (!a.manifest) return `the target document became invalid: ${a.problems[0]?.message ?? ""}`;
    if (a.key !== b.key) return "the target document's name changed";
    if (a.manifest.metadata.generation !== update.generation) return "metadata.generation is not the new one";
    if (a.manifest.metadata.annotations?.[SPEC_HASH_ANNOTATION] !== update.specHash)
      return "the spec-hash annotation is not the new one";
    if (!sameJson(a.manifest.status, update.status)) return "status is not the new one";
    if (dataOf(a.doc, "store") !== dataOf(b.doc, "store"))
      return "the target document changed outside status and store metadata";
    return undefined;
  });
}

/**
 * Undefined when `after` is `before` with only the status of document `index` replaced by
 * `status` (plain JSON data), else why not. For a document that is not a valid manifest: its
 * metadata (generation, spec-hash annotation) must not move either, and it may stay invalid,
 * but no document may have a YAML error.
 */
export function verifyStatusOnly(
  before: LoadResult,
  after: LoadResult,
  index: number,
  status: unknown,
): string | undefined {
  return eachDocument(before, after, index, true, (b, a) => {
    if (a.key === undefined || a.key !== b.key) return "the target document's name changed";
    if (canonicalJson(statusOf(a.doc)) !== canonicalJson(status)) return "status is not the new one";
    if (dataOf(a.doc, "status") !== dataOf(b.doc, "status")) return "the target document changed outside status";
    return undefined;
  });
}

type Loaded = LoadResult["documents"][number];

/**
 * The walk both checks share: the result loads, holds the same documents in the same order,
 * every document but the target has the same data (and, with `noYamlErrors`, none has a YAML
 * error); `target` judges the target document itself.
 */
function eachDocument(
  before: LoadResult,
  after: LoadResult,
  index: number,
  noYamlErrors: boolean,
  target: (b: Loaded, a: Loaded) => string | undefined,
): string | undefined {
  if (after.problems.length > 0) return `the result does not load: ${after.problems[0]?.message ?? ""}`;
  if (after.documents.length !== before.documents.length) return "the number of documents changed";
  for (let i = 0; i < before.documents.length; i++) {
    const b = before.documents[i];
    const a = after.documents[i];
    if (!a || !b || a.index !== b.index) return "the documents moved";
    if (noYamlErrors && a.doc.errors.length > 0)
      return `document ${a.index} does not parse: ${a.doc.errors[0]?.message ?? ""}`;
    if (b.index !== index) {
      if (dataOf(a.doc) !== dataOf(b.doc)) return `document ${b.index} changed`;
      continue;
    }
    const why = target(b, a);
    if (why) return why;
  }
  return undefined;
}

function statusOf(doc: Document): unknown {
  try {
    const data: unknown = doc.toJS({ maxAliasCount: LOAD_DEFAULTS.maxAliasCount });
    return data && typeof data === "object" ? (data as Record<string, unknown>).status : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Canonical JSON of a document's data, optionally without the fields a status write owns
 * ("store": status, generation, spec-hash annotation) or without status alone.
 */
function dataOf(doc: Document, without: false | "store" | "status" = false): string {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LOAD_DEFAULTS.maxAliasCount });
  } catch {
    return "unrenderable:" + String(doc);
  }
  if (without && data && typeof data === "object") {
    const d = { ...(data as Record<string, unknown>) };
    delete d.status;
    const meta = d.metadata;
    if (without === "store" && meta && typeof meta === "object") {
      const m = { ...(meta as Record<string, unknown>) };
      delete m.generation;
      if (m.annotations && typeof m.annotations === "object") {
        const ann = { ...(m.annotations as Record<string, unknown>) };
        delete ann[SPEC_HASH_ANNOTATION];
        if (Object.keys(ann).length === 0) delete m.annotations;
        else m.annotations = ann;
      } else if (m.annotations === null) delete m.annotations;
      d.metadata = m;
    }
    data = d;
  }
  return canonicalJson(data);
}

/**
 * Undefined when `after` is `before` with document `index`'s user fields and store metadata
 * replaced by `next` (apply): its status, and every other document, unchanged.
 */
export function verifyApply(before: LoadResult, after: LoadResult, index: number, next: unknown): string | undefined {
  return eachDocument(before, after, index, true, (b, a) => {
    if (!a.manifest) return `the applied document does not validate: ${a.problems[0]?.message ?? ""}`;
    if (a.key !== b.key) return "the document's name changed";
    if (canonicalJson(statusOf(a.doc)) !== canonicalJson(statusOf(b.doc))) return "status changed";
    const data = JSON.parse(dataOf(a.doc, "status")) as unknown;
    if (canonicalJson(data) !== canonicalJson(next)) return "the document is not the applied manifest";
    return undefined;
  });
}

/** Undefined when `after` is `before` without document `index` (delete), else why not. */
export function verifyRemoved(before: LoadResult, after: LoadResult, index: number): string | undefined {
  if (after.problems.length > 0) return `the result does not load: ${after.problems[0]?.message ?? ""}`;
  const kept = before.documents.filter((d) => d.index !== index).map((d) => dataOf(d.doc));
  const now = after.documents.map((d) => dataOf(d.doc));
  if (kept.length !== now.length || kept.some((k, i) => k !== now[i])) return "other documents changed";
  return undefined;
}
