// Write status into one document of a YAML file by splicing text at the node ranges the
// parser reports, never by re-serialising the document: every byte outside the replaced
// `status:` block and the store-managed metadata lines stays as the user wrote it (comments,
// key order, quoting, flow maps, blank lines, CRLF, BOM, the other documents).
// Pure: text and parsed document in, text out. The store re-parses the result and checks it
// (verifySplice) before anything reaches the disk.
import { isMap, isNode, isScalar, isSeq, stringify, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { SPEC_HASH_ANNOTATION } from "./generation.js";

export interface StatusUpdate {
  /** Plain JSON data. */
  status: unknown;
  generation: number;
  specHash: string;
}

export type SpliceResult = { ok: true; text: string } | { ok: false; reason: string };

interface Edit {
  start: number;
  end: number;
  text: string;
}

class Unplaceable extends Error {}

/** The text with `update` placed into `doc` (a document parsed from exactly `text`). */
export function spliceStatus(text: string, doc: Document, update: StatusUpdate): SpliceResult {
  return splice(text, doc, (ctx, root) => {
    const metaPair = findPair(root, "metadata");
    if (!metaPair || !isMap(metaPair.value)) throw new Unplaceable("metadata is not a mapping");
    const meta = metaPair.value;

    const metaEntries: [string, unknown][] = [["generation", update.generation]];
    const edits: Edit[] = [];
    const annPair = findPair(meta, "annotations");
    if (!annPair || isNullish(annPair.value)) {
      metaEntries.push(["annotations", { [SPEC_HASH_ANNOTATION]: update.specHash }]);
    } else if (isMap(annPair.value)) {
      edits.push(...setInMap(ctx, annPair.value, [[SPEC_HASH_ANNOTATION, update.specHash]]));
    } else {
      throw new Unplaceable("metadata.annotations is not a mapping");
    }
    edits.push(...setInMap(ctx, meta, metaEntries));
    // Status edits come last so that, at an equal offset, metadata lines stay before status.
    edits.push(...setInMap(ctx, root, [["status", update.status]]));
    return edits;
  });
}

/**
 * The text with only `status` (plain JSON data) replaced in `doc`: metadata is left alone, so
 * this works on a document that is not (or no longer) a valid manifest (reportInvalid).
 */
export function spliceStatusOnly(text: string, doc: Document, status: unknown): SpliceResult {
  return splice(text, doc, (ctx, root) => setInMap(ctx, root, [["status", status]]));
}

function splice(text: string, doc: Document, editsOf: (ctx: Ctx, root: YAMLMap) => Edit[]): SpliceResult {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, reason: "the text must be the one parsed, without its BOM" };
  try {
    const ctx: Ctx = {
      text,
      eol: text.includes("\r\n") ? "\r\n" : "\n",
      version: doc.directives?.yaml.version ?? "1.2",
    };
    const root = doc.contents;
    if (!isMap(root)) throw new Unplaceable("the document is not a mapping");
    return { ok: true, text: applyEdits(text, editsOf(ctx, root)) };
  } catch (err) {
    if (err instanceof Unplaceable) return { ok: false, reason: err.message };
    throw err;
  }
}

