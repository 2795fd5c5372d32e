// Text → ChaosSchedule manifests, or every problem at once with file, line, column and path.
// The one way in for manifests (validate, the stores, apply): the rest of the code only sees
// validated, defaulted objects. Never throws for bad input.
//
// Per file: size bound → binary check → bounded YAML parse (tokens, documents and parser depth
// capped before they cost memory; see bounded-parse.ts). Per document: YAML errors (duplicate
// keys included) → nesting depth (on the node tree) → alias expansion bound (toJS) → "is it a
// ChaosSchedule at all" → schema (defaults applied) → semantic rules, at most maxProblems
// problems located and reported. Every step is linear in the size of the text, so a hostile
// file costs at most about what a valid one of the same size costs.
// Documents that are empty (a stray `---`) are skipped; so is a Docker stack (compose) file
// when opts.skipStackFiles, with a note (`skipped`): a manifest folder may hold the stack file
// that deploys chaosctl itself, as this repository's manifests/ does. A file with no documents at all is a
// problem ("noDocuments") unless opts.allowEmpty, since an empty manifest is almost always a
// mistake in a GitOps repo. `index` counts every document of the stream, empty ones included,
// so it addresses the same document in a re-parse of the same text.
import { isAlias, isCollection, isPair, LineCounter, visit, type Document, type Node } from "yaml";
import { boundedParse } from "./bounded-parse.js";
import { offsetOf, positionOf, type Position } from "./locate.js";
import { formatPath, type Issue } from "./path.js";
import type { Problem } from "./problems.js";
import { semanticIssues } from "./semantic.js";
import { listFiles, readBounded, STDIN, STDIN_NAME, tooLargeProblem } from "./read.js";
import { bytePosition, decodeText } from "./text.js";
import type { LoadedChaosSchedule } from "./types.js";
import { describe, schemaIssues } from "./validate.js";

export const API_VERSION = "chaosctl.io/v1alpha1";
export const KIND = "ChaosSchedule";

export interface LoadOptions {
  /** Larger files are reported and not read. Default 1 MiB. */
  maxBytes?: number;
  /** Alias expansions allowed per document (yaml's maxAliasCount). Default 100. */
  maxAliasCount?: number;
  /** Collection nesting allowed. Default 64 (a ChaosSchedule needs about 7). */
  maxDepth?: number;
  /** Lexical tokens per file (a `key: value` line is about 5). Default 100,000. */
  maxTokens?: number;
  /** Documents per file. Default 1,000. */
  maxDocuments?: number;
  /** Problems reported per document; the rest are counted in one last problem. Default 50. */
  maxProblems?: number;
  /** A file with no documents is fine (e.g. a store watching files being created). Default false. */
  allowEmpty?: boolean;
  /** Where "-" reads from. Default process.stdin. */
  stdin?: AsyncIterable<Uint8Array | string>;
  /**
   * A Docker stack (compose) document is skipped with a note instead of being reported as
   * not a ChaosSchedule. Default false; true for folders of files (loadPaths, the directory
   * and git stores), where the stack file that deploys chaosctl may sit beside the manifests.
   */
  skipStackFiles?: boolean;
}

export const LOAD_DEFAULTS = {
  maxBytes: 1024 * 1024,
  maxAliasCount: 100,
  maxDepth: 64,
  maxTokens: 100_000,
  maxDocuments: 1_000,
  maxProblems: 50,
} as const;

export interface LoadedDocument {
  file: string;
  /** 0-based position in the file's document stream (empty documents count). */
  index: number;
  /** 1-based line where the document's content starts. */
  line: number;
  doc: Document;
  /** "namespace/name" whenever metadata.name is readable, even if the document is invalid. */
  key?: string;
  /** Where metadata.name is written (for problems about the key, e.g. duplicates). */
  keyAt?: Position;
  /** Set only when the document is fully valid (schema + semantic), with defaults applied. */
  manifest?: LoadedChaosSchedule;
  problems: Problem[];
}

export interface LoadResult {
  documents: LoadedDocument[];
  /** File-level: unreadable, too large, binary, no documents, YAML stream errors. */
  problems: Problem[];
  /** Documents recognised as something else chaosctl knows (a stack file) and left alone. */
  skipped?: SkippedDocument[];
}

export interface SkippedDocument {
  file: string;
  index: number;
  /** 1-based line where the document's content starts. */
  line: number;
  /** Why it was skipped, for a note to the user. */
  reason: string;
}

const filePlace = { line: 0, column: 0, path: "" } as const;

