// The controller's durable records for the git store: per schedule, the status last written
// and the generation (with its spec hash) it belongs to. The working copy's files are replaced
// by every sync; these records are what status is rebuilt from afterwards.
//
// Kept as one Swarm config per (instance, schedule), the record JSON in a label, updated with
// the Swarm object version as compare-and-swap. Why a Swarm config rather than a state file:
// it is raft-replicated on the managers, so it survives the controller's container being
// rescheduled to another manager, a lost working folder (a temp dir by default), and a
// restart; and a stale writer (a second controller with the same --instance) is refused
// instead of silently overwriting. Config data is immutable, labels are not: hence the label.
import { createHash } from "node:crypto";
import type { ChaosScheduleStatus } from "../../api/types.js";
import type { SwarmConfigs } from "../../engine/engine.js";
import { ConfigNameConflict, ConfigNotFound, VersionConflict } from "../../engine/errors.js";
import { L_INSTANCE, L_ROLE, L_SCHEDULE } from "../../api/labels.js";

export interface ScheduleRecord {
  /** The generation `status` was written for, and the hash of that generation's spec. */
  generation: number;
  specHash: string;
  status: ChaosScheduleStatus;
  /** Where the manifest was when the record was written (for people reading it). */
  commit?: string;
  path?: string;
}

/** Durable records by schedule key. */
export interface RecordStore {
  /** Every record of this instance. */
  load(): Promise<Map<string, ScheduleRecord>>;
  /** Writes one record; "conflict" when someone else wrote it since we last read it. */
  put(key: string, record: ScheduleRecord): Promise<"written" | "conflict">;
  /** Forgets a schedule that is gone from the repository ("already gone" is fine). */
  remove(key: string): Promise<void>;
}

export const RECORD_ROLE = "gitops-record";
export const L_RECORD = "chaosctl.io/record";

/** Records as Swarm configs, one per (instance, schedule). */
export class SwarmRecords implements RecordStore {
  /** What we last saw of each config: its id and version (the CAS token). */
  private readonly seen = new Map<string, { id: string; version: number }>();

  constructor(
    private readonly configs: SwarmConfigs,
    private readonly instance: string,
  ) {}

  async load(): Promise<Map<string, ScheduleRecord>> {
    const out = new Map<string, ScheduleRecord>();
    for (const c of await this.configs.listConfigs([`${L_ROLE}=${RECORD_ROLE}`, `${L_INSTANCE}=${this.instance}`])) {
      const key = c.labels[L_SCHEDULE];
      const record = key ? parseRecord(c.labels[L_RECORD]) : undefined;
      if (!key || !record) continue;
      this.seen.set(key, { id: c.id, version: c.version });
      out.set(key, record);
    }
    return out;
  }

  async put(key: string, record: ScheduleRecord): Promise<"written" | "conflict"> {
    const labels = {
      [L_ROLE]: RECORD_ROLE,
      [L_INSTANCE]: this.instance,
      [L_SCHEDULE]: key,
      [L_RECORD]: JSON.stringify(record),
    };
    let seen = this.seen.get(key);
    if (!seen) {
      try {
        const id = await this.configs.createConfig(
          recordName(this.instance, key),
          `chaosctl status record of ${key}\n`,
          labels,
        );
        seen = { id, version: (await this.configs.inspectConfig(id)).version };
        this.seen.set(key, seen);
        return "written";
      } catch (e) {
        if (!(e instanceof ConfigNameConflict)) throw e;
        // Made by an earlier run of this instance that we have not loaded: re-read, then decide.
        const c = await this.configs.inspectConfig(recordName(this.instance, key));
        this.seen.set(key, { id: c.id, version: c.version });
        return "conflict";
      }
    }
    try {
      await this.configs.updateConfigLabels(seen.id, seen.version, labels);
      this.seen.set(key, { id: seen.id, version: (await this.configs.inspectConfig(seen.id)).version });
      return "written";
    } catch (e) {
      if (e instanceof ConfigNotFound) {
        this.seen.delete(key); // removed by hand: created again on the next write
        return "conflict";
      }
      if (!(e instanceof VersionConflict)) throw e;
      const c = await this.configs.inspectConfig(seen.id).catch(() => undefined);
      if (c) this.seen.set(key, { id: c.id, version: c.version });
      else this.seen.delete(key);
      return "conflict";
    }
  }

  async remove(key: string): Promise<void> {
    const id = this.seen.get(key)?.id ?? recordName(this.instance, key);
    await this.configs.removeConfig(id).catch((e: unknown) => {
      if (!(e instanceof ConfigNotFound)) throw e;
    });
    this.seen.delete(key);
  }
}

/** Config names allow [a-zA-Z0-9-_.], up to 64 characters: a hash of instance and key. */
export function recordName(instance: string, key: string): string {
  return `chaosctl-rec-${createHash("sha256").update(`${instance}\n${key}`).digest("hex").slice(0, 32)}`;
}

function parseRecord(text: string | undefined): ScheduleRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<ScheduleRecord>;
    if (typeof r.generation !== "number" || typeof r.specHash !== "string" || !r.status || typeof r.status !== "object")
      return undefined;
    return r as ScheduleRecord;
  } catch {
    return undefined;
  }
}

/** In memory (a controller run without a Swarm manager, e.g. --once dry checks; and tests of the git store's protocol). */
export class MemoryRecords implements RecordStore {
  readonly records = new Map<string, ScheduleRecord>();
  writes = 0;
  async load(): Promise<Map<string, ScheduleRecord>> {
    return new Map([...this.records].map(([k, v]) => [k, structuredClone(v)]));
  }
  async put(key: string, record: ScheduleRecord): Promise<"written" | "conflict"> {
    this.records.set(key, structuredClone(record));
    this.writes++;
    return "written";
  }
  async remove(key: string): Promise<void> {
    this.records.delete(key);
  }
}
