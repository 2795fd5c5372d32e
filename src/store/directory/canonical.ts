// Canonical JSON: sorted keys, undefined dropped. Two values are "the same" for the store
// (status unchanged, spec unchanged) exactly when their canonical JSON is equal, whatever the
// key order or quoting in the file.
import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Plain JSON data (what the file will hold), in the caller's key order: drops undefined. */
export function toPlainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value) ?? "null") as T;
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The fingerprint of a spec, kept in the file so a spec edit is seen across restarts. */
export function specHash(spec: unknown): string {
  return "sha256:" + createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 32);
}
