// Where manifests live (docs/stores.md). The controller sees only this interface.
import type { ChaosSchedule, ChaosScheduleStatus } from "../api/types.js";
import type { Problem } from "../api/problems.js";

/** Where a manifest came from: a document of a file, or a Swarm config. */
export type Source =
  | { store: "dir"; file: string; index: number; line: number }
  | { store: "swarm"; configId: string; configName: string };

export interface StoredManifest {
  /** "<namespace>/<name>" */
  key: string;
  source: Source;
  /** Validated and defaulted; metadata.generation is always set (store-managed). */
  manifest: ChaosSchedule;
  /** Status as currently stored (may be absent). */
  status?: ChaosScheduleStatus;
  /** Git store: the synced commit and the file's path in the repository (recorded on its runs). */
  provenance?: Provenance;
}

/** The commit and repository path a manifest was read from. */
export interface Provenance {
  commit: string;
  path: string;
}

/** A document that could not be taken; `key` is set when its name could still be read. */
export interface InvalidManifest {
  key?: string;
  source: Source;
  problems: Problem[];
}

export interface StoreSnapshot {
  manifests: StoredManifest[];
  invalid: InvalidManifest[];
}

export type WriteResult =
  | "written"
  /** Nothing to write: the stored status already equals it. */
  | "unchanged"
  /** The manifest changed underneath (a user edit, a new generation): re-read and plan again. */
  | "conflict"
  /** The manifest is gone (deleted file, removed document). */
  | "gone"
  /** The source cannot be parsed now: never written. */
  | "invalid";

export interface Store {
  readonly kind: "dir" | "swarm";
  list(): Promise<StoreSnapshot>;
  /** Calls onChange (debounced) whenever a manifest may have changed. Returns a stop function. */
  watch(onChange: () => void): Promise<() => Promise<void>>;
  /**
   * Write status for one manifest, only if its generation is still `generation` and the stored
   * status differs. Never touches anything but that document's status (and store metadata).
   */
  writeStatus(key: string, generation: number, status: ChaosScheduleStatus): Promise<WriteResult>;
  /**
   * Mark an invalid manifest in its own status: only status.conditions' Ready condition becomes
   * {status: "False", reason: "InvalidSpec", message} (lastTransitionTime moves only when it flips);
   * every other status field already there is kept as is. Written only when the document is
   * valid YAML, is a mapping with a readable metadata.name, and its key is unique; never when the
   * file has a YAML syntax error. No write when nothing changes. Returns a WriteResult
   * ("conflict": the document is valid now, its status is the normal write's business).
   * `message`: see invalidMessage(); longer ones are cut to MAX_INVALID_MESSAGE characters.
   */
  reportInvalid(key: string, message: string, now: Date): Promise<WriteResult>;
  close(): Promise<void>;
}

/**
 * A store the CLI verbs write into (apply, delete, suspend, resume): the directory store and the
 * Swarm config store. A git store is not one: its manifests come from commits, and a sync would
 * undo any write. Every write keeps the stored status and follows the store's concurrency rules
 * (directory: atomic replace, a concurrent edit wins and the write is planned again on top of it;
 * Swarm: compare-and-swap on the config version, retried on fresh state).
 */
export interface WritableStore extends Store {
  /**
   * Create or update one manifest, as `kubectl apply` does. Taken from `manifest`: apiVersion,
   * kind, metadata.name/namespace/labels, the user's metadata.annotations (store-managed ones,
   * STORE_ANNOTATIONS, are ignored), and spec. Ignored: status and metadata.generation.
   * Kept: the stored status. A spec change is a new generation (generation + 1); labels or
   * annotations alone are "configured" without a new generation. "unchanged" writes nothing
   * (not even applied-at). The origin is recorded as APPLIED_BY / APPLIED_AT annotations on
   * "created" and "configured". dryRun: the same answer, nothing written.
   * Throws ManifestRejected when `manifest` does not validate (nothing is written).
   * Pass the manifest as the user wrote it (the parsed YAML data, e.g. a LoadedDocument's
   * `doc.toJS()`), not the defaulted one: the stored copy then holds no spelled-out defaults.
   */
  apply(manifest: ChaosSchedule, opts?: ApplyOptions): Promise<ApplyOutcome>;
  /** Remove one manifest by key ("<namespace>/<name>"). Its status goes with it. */
  delete(key: string, opts?: DeleteOptions): Promise<DeleteResult>;
  /**
   * Change spec fields of a stored manifest in place (suspend/resume: `{ suspend: true }`),
   * keeping everything else. A real change is a new generation, like any spec change, and
   * records the origin like apply. "notfound" when there is no valid manifest with that key.
   */
  patchSpec(key: string, patch: SpecPatch, opts?: ApplyOptions): Promise<ApplyResult | "notfound">;
}

