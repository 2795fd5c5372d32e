// Schema validation: the generated runtime schema (from the CRD), compiled at build time by
// `npm run gen` into ajv standalone code (compiling it at import cost ~230 ms per CLI start).
// Applies schema defaults in place and turns ajv errors into plain, located-later Issues.
import type { ErrorObject, ValidateFunction } from "ajv";
import generatedValidator from "./generated/validator.js";
import { closest } from "../util/suggest.js";
import { formatPath, fromJsonPointer, type Issue, type PathSegment } from "./path.js";
import { DURATION_FIELDS } from "./semantic.js";

// Compiled with scripts/gen-types.mjs AJV_OPTIONS: allErrors, useDefaults, verbose (parentSchema
// on errors lets "unknown field" suggest the field meant), strict, allowUnionTypes.
const validateSchema = generatedValidator as unknown as ValidateFunction;

/**
 * Schema errors the semantic checks (semantic.ts) report better, by path and keyword:
 * "exactly one fault" is a count the schema can only say as min/maxProperties.
 */
const SUPERSEDED: ReadonlyArray<{ path: string; keywords: readonly string[] }> = [
  { path: "spec.fault", keywords: ["minProperties", "maxProperties"] },
  { path: "spec.fault.network", keywords: ["minProperties"] },
  { path: "metadata.namespace", keywords: ["pattern"] },
];

/** Known patterns, said in words. */
const PATTERN_WORDS: Record<string, string> = {
  "^(SIG[A-Z0-9]+|[0-9]{1,2})$": 'must be a signal name like "SIGKILL" or a number like "9"',
  "^[A-Za-z0-9_.@-]+$": "must be an interface name (letters, digits, _ . @ -)",
  "^[0-9]+(\\.[0-9]+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$": 'must be a rate like "1mbit", "500kbit" or "10mbps"',
  "^[0-9]+(b|kb|mb|kbit|mbit)?$": 'must be a size like "32kb" or "1mb"',
};

/** Validates `data` against the ChaosSchedule schema. Fills in defaults (mutates `data`). */
export function schemaIssues(data: unknown): Issue[] {
  if (validateSchema(data)) return [];
  const errors = validateSchema.errors ?? [];
  // An anyOf failure (int-or-string) also reports each branch; keep only the anyOf itself.
  const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath + "/");
  const issues: Issue[] = [];
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const path = fromJsonPointer(e.instancePath);
    const text = formatPath(path);
    if (SUPERSEDED.some((s) => s.path === text && s.keywords.includes(e.keyword))) continue;
    issues.push(toIssue(e, path));
  }
  return issues;
}

function toIssue(e: ErrorObject, path: PathSegment[]): Issue {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required": {
      const field = String(p.missingProperty);
      return { path: [...path, field], message: `missing required field "${field}"`, rule: "schema", at: "parent" };
    }
    case "additionalProperties": {
      const field = String(p.additionalProperty);
      const known = Object.keys(asRecord(e.parentSchema?.properties));
      const guess = closest(field, known);
      const hint = guess ? `; did you mean "${guess}"?` : known.length ? `; known fields: ${known.join(", ")}` : "";
      return { path: [...path, field], message: `unknown field "${field}"${hint}`, rule: "schema", at: "key" };
    }
    case "type": {
      const want = String(p.type);
      const hint =
        want !== "string" || (typeof e.data !== "number" && typeof e.data !== "boolean")
          ? ""
          : typeof e.data === "number" && DURATION_FIELDS.has(formatPath(path))
            ? `; a duration needs a unit: "${e.data}s" (or ms, m, h)`
            : `; quote it: "${String(e.data)}"`;
      return { path, message: `must be ${article(want)}, not ${describe(e.data)}${hint}`, rule: "schema" };
    }
    case "enum": {
      const allowed = Array.isArray(p.allowedValues) ? p.allowedValues.map((v) => JSON.stringify(v)).join(", ") : "";
      return { path, message: `must be one of ${allowed}, not ${describe(e.data)}`, rule: "schema" };
    }
    case "anyOf":
      return { path, message: `must be an integer or a string, not ${describe(e.data)}`, rule: "schema" };
    case "pattern": {
      const pattern = String(p.pattern);
      return {
        path,
        message: `${PATTERN_WORDS[pattern] ?? `must match ${pattern}`}, not ${describe(e.data)}`,
        rule: "schema",
      };
    }
    case "maxLength":
      return { path, message: `must be at most ${String(p.limit)} characters long`, rule: "schema" };
    case "maxItems":
      return { path, message: `must have at most ${String(p.limit)} items`, rule: "schema" };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return {
        path,
        message: `must be ${String(p.comparison)} ${String(p.limit)}, not ${describe(e.data)}`,
        rule: "schema",
      };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}`, rule: "schema" };
  }
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A JSON Schema type in words: "an integer", "a mapping", "a list", "a string". */
function article(type: string): string {
  return type === "integer"
    ? "an integer"
    : type === "object"
      ? "a mapping"
      : type === "array"
        ? "a list"
        : `a ${type}`;
}

/** A short description of a value for messages: `"abc"`, `42`, `a list`, `a mapping`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "empty (null)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : typeof v;
}
