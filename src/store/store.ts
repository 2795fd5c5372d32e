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
  close(): Promise<void>;
}