export type ApplyResult = "created" | "configured" | "unchanged";
export type DeleteResult = "deleted" | "notfound";

export interface ApplyOutcome {
  result: ApplyResult;
  /** "<namespace>/<name>" */
  key: string;
  /** The generation stored (or that would be, with dryRun). */
  generation: number;
}

/** Who asked for a change (recorded so `audit` can show it). */
export interface Origin {
  /** "user@host" by default (see defaultOrigin in origin.ts). */
  appliedBy: string;
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Default: defaultOrigin() (the OS user and host name). */
  origin?: Origin;
  /** Recorded as APPLIED_AT. Default: the current time. */
  now?: Date;
}

export interface DeleteOptions {
  dryRun?: boolean;
}

/** Spec fields patchSpec may change. */
export interface SpecPatch {
  suspend?: boolean;
  /** Merged into spec.abort (its other fields stay). */
  abort?: { resumedAt: string };
}

/** Who applied the manifest last (store-managed). */
export const APPLIED_BY_ANNOTATION = "chaosctl.io/applied-by";
/** When it was applied last, ISO 8601 (store-managed). */
export const APPLIED_AT_ANNOTATION = "chaosctl.io/applied-at";
/** Annotations the store owns: never taken from a user's manifest, never part of "changed". */
export const STORE_ANNOTATIONS: readonly string[] = [
  "chaosctl.io/spec-hash",
  APPLIED_BY_ANNOTATION,
  APPLIED_AT_ANNOTATION,
];

/** A store write the CLI cannot do (e.g. the name is defined twice in a folder): exit code 1. */
export class StoreWriteError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "StoreWriteError";
  }
}

/** apply() was given a manifest that does not validate; `problems` says where and why. */
export class ManifestRejected extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: Problem[]) {
    super(`manifest rejected: ${invalidMessage(problems)}`);
    this.name = "ManifestRejected";
  }
}

/** The Ready condition's reason on a manifest that does not validate. */
export const INVALID_SPEC_REASON = "InvalidSpec";
/** Longest Ready message reportInvalid writes (characters). */
export const MAX_INVALID_MESSAGE = 1024;
/** Located problems shown in the message; the rest are counted. */
const MESSAGE_PROBLEMS = 3;

/**
 * A short message for reportInvalid: the first few problems as "line:col path: message",
 * joined with "; ", then "(N more)"; one line, at most MAX_INVALID_MESSAGE characters.
 */
export function invalidMessage(problems: readonly Problem[]): string {
  const shown = problems
    .slice(0, MESSAGE_PROBLEMS)
    .map((p) => `${p.line > 0 ? `${p.line}:${p.column} ` : ""}${p.path ? p.path + ": " : ""}${p.message}`);
  const rest = problems.length - shown.length;
  return boundInvalidMessage(shown.join("; ") + (rest > 0 ? ` (${rest} more)` : ""));
}

/** One line, at most MAX_INVALID_MESSAGE characters (never a split surrogate pair). */
export function boundInvalidMessage(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, " ").trim();
  if (line.length <= MAX_INVALID_MESSAGE) return line;
  const cut = line.slice(0, MAX_INVALID_MESSAGE - 1);
  return (/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut) + "…";
}