interface Ctx {
  text: string;
  eol: string;
  version: "1.1" | "1.2" | "next";
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

function isNullish(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function rangeOf(node: unknown): [number, number, number] {
  const r = (node as Node | null)?.range;
  if (!r) throw new Unplaceable("a node has no source range");
  return r;
}

/** Edits that give each key of `entries` its value in `map`, keeping everything else. */
function setInMap(ctx: Ctx, map: YAMLMap, entries: [string, unknown][]): Edit[] {
  const edits: Edit[] = [];
  const missing: [string, unknown][] = [];
  for (const [key, value] of entries) {
    const pair = findPair(map, key);
    if (!pair) missing.push([key, value]);
    else edits.push(replacePair(ctx, map, pair, key, value));
  }
  if (missing.length > 0) edits.push(insertPairs(ctx, map, missing));
  return edits;
}

function replacePair(ctx: Ctx, map: YAMLMap, pair: Pair, key: string, value: unknown): Edit {
  const keyStart = rangeOf(pair.key)[0];
  const valueRange = pair.value ? rangeOf(pair.value) : rangeOf(pair.key);
  const valueStart = pair.value ? valueRange[0] : valueRange[1];
  const valueEnd = valueRange[1];
  const isScalarValue = value === null || typeof value !== "object";
  if (map.flow) return { start: valueStart, end: valueEnd, text: flowValue(value) };
  // A scalar replacing a scalar: only the value's own characters change (a trailing comment stays).
  if (isScalarValue && isScalar(pair.value) && !isNullish(pair.value) && sameLine(ctx.text, keyStart, valueEnd)) {
    return { start: valueStart, end: valueEnd, text: blockScalar(ctx, value) };
  }
  // Otherwise the whole pair is rewritten, from the key to the end of the value's last line.
  const indent = indentOf(ctx.text, keyStart);
  const end = lineEnd(ctx.text, valueEnd);
  const block = renderPair(ctx, key, value, indent).slice(indent.length);
  return {
    start: keyStart,
    end,
    text: end === ctx.text.length && !endsWithEol(ctx.text) ? trimEol(ctx, block) : block,
  };
}

function insertPairs(ctx: Ctx, map: YAMLMap, entries: [string, unknown][]): Edit {
  const last = map.items[map.items.length - 1];
  if (map.flow) {
    const parts = entries.map(([k, v]) => `${k}: ${flowValue(v)}`).join(", ");
    if (!last) {
      const open = rangeOf(map)[0];
      if (ctx.text[open] !== "{") throw new Unplaceable("an empty flow mapping without '{'");
      return { start: open + 1, end: open + 1, text: parts };
    }
    const at = last.value ? rangeOf(last.value)[1] : rangeOf(last.key)[1];
    return { start: at, end: at, text: ", " + parts };
  }
  if (!last) throw new Unplaceable("an empty block mapping");
  const indent = indentOf(ctx.text, rangeOf(last.key)[0]);
  const lastEnd = last.value ? rangeOf(last.value)[1] : rangeOf(last.key)[1];
  const at = lineEnd(ctx.text, lastEnd);
  const lines = entries.map(([k, v]) => renderPair(ctx, k, v, indent)).join("");
  // At the end of a file without a final line break: break the last line, and keep the file
  // without a final line break as its author had it.
  if (at === ctx.text.length && !endsWithEol(ctx.text))
    return { start: at, end: at, text: ctx.eol + trimEol(ctx, lines) };
  return { start: at, end: at, text: lines };
}

/** `key: value` as block YAML, every line indented, each ending with the file's EOL. */
function renderPair(ctx: Ctx, key: string, value: unknown, indent: string): string {
  const yaml = stringify({ [key]: value }, { version: ctx.version, lineWidth: 0, indent: 2 });
  return yaml
    .split("\n")
    .filter((line, i, all) => i < all.length - 1 || line !== "")
    .map((line) => (line === "" ? "" : indent + line) + ctx.eol)
    .join("");
}

/** A scalar as it would be written in block context (plain when YAML allows it). */
function blockScalar(ctx: Ctx, value: unknown): string {
  const s = stringify(value, { version: ctx.version, lineWidth: 0 }).replace(/\n$/, "");
  return s.includes("\n") ? flowValue(value) : s;
}

/** A value in flow context: JSON is valid YAML flow syntax and needs no escaping rules of its own. */
function flowValue(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

function indentOf(text: string, pos: number): string {
  const start = text.lastIndexOf("\n", pos - 1) + 1;
  const prefix = text.slice(start, pos);
  if (!/^ *$/.test(prefix)) throw new Unplaceable("a key does not start its line");
  return prefix;
}

/** The offset just past the line break of the line holding `pos - 1` (a range end). */
function lineEnd(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === "\n") return pos;
  const nl = text.indexOf("\n", pos);
  return nl === -1 ? text.length : nl + 1;
}

function sameLine(text: string, a: number, b: number): boolean {
  return !text.slice(a, b).includes("\n");
}

function endsWithEol(text: string): boolean {
  return text.endsWith("\n");
}

function trimEol(ctx: Ctx, s: string): string {
  return s.endsWith(ctx.eol) ? s.slice(0, -ctx.eol.length) : s;
}

function applyEdits(text: string, edits: Edit[]): string {
  // From the end backwards so offsets stay valid; at an equal offset the earlier edit must end
  // up first, so it is applied last.
  const ordered = edits.map((e, i) => ({ ...e, i })).sort((a, b) => b.start - a.start || b.i - a.i);
  let out = text;
  let floor = Infinity;
  for (const e of ordered) {
    if (e.end > floor) throw new Unplaceable("overlapping edits");
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    floor = e.start;
  }
  return out;
}

// ---- apply: the user's fields, changed path by path ----------------------------------------

/**
 * The text with the root keys of `next` (plain JSON data) given their values in `doc`, editing
 * only what differs: equal values keep their text (comments included), block mappings are
 * entered key by key, anything else that changed is rewritten whole; keys of a mapping that
 * `next` no longer has are removed with their lines. Root keys not in `next` (status) stay.
 */
export function spliceFields(text: string, doc: Document, next: Record<string, unknown>): SpliceResult {
  return splice(text, doc, (ctx, root) => mergeMap(ctx, root, next, false));
}

function mergeMap(ctx: Ctx, map: YAMLMap, next: Record<string, unknown>, removeMissing: boolean): Edit[] {
  const edits: Edit[] = [];
  const entries = Object.entries(next);
  if (removeMissing) {
    for (const pair of map.items) {
      const k = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof k !== "string" || !(k in next)) edits.push(removePair(ctx, map, pair));
    }
  }
  const missing: [string, unknown][] = [];
  for (const [key, value] of entries) {
    const pair = findPair(map, key);
    if (!pair) {
      missing.push([key, value]);
      continue;
    }
    if (sameData(pair.value, value)) continue;
    const sub = pair.value;
    const shared =
      isMap(sub) &&
      isPlainObject(value) &&
      sub.items.some((p) => isScalar(p.key) && typeof p.key.value === "string" && p.key.value in value);
    if (shared && isMap(sub) && !sub.flow && !map.flow) edits.push(...mergeMap(ctx, sub, value, true));
    else if (isFlowCollection(sub) && value !== null && typeof value === "object") {
      // A flow collection stays one: only its own characters change (a trailing comment stays).
      const [start, end] = rangeOf(sub);
      edits.push({ start, end, text: flowCollection(ctx, value) });
    } else edits.push(replacePair(ctx, map, pair, key, value));
  }
  if (missing.length > 0) edits.push(insertPairs(ctx, map, missing));
  return edits;
}

/** Removes a pair of a block mapping with its whole lines (a flow mapping is rewritten instead). */
function removePair(ctx: Ctx, map: YAMLMap, pair: Pair): Edit {
  if (map.flow || map.items.length < 2)
    throw new Unplaceable("cannot remove the last key of a mapping or a key of a flow mapping in place");
  const keyStart = rangeOf(pair.key)[0];
  indentOf(ctx.text, keyStart);
  const start = ctx.text.lastIndexOf("\n", keyStart - 1) + 1;
  const valueEnd = pair.value ? rangeOf(pair.value)[1] : rangeOf(pair.key)[1];
  return { start, end: lineEnd(ctx.text, valueEnd), text: "" };
}

function isFlowCollection(node: unknown): boolean {
  return (isMap(node) || isSeq(node)) && node.flow === true;
}

/** A collection in flow style, on one line, with the padding the file uses (`{a: 1}` or `{ a: 1 }`). */
function flowCollection(ctx: Ctx, value: unknown): string {
  const padded = /[{[] \S/.test(ctx.text);
  const s = stringify(value, {
    version: ctx.version,
    lineWidth: 0,
    collectionStyle: "flow",
    flowCollectionPadding: padded,
  }).replace(/\n$/, "");
  return s.includes("\n") ? flowValue(value) : s;
}

function sameData(node: unknown, value: unknown): boolean {
  try {
    const data: unknown = isNode(node) ? node.toJSON() : node === null ? null : undefined;
    return JSON.stringify(sortKeys(data)) === JSON.stringify(sortKeys(value));
  } catch {
    return false;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}
