// Where a lease record lives. Both stores give compare-and-swap: an update succeeds only if the
// record is still the version the caller read.
import type { LeaseRecord } from "./machine.js";

export interface ObservedLease {
  record: LeaseRecord;
  /** Opaque: the store's version of what was read (Swarm object version, file content). */
  version: unknown;
}

export interface LeaseStore {
  /** Human name for logs and /readyz ("swarm config chaosctl-lease-x", "file /m/.chaosctl-lease-x.json"). */
  readonly where: string;
  read(): Promise<ObservedLease | undefined>;
  /** False when another candidate created it first. */
  create(record: LeaseRecord): Promise<boolean>;
  /** False when the record changed since `version` was read. */
  update(version: unknown, record: LeaseRecord): Promise<boolean>;
  /** True when the store can prove the holder's process is gone (same host). */
  holderGone?(holder: string): boolean;
}