export function loadText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const maxBytes = opts.maxBytes ?? LOAD_DEFAULTS.maxBytes;
  const size = Buffer.byteLength(text, "utf8");
  if (size > maxBytes) return { documents: [], problems: [tooLargeProblem(file, size, maxBytes)] };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf("\u0000");
  if (nul !== -1) {
    const before = text.slice(0, nul).split("\n");
    const line = before.length;
    const column = (before[line - 1] ?? "").length + 1;
    return {
      documents: [],
      problems: [
        { file, line, column, path: "", message: "binary content (a NUL byte): not a YAML manifest", rule: "binary" },
      ],
    };
  }

  const lc = new LineCounter();
  const maxDepth = opts.maxDepth ?? LOAD_DEFAULTS.maxDepth;
  const maxTokens = opts.maxTokens ?? LOAD_DEFAULTS.maxTokens;
  const maxDocuments = opts.maxDocuments ?? LOAD_DEFAULTS.maxDocuments;
  // The parser keeps two to three stack entries per collection level; the node-tree check below
  // gives the exact depth and message for anything between maxDepth and this bound.
  const parsed = boundedParse(text, lc, { maxTokens, maxDocuments, maxStack: 4 * maxDepth + 8 });
  if (!parsed.ok) {
    const message = {
      tokenLimit: `too many YAML tokens (more than ${maxTokens.toLocaleString("en-US")} in one file): a manifest file holds schedules, not data; not parsed further`,
      documentLimit: `too many documents (more than ${maxDocuments.toLocaleString("en-US")} in one file): split it into several files; not parsed further`,
      depthLimit: `nesting too deep to parse (the limit is ${maxDepth} levels)`,
    }[parsed.rule];
    return { documents: [], problems: [at(file, positionOf(lc, parsed.offset), "", message, parsed.rule)] };
  }
  const stream = parsed.docs;
  const problems: Problem[] = [];
  for (const e of parsed.streamErrors) problems.push(at(file, positionOf(lc, e.pos[0]), "", e.message, "yamlSyntax"));
  const documents: LoadedDocument[] = [];
  const skipped: SkippedDocument[] = [];
  stream.forEach((doc, index) => {
    const loaded = loadDocument(doc, index, file, lc, opts);
    if (loaded && "reason" in loaded) skipped.push(loaded);
    else if (loaded) documents.push(loaded);
  });
  if (documents.length === 0 && skipped.length === 0 && problems.length === 0 && !opts.allowEmpty) {
    problems.push({
      file,
      ...filePlace,
      message: "no documents: the file is empty (or only comments)",
      rule: "noDocuments",
    });
  }
  return skipped.length > 0 ? { documents, problems, skipped } : { documents, problems };
}

