// What apply/patchSpec turn a stored manifest into: pure, shared by both stores.
// The user owns apiVersion, kind, metadata.name/namespace/labels, their own annotations and
// spec; the store owns status, metadata.generation and STORE_ANNOTATIONS. A spec change (by
// the canonical hash of the defaulted spec) is a new generation; a labels/annotations change
// alone is "configured" at the same generation.
import { stringify } from "yaml";
import { API_VERSION, KIND, loadText } from "../api/load.js";
import { schemaIssues } from "../api/validate.js";
import type { ChaosSchedule, LoadedChaosSchedule } from "../api/types.js";
import { canonicalJson, sameJson, specHash, toPlainJson } from "./directory/canonical.js";
import { SPEC_HASH_ANNOTATION } from "./directory/generation.js";
import {
  APPLIED_AT_ANNOTATION,
  APPLIED_BY_ANNOTATION,
  ManifestRejected,
  STORE_ANNOTATIONS,
  type ApplyResult,
  type Origin,
  type SpecPatch,
} from "./store.js";

/** A manifest as a user gave it, checked: `data` is what gets stored (no defaults added). */
export interface CheckedManifest {
  key: string;
  /** Plain JSON data: apiVersion, kind, metadata (user fields only), spec. */
  data: ChaosSchedule;
  /** Validated, defaulted: what the controller will see. */
  loaded: LoadedChaosSchedule;
  specHash: string;
}

/** Validate a manifest given to apply; throws ManifestRejected with every problem at once. */
export function checkManifest(manifest: ChaosSchedule, file = "<apply>"): CheckedManifest {
  const data = userPart(toPlainJson(manifest));
  const result = loadText(stringify(data, { lineWidth: 0 }), file);
  const doc = result.documents[0];
  const problems = [...result.problems, ...(doc?.problems ?? [])];
  if (!doc?.manifest || !doc.key || problems.length > 0) {
    throw new ManifestRejected(
      problems.length > 0
        ? problems
        : [{ file, line: 0, column: 0, path: "", message: "not a ChaosSchedule", rule: "notChaosSchedule" }],
    );
  }
  return { key: doc.key, data, loaded: doc.manifest, specHash: specHash(doc.manifest.spec) };
}

/** The user-owned part of a manifest: no status, no generation, no store annotations. */
export function userPart(m: ChaosSchedule): ChaosSchedule {
  const meta = { ...m.metadata };
  delete meta.generation;
  const annotations = userAnnotations(meta.annotations);
  if (annotations) meta.annotations = annotations;
  else delete meta.annotations;
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  return { apiVersion: m.apiVersion, kind: m.kind, metadata: meta, spec: m.spec };
}

