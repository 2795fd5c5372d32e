// The directory store's read cache: every file as last read (its bytes and their parse), read
// again only when its stamp no longer proves the bytes current, re-parsed only when the bytes
// differ. Also the one "splice → restore BOM → re-parse → verify" sequence every write uses.
import { stat } from "node:fs/promises";
import { Document } from "yaml";
import { loadBytes, LOAD_DEFAULTS, type LoadedDocument, type LoadOptions, type LoadResult } from "../../api/load.js";
import { readBounded } from "../../api/read.js";
import { decodeText } from "../../api/text.js";
import type { Problem } from "../../api/problems.js";
import type { Logger } from "../../util/log.js";
import type { WriteResult } from "../store.js";
import { isNotFound } from "./atomic.js";
import { nowNs, sameStamp, stampOf, stampProves, type FileStamp } from "./scan.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** One file as last read: its bytes and what the loader made of them. */
export interface FileState {
  path: string;
  real: string;
  bytes: Buffer;
  /** The text the loader parsed (BOM removed); undefined when the bytes are not text. */
  text?: string;
  result: LoadResult;
  /** The stat taken just before `bytes` were read, when it proves they are still current (scan.ts stampProves). */
  stamp?: FileStamp;
  /**
   * Kept by list() without the YAML syntax trees and text (most of a parse's memory): enough for
   * snapshots; a write parses the file again (stateOf never hands a slim state to a write).
   */
  slim?: true;
}

/** A write's plan on top of the file's current bytes: the new bytes and their state, or why nothing. */
export type WritePlan = { result: Exclude<WriteResult, "written"> } | { bytes: Buffer; state: FileState };

/** The one document a write touches, in the file as it is now. */
export interface Target {
  state: FileState;
  text: string;
  doc: LoadedDocument;
}

/** The edited text of a target's file, or why it cannot be edited without touching other text. */
export type Edit = { ok: true; text: string } | { ok: false; reason: string };

/** Stands in for the syntax tree of a slim state's documents (never spliced into). */
const NO_TREE = new Document();

export class FileCache {
  /** Files as last read (by list() or by a write), by shown path. */
  private files = new Map<string, FileState>();

  constructor(
    private readonly loadOpts: LoadOptions,
    private readonly logger: Logger,
  ) {}

  get maxAliasCount(): number {
    return this.loadOpts.maxAliasCount ?? LOAD_DEFAULTS.maxAliasCount;
  }

  get(path: string): FileState | undefined {
    return this.files.get(path);
  }
  set(path: string, state: FileState): void {
    this.files.set(path, state);
  }
  delete(path: string): void {
    this.files.delete(path);
  }
  /** After a full list(): exactly these files. */
  replaceAll(states: FileState[]): void {
    this.files = new Map(states.map((s) => [s.path, s]));
  }

  /**
   * The file's state for list(): the last one kept when its stamp is unchanged and proves the
   * bytes current; else read again (re-parsed only when the bytes differ). An idle pass costs one
   * stat per file.
   */
  async current(path: string, real: string): Promise<FileState> {
    const stamp = stampOf(real);
    const known = this.files.get(path);
    if (stamp && known?.stamp && known.real === real && sameStamp(known.stamp, stamp)) return known;
    const readAt = nowNs();
    const state = await this.readState(path, real);
    slim(state); // at once: a thousand files' syntax trees are never alive together
    if (stampProves(stamp, readAt)) state.stamp = stamp;
    else delete state.stamp;
    return state;
  }

  private async readState(path: string, real: string): Promise<FileState> {
    const read = await readBounded(real, this.loadOpts.maxBytes ?? LOAD_DEFAULTS.maxBytes);
    if (read.ok) return this.stateOf(path, real, Buffer.from(read.bytes), true);
    const problem: Problem = { ...read.problem, file: path };
    return { path, real, bytes: Buffer.alloc(0), result: { documents: [], problems: [problem] } };
  }

  /** The file's bytes now, for a write. */
  async readBytes(real: string): Promise<Buffer | "gone" | "invalid"> {
    const read = await readBounded(real, this.loadOpts.maxBytes ?? LOAD_DEFAULTS.maxBytes);
    if (read.ok) return Buffer.from(read.bytes);
    if (await stat(real).then(() => false, isNotFound)) return "gone";
    this.logger.warn({ file: real, problem: read.problem.message }, "cannot read a manifest file for a status write");
    return "invalid";
  }

  /** Parse `bytes`, reusing the last parse when they are the very bytes we last read (a slim one only for list()). */
  stateOf(path: string, real: string, bytes: Buffer, forList = false): FileState {
    const known = this.files.get(path);
    if (known && known.real === real && (forList || !known.slim) && known.bytes.equals(bytes)) return known;
    const result = loadBytes(bytes, path, this.loadOpts);
    const decoded = result.problems.length === 0 ? decodeText(bytes) : undefined;
    const state: FileState = { path, real, bytes, result };
    if (decoded?.ok) state.text = decoded.text;
    return state;
  }

  /**
   * The one document named `key` in `bytes`, with the file's state; or why no write may touch
   * it: a file that is not clean text, a YAML error anywhere (a duplicate mapping key included:
   * the re-parse check cannot vouch for the file), no such document, or more than one.
   */
  target(path: string, real: string, bytes: Buffer, key: string): { result: "invalid" | "gone" } | Target {
    const state = this.stateOf(path, real, bytes);
    const text = state.text;
    if (text === undefined || state.result.problems.length > 0) return { result: "invalid" };
    if (state.result.documents.some((d) => d.doc.errors.length > 0)) return { result: "invalid" };
    const docs = state.result.documents.filter((d) => d.key === key);
    if (docs.length === 0) return { result: "gone" };
    const doc = docs[0];
    if (docs.length > 1 || !doc) return { result: "invalid" };
    return { state, text, doc };
  }

  /**
   * Every write's last steps, once: `edit` the target's text (a splice at the parser's node
   * ranges, or a cut), put back the BOM the original bytes had, parse the result, and `verify`
   * that nothing but the intended change happened (verify.ts). The new state, or which step
   * refused and why.
   */
  respliced(
    t: Target,
    bytes: Buffer,
    edit: Edit,
    verify: (before: LoadResult, after: LoadResult) => string | undefined,
  ): { ok: true; state: FileState } | { ok: false; step: "edit" | "verify"; reason: string } {
    if (!edit.ok) return { ok: false, step: "edit", reason: edit.reason };
    const out = Buffer.from(edit.text, "utf8");
    const after = this.stateOf(t.state.path, t.state.real, hasBom(bytes) ? Buffer.concat([BOM, out]) : out);
    const problem = verify(t.state.result, after.result);
    return problem ? { ok: false, step: "verify", reason: problem } : { ok: true, state: after };
  }
}

/** Drops what only a write needs, in place: the documents keep their identity (handOut, lastList). */
function slim(st: FileState): void {
  if (st.slim) return;
  for (const d of st.result.documents) d.doc = NO_TREE;
  delete st.text;
  st.slim = true;
}

function hasBom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes.subarray(0, 3).equals(BOM);
}