// size: one document through the loader's steps in order (parse, shape, schema, semantic rules,
// defaults), each a few lines; read top to bottom it is the pipeline.
function loadDocument(
  doc: Document,
  index: number,
  file: string,
  lc: LineCounter,
  opts: LoadOptions,
): LoadedDocument | SkippedDocument | undefined {
  const contents = doc.contents ?? undefined;
  const start = contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  const loaded: LoadedDocument = { file, index, line: positionOf(lc, start).line, doc, problems: [] };
  const problem = (offset: number, message: string, rule: string, path = ""): void => {
    loaded.problems.push(at(file, positionOf(lc, offset), path, message, rule));
  };

  const maxProblems = opts.maxProblems ?? LOAD_DEFAULTS.maxProblems;
  if (doc.errors.length > 0) {
    // The parser gives up on deep nesting once per level it unwinds: report it once.
    const exhausted = doc.errors.find((e) => e.code === "RESOURCE_EXHAUSTION");
    for (const e of doc.errors) {
      if (e === exhausted)
        problem(
          e.pos[0],
          `nesting too deep to parse (the limit is ${opts.maxDepth ?? LOAD_DEFAULTS.maxDepth} levels)`,
          "depthLimit",
        );
      else if (e.code !== "RESOURCE_EXHAUSTION") problem(e.pos[0], e.message, "yamlSyntax");
    }
    capProblems(loaded, maxProblems, start, lc);
    return loaded;
  }
  if (isEmptyDocument(doc)) return undefined;

  const maxDepth = opts.maxDepth ?? LOAD_DEFAULTS.maxDepth;
  const deep = firstTooDeep(contents, maxDepth);
  if (deep) {
    problem(deep.range?.[0] ?? start, `nesting deeper than ${maxDepth} levels: not a ChaosSchedule`, "depthLimit");
    return loaded;
  }

  const maxAliasCount = opts.maxAliasCount ?? LOAD_DEFAULTS.maxAliasCount;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount });
  } catch {
    // yaml throws only when aliases expand past maxAliasCount (a "billion laughs" bomb).
    problem(
      firstAliasOffset(doc) ?? start,
      `aliases expand too much (more than ${maxAliasCount} expansions): refusing a possible alias bomb`,
      "aliasLimit",
    );
    return loaded;
  }

  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    problem(
      start,
      `not a ChaosSchedule: the document is ${describe(data)}, expected a mapping with apiVersion and kind`,
      "notChaosSchedule",
    );
    return loaded;
  }
  const m = data as Record<string, unknown>;
  if (opts.skipStackFiles && isStackFile(m)) {
    return {
      file,
      index,
      line: loaded.line,
      reason: "a Docker stack (compose) file, not a ChaosSchedule: skipped",
    };
  }
  if (!isOurs(m)) {
    const kindAt = offsetOf(doc, { path: [m.kind !== undefined ? "kind" : "apiVersion"] });
    problem(
      kindAt,
      `not a ChaosSchedule (apiVersion ${describe(m.apiVersion)}, kind ${describe(m.kind)}): chaosctl reads only ${API_VERSION} ${KIND}`,
      "notChaosSchedule",
    );
    return loaded;
  }

  const meta = m.metadata as Record<string, unknown> | undefined;
  if (meta && typeof meta === "object" && typeof meta.name === "string") {
    loaded.key = `${typeof meta.namespace === "string" ? meta.namespace : "default"}/${meta.name}`;
    loaded.keyAt = positionOf(lc, offsetOf(doc, { path: ["metadata", "name"] }));
  }

  // Schema first: it fills in defaults, which the semantic rules then see.
  // Locating an issue walks the node tree, so only the ones reported are located (one more tells
  // capProblems that some were left out).
  const issues: Issue[] = [...schemaIssues(m), ...semanticIssues(m)];
  for (const issue of issues.slice(0, maxProblems + 1))
    problem(offsetOf(doc, issue), issue.message, issue.rule, formatPath(issue.path));
  loaded.problems.sort(byPlace);
  capProblems(loaded, maxProblems, start, lc, issues.length);
  if (loaded.problems.length === 0) loaded.manifest = m as unknown as LoadedChaosSchedule;
  return loaded;
}

/** Keeps the first `max` problems and says how many more there were (`total`: all found). */
function capProblems(loaded: LoadedDocument, max: number, start: number, lc: LineCounter, total?: number): void {
  const count = total ?? loaded.problems.length;
  if (loaded.problems.length <= max) return;
  loaded.problems.length = max;
  // Placed with the last problem shown, so that it sorts right after it.
  const last = loaded.problems[max - 1];
  loaded.problems.push(
    at(
      loaded.file,
      last ? { line: last.line, column: last.column } : positionOf(lc, start),
      "",
      `${count - max} more problems in this document not shown (at most ${max} are reported per document)`,
      "problemLimit",
    ),
  );
}

/** apiVersion/kind say "some other resource". Missing ones are left to the schema to report. */
function isOurs(m: Record<string, unknown>): boolean {
  const kindOk = m.kind === undefined || m.kind === KIND;
  const groupOk =
    m.apiVersion === undefined || (typeof m.apiVersion === "string" && m.apiVersion.startsWith("chaosctl.io/"));
  return kindOk && groupOk;
}

// The top-level keys of the Compose specification (which `docker stack deploy` reads).
const COMPOSE_KEYS = new Set(["version", "name", "services", "networks", "volumes", "configs", "secrets", "include"]);

/**
 * A compose file: a `services` mapping and only Compose's own top-level keys (or `x-`
 * extensions). A ChaosSchedule, even one missing apiVersion and kind, always has keys
 * outside that set (metadata, spec), so it is never mistaken for one and is still reported.
 */
function isStackFile(m: Record<string, unknown>): boolean {
  const services = m.services;
  if (services === null || typeof services !== "object" || Array.isArray(services)) return false;
  return Object.keys(m).every((k) => COMPOSE_KEYS.has(k) || k.startsWith("x-"));
}

function isEmptyDocument(doc: Document): boolean {
  const c = doc.contents;
  if (c === null) return true;
  // `---` followed by nothing parses as a null scalar with no source text.
  return (
    !isCollection(c) &&
    !isAlias(c) &&
    (c as { value?: unknown }).value === null &&
    ((c as { source?: string }).source ?? "") === ""
  );
}

