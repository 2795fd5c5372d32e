// Where manifests live (design.md: Stores). The controller sees only this interface.
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
  const shown = problems.slice(0, MESSAGE_PROBLEMS).map((p) => `${p.line > 0 ? `${p.line}:${p.column} ` : ""}${p.path ? p.path + ": " : ""}${p.message}`);
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