function userAnnotations(a: Record<string, string | undefined> | undefined): Record<string, string> | undefined {
  if (!a) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined && !STORE_ANNOTATIONS.includes(k)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** What is stored now for the key. */
export interface CurrentManifest {
  /** The manifest as stored (as the user wrote it, no defaults added), plain JSON data. */
  data: ChaosSchedule;
  /** specHash() of its validated, defaulted spec. */
  specHash: string;
  generation: number;
  /** Its validated, defaulted spec (absent when the stored manifest is not valid). */
  defaultedSpec?: unknown;
}

export interface ApplyPlan {
  result: ApplyResult;
  generation: number;
  /** The manifest to store, without status: user part + store metadata. Absent when unchanged. */
  next?: ChaosSchedule;
}

/**
 * The outcome of applying `incoming` on top of `current` (undefined: not stored yet). On an
 * equal spec hash the stored spec is kept as it is (the incoming one may spell out defaults).
 */
export function planManifestApply(
  current: CurrentManifest | undefined,
  incoming: CheckedManifest,
  origin: Origin,
  now: Date,
): ApplyPlan {
  const stamp = { [APPLIED_BY_ANNOTATION]: origin.appliedBy, [APPLIED_AT_ANNOTATION]: now.toISOString() };
  if (!current) {
    const data = { ...incoming.data, spec: withoutDefaults(incoming.data.spec) };
    return { result: "created", generation: 1, next: withStoreMeta(data, 1, incoming.specHash, stamp) };
  }
  const stored = userPart(current.data);
  const specChanged = current.specHash !== incoming.specHash;
  const metaChanged =
    !sameJson(metaOf(stored), metaOf(incoming.data)) || stored.apiVersion !== incoming.data.apiVersion;
  if (!specChanged && !metaChanged) return { result: "unchanged", generation: current.generation };
  const generation = specChanged ? current.generation + 1 : current.generation;
  // Only what changed in meaning is written over the stored spec: a default the incoming
  // manifest spells out (or leaves out) is no change, so the stored text keeps its own form.
  let spec = !specChanged
    ? stored.spec
    : current.defaultedSpec === undefined
      ? incoming.data.spec
      : (semanticMerge(stored.spec, current.defaultedSpec, incoming.loaded.spec) as ChaosSchedule["spec"]);
  // The merge must mean exactly the incoming spec; if it does not (it always should), store that.
  if (specChanged && spec !== incoming.data.spec && !meansSpec(spec, incoming)) spec = incoming.data.spec;
  const data: ChaosSchedule = { ...incoming.data, spec };
  return { result: "configured", generation, next: withStoreMeta(data, generation, incoming.specHash, stamp) };
}

/**
 * `stored` (as written) changed where `before` (its defaulted form) and `after` (the new
 * defaulted form) differ in meaning: equal subtrees keep the stored form (absent stays absent),
 * mappings are merged key by key, anything else that changed takes the new value.
 */
export function semanticMerge(stored: unknown, before: unknown, after: unknown): unknown {
  if (sameJson(before, after)) return stored;
  if (isRecord(before) && isRecord(after) && (stored === undefined || isRecord(stored))) {
    const out: Record<string, unknown> = { ...(stored ?? {}) };
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!(k in after)) {
        delete out[k];
        continue;
      }
      const v = semanticMerge(stored?.[k], before[k], after[k]);
      if (v === undefined) delete out[k];
      else out[k] = v;
    }
    return out;
  }
  return after;
}

/**
 * `spec` without the values the schema would fill in anyway (a CLI passes the loader's
 * defaulted manifest; the stored copy stays as short as the user's own). Key order is kept.
 */
export function withoutDefaults(spec: ChaosSchedule["spec"]): ChaosSchedule["spec"] {
  const target = defaultedSpecJson(spec);
  const out = structuredClone(spec) as unknown as Record<string, unknown>;
  const visit = (obj: Record<string, unknown>, path: string[]): void => {
    for (const k of Object.keys(obj)) {
      const trial = structuredClone(out);
      let at: Record<string, unknown> = trial;
      for (const p of path) at = at[p] as Record<string, unknown>;
      delete at[k];
      if (defaultedSpecJson(trial) === target) {
        delete obj[k];
        continue;
      }
      const v = obj[k];
      if (isRecord(v)) visit(v, [...path, k]);
    }
  };
  visit(out, []);
  return out as unknown as ChaosSchedule["spec"];
}

function defaultedSpecJson(spec: unknown): string {
  const m = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "x" }, spec: structuredClone(spec) };
  schemaIssues(m);
  return canonicalJson(m.spec);
}

function meansSpec(spec: ChaosSchedule["spec"], incoming: CheckedManifest): boolean {
  try {
    return checkManifest({ ...incoming.data, spec }).specHash === incoming.specHash;
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `patch` applied to the spec of a stored manifest (as stored, not defaulted). */
export function patchedManifest(current: ChaosSchedule, patch: SpecPatch): ChaosSchedule {
  const data = userPart(toPlainJson(current));
  const { abort, ...rest } = patch;
  const spec = { ...data.spec, ...rest };
  if (abort) spec.abort = { ...data.spec.abort, ...abort };
  return { ...data, spec };
}

function metaOf(m: ChaosSchedule): unknown {
  const { name, namespace, labels, annotations } = m.metadata;
  return { name, namespace: namespace ?? "default", labels: labels ?? {}, annotations: annotations ?? {} };
}

function withStoreMeta(
  data: ChaosSchedule,
  generation: number,
  hash: string,
  stamp: Record<string, string>,
): ChaosSchedule {
  const annotations = { ...(data.metadata.annotations ?? {}), [SPEC_HASH_ANNOTATION]: hash, ...stamp };
  return { ...data, metadata: { ...data.metadata, generation, annotations } };
}
