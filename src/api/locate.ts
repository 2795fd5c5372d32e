// Finds where a field path sits in a parsed YAML document, as a 1-based line and column.
// Walks the node tree (never the JS value), so positions are exact even with aliases,
// flow collections, CRLF line ends or comments.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import type { Issue, PathSegment } from "./path.js";

export interface Position {
  line: number;
  column: number;
}

interface Found {
  /** The key node of the deepest map entry reached, if the path ends in a map entry. */
  key?: Node;
  /** The value node reached (may be missing: `a:` with nothing after). */
  value?: Node;
  /** How many path segments were resolved. */
  depth: number;
}

function walk(doc: Document, path: readonly PathSegment[]): Found {
  let value: Node | undefined = doc.contents ?? undefined;
  let key: Node | undefined;
  let depth = 0;
  for (const seg of path) {
    if (value && isAlias(value)) value = value.resolve(doc) ?? value;
    let next: { key?: Node; value?: Node } | undefined;
    if (value && isMap(value)) {
      const pair = value.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair) next = { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined };
    } else if (value && isSeq(value) && typeof seg === "number") {
      const item = value.items[seg] as Node | null | undefined;
      if (item) next = { value: item };
    }
    if (!next) break;
    ({ key, value } = next);
    depth++;
  }
  return { key, value, depth };
}

function startOf(node: Node | undefined): number | undefined {
  return node?.range?.[0];
}

/** An empty value (`a:` with nothing after) has a zero-width range; point at its key instead. */
function isEmptyValue(node: Node | undefined): boolean {
  return !node || (isScalar(node) && node.value === null && (node.source === "" || node.source === undefined));
}

/** The offset an issue points at, following Issue.at. */
export function offsetOf(doc: Document, issue: Pick<Issue, "path" | "at">): number {
  const docStart = startOf(doc.contents ?? undefined) ?? doc.range?.[0] ?? 0;
  const at = issue.at ?? "value";
  const path = at === "parent" ? issue.path.slice(0, -1) : issue.path;
  const found = walk(doc, path);
  const complete = found.depth === path.length;
  let offset: number | undefined;
  if (complete && at === "key") offset = startOf(found.key) ?? startOf(found.value);
  else if (complete && at === "value") offset = isEmptyValue(found.value) ? startOf(found.key) : startOf(found.value);
  // "parent", or a path that runs past what is written (a field filled in by a default):
  // point at the key of the deepest entry that exists, the line a person would look at.
  else offset = startOf(found.key) ?? startOf(found.value);
  return offset ?? docStart;
}

export function positionOf(lc: LineCounter, offset: number): Position {
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}
