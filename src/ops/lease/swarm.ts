// The lease as a Swarm config (raft-replicated on the managers): its data is fixed, its labels
// hold the record, and updateConfigLabels at the version read is the compare-and-swap.
import { createHash } from "node:crypto";
import type { SwarmConfigs } from "../../engine/engine.js";
import { STORE_LABEL } from "../../store/swarm/labels.js";
import { ConfigNameConflict, ConfigNotFound, VersionConflict } from "../../engine/errors.js";
import type { LeaseRecord } from "./machine.js";
import type { LeaseStore, ObservedLease } from "./store.js";
import { holderProcessGone } from "./identity.js";

export const LEASE_LABELS = {
  lease: "chaosctl.io/lease",
  holder: "chaosctl.io/lease-holder",
  renewTime: "chaosctl.io/lease-renew-time",
  duration: "chaosctl.io/lease-duration-ms",
  acquireTime: "chaosctl.io/lease-acquire-time",
  transitions: "chaosctl.io/lease-transitions",
  lastPass: "chaosctl.io/lease-last-pass",
} as const;

/**
 * One lease per store scope and controller instance: controllers of different scopes manage
 * different schedules and must not exclude each other. Docker limits names to 64 characters.
 */
export function leaseConfigName(scope: string, instance: string): string {
  const readable = `chaosctl-lease.${scope}.${instance}`;
  if (readable.length <= 64) return readable;
  return `chaosctl-lease.${createHash("sha256").update(`${scope}\n${instance}`).digest("hex").slice(0, 16)}`;
}

export function recordToLabels(scope: string, instance: string, r: LeaseRecord): Record<string, string> {
  return {
    // The store's scope label: whoever cleans up a scope's configs takes its lease too.
    [STORE_LABEL]: scope,
    [LEASE_LABELS.lease]: instance,
    [LEASE_LABELS.holder]: r.holder,
    [LEASE_LABELS.renewTime]: new Date(r.renewTime).toISOString(),
    [LEASE_LABELS.duration]: String(r.leaseDurationMs),
    [LEASE_LABELS.acquireTime]: new Date(r.acquireTime).toISOString(),
    [LEASE_LABELS.transitions]: String(r.transitions),
    ...(r.lastPassTime ? { [LEASE_LABELS.lastPass]: new Date(r.lastPassTime).toISOString() } : {}),
  };
}

/** A record that cannot be read is treated as expired: it protects nobody. */
export function labelsToRecord(labels: Record<string, string>): LeaseRecord {
  const time = (k: string): number => {
    const v = Date.parse(labels[k] ?? "");
    return Number.isFinite(v) ? v : 0;
  };
  const num = (k: string): number => {
    const v = Number(labels[k]);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    holder: labels[LEASE_LABELS.holder] ?? "",
    renewTime: time(LEASE_LABELS.renewTime),
    leaseDurationMs: num(LEASE_LABELS.duration),
    acquireTime: time(LEASE_LABELS.acquireTime),
    transitions: num(LEASE_LABELS.transitions),
    ...(time(LEASE_LABELS.lastPass) > 0 ? { lastPassTime: time(LEASE_LABELS.lastPass) } : {}),
  };
}

export class SwarmLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly name: string;

  constructor(
    private readonly configs: SwarmConfigs,
    private readonly instance: string,
    private readonly scope = "default",
  ) {
    this.name = leaseConfigName(scope, instance);
    this.where = `swarm config ${this.name}`;
  }

  async read(): Promise<ObservedLease | undefined> {
    try {
      const c = await this.configs.inspectConfig(this.name);
      return { record: labelsToRecord(c.labels), version: { id: c.id, version: c.version } };
    } catch (e) {
      if (e instanceof ConfigNotFound) return undefined;
      throw e;
    }
  }

  async create(record: LeaseRecord): Promise<boolean> {
    try {
      await this.configs.createConfig(
        this.name,
        `chaosctl leader lease: store scope ${this.scope}, instance ${this.instance}\n`,
        recordToLabels(this.scope, this.instance, record),
      );
      return true;
    } catch (e) {
      if (e instanceof ConfigNameConflict) return false;
      throw e;
    }
  }

  async update(version: unknown, record: LeaseRecord): Promise<boolean> {
    const v = version as { id: string; version: number };
    try {
      await this.configs.updateConfigLabels(v.id, v.version, recordToLabels(this.scope, this.instance, record));
      return true;
    } catch (e) {
      if (e instanceof VersionConflict || e instanceof ConfigNotFound) return false;
      throw e;
    }
  }

  holderGone(holder: string): boolean {
    return holderProcessGone(holder);
  }
}