/** The first collection nested deeper than `limit`, walking iteratively (no stack to blow). */
function firstTooDeep(root: Node | undefined, limit: number): Node | undefined {
  const stack: Array<[unknown, number]> = root ? [[root, 1]] : [];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (!isCollection(node)) continue;
    if (depth > limit) return node;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        stack.push([item.key, depth + 1], [item.value, depth + 1]);
      } else stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

function firstAliasOffset(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

function at(file: string, pos: Position, path: string, message: string, rule: string): Problem {
  return { file, line: pos.line, column: pos.column, path, message, rule };
}

export function byPlace(a: Problem, b: Problem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}

// ---- across documents ---------------------------------------------------------------------

function findDuplicates(docs: LoadedDocument[]): Array<{ doc: LoadedDocument; first: LoadedDocument }> {
  const seen = new Map<string, LoadedDocument>();
  const out: Array<{ doc: LoadedDocument; first: LoadedDocument }> = [];
  for (const doc of docs) {
    if (doc.key === undefined) continue;
    const first = seen.get(doc.key);
    if (first) out.push({ doc, first });
    else seen.set(doc.key, doc);
  }
  return out;
}

/** One problem per repeat of a namespace/name already defined earlier (in `docs` order). */
export function duplicateProblems(docs: LoadedDocument[]): Problem[] {
  return findDuplicates(docs).map(({ doc, first }) => ({
    file: doc.file,
    line: doc.keyAt?.line ?? doc.line,
    column: doc.keyAt?.column ?? 1,
    path: "metadata.name",
    message: `duplicate ChaosSchedule "${doc.key}": already defined at ${first.file}:${first.keyAt?.line ?? first.line}`,
    rule: "duplicateName",
  }));
}

/**
 * Marks every repeat of a key as a problem and drops its manifest: the first definition (in
 * file order, then document order) is the one taken.
 */
export function markDuplicates(docs: LoadedDocument[]): void {
  const problems = duplicateProblems(docs);
  findDuplicates(docs).forEach(({ doc }, i) => {
    const p = problems[i];
    if (p) doc.problems.push(p);
    delete doc.manifest;
  });
}

/** File-level and document problems together, ordered by file, line, column. */
export function allProblems(r: LoadResult): Problem[] {
  return [...r.problems, ...r.documents.flatMap((d) => d.problems)].sort(byPlace);
}

/** The valid manifests of a result. */
export function manifestsOf(r: LoadResult): LoadedChaosSchedule[] {
  return r.documents.flatMap((d) => (d.manifest ? [d.manifest] : []));
}

// ---- from files ---------------------------------------------------------------------------

/** Bytes of one file: binary content is reported at its first bad byte, never parsed. */
export function loadBytes(bytes: Uint8Array, file: string, opts: LoadOptions = {}): LoadResult {
  const maxBytes = opts.maxBytes ?? LOAD_DEFAULTS.maxBytes;
  if (bytes.length > maxBytes) return { documents: [], problems: [tooLargeProblem(file, bytes.length, maxBytes)] };
  const decoded = decodeText(bytes);
  if (!decoded.ok) {
    const pos = bytePosition(bytes, decoded.offset);
    return {
      documents: [],
      problems: [at(file, pos, "", `binary content: the file ${decoded.why}; not a YAML manifest`, "binary")],
    };
  }
  return loadText(decoded.text, file, opts);
}

/**
 * Loads files, directories (recursively, .yaml/.yml) and "-" (stdin, named "<stdin>").
 * Every path is accounted for: what cannot be read is a problem of that path. A
 * namespace/name defined twice is a problem on the repeat, whose manifest is dropped.
 */
export async function loadPaths(
  paths: string[],
  opts: LoadOptions = {},
): Promise<LoadResult & { files: string[]; skipped: SkippedDocument[] }> {
  opts = { skipStackFiles: true, ...opts };
  const listing = await listFiles(paths);
  const result: LoadResult & { files: string[]; skipped: SkippedDocument[] } = {
    documents: [],
    problems: [...listing.problems],
    skipped: [],
    files: [],
  };
  for (const file of listing.files) {
    const name = file === STDIN ? STDIN_NAME : file;
    result.files.push(name);
    const read = await readBounded(file, opts.maxBytes ?? LOAD_DEFAULTS.maxBytes, opts.stdin);
    if (!read.ok) {
      result.problems.push(read.problem);
      continue;
    }
    const loaded = loadBytes(read.bytes, name, opts);
    result.documents.push(...loaded.documents);
    result.problems.push(...loaded.problems);
    result.skipped.push(...(loaded.skipped ?? []));
  }
  result.files.push(...listing.skipped);
  markDuplicates(result.documents);
  return result;
}
