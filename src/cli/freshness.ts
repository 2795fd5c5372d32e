// Is a controller reconciling the schedules a read verb shows? Status is what a controller last
// wrote; with none running it goes stale silently (an expired pause still counted as active).
// The answer comes from the leader lease of the store and instance: who holds it, when it was
// last renewed, and when its holder last finished a pass.
import type { LeaseRecord } from "../ops/lease/machine.js";
import type { LeaseStore } from "../ops/lease/store.js";
import { storeChoice, type StoreOpts } from "./store-option.js";
import { age } from "./table.js";

/** A leader whose last finished pass is older than this is not reconciling (the loop resyncs every 30 s). */
export const STALE_PASS_MS = 90_000;

export interface ControllerLease {
  /** undefined: no lease found. */
  record?: LeaseRecord;
  /** Where it was looked for ("file ...", "swarm config ..."). */
  where: string;
  instance: string;
}

export type Freshness =
  | { current: true; text: string }
  | {
      current: false;
      /** One line: what is known, and what that means for the status shown. */
      text: string;
    };

/** What the lease says about the controller of these schedules at `now` (pure). */
export function freshness(lease: ControllerLease, now: Date): Freshness {
  const r = lease.record;
  const t = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ago = (ms: number) => `${age(iso(ms), now)} ago`;
  const lastPass = r?.lastPassTime ? `last pass ${ago(r.lastPassTime)}` : "no pass recorded";
  const stale = "status below is as last written (phase and active may be out of date)";
  if (!r) {
    return {
      current: false,
      text: `no controller of instance "${lease.instance}" has held this store's leader lease (${lease.where}): ${stale}; start one with chaosctl controller (one run with --no-leader-elect or another --lease-file is not seen here)`,
    };
  }
  if (r.holder === "" || t >= r.renewTime + r.leaseDurationMs) {
    const how = r.holder === "" ? "released" : `expired ${ago(r.renewTime + r.leaseDurationMs)}`;
    return {
      current: false,
      text: `no controller is reconciling: the leader lease of instance "${lease.instance}" was ${how} (${lastPass}): ${stale}`,
    };
  }
  if (!r.lastPassTime || t - r.lastPassTime > STALE_PASS_MS) {
    return {
      current: false,
      text: `the controller holding the lease (${r.holder}) has not finished a pass (${lastPass}): ${stale}`,
    };
  }
  return { current: true, text: `${r.holder}, ${lastPass} (lease renewed ${ago(r.renewTime)})` };
}

/** Reads the lease of the store the options name (lazily: the Swarm store needs the engine). */
export async function readControllerLease(opts: StoreOpts, instance: string): Promise<ControllerLease> {
  const choice = storeChoice(opts);
  let store: LeaseStore;
  if (choice.kind === "dir") {
    const { FileLeaseStore, defaultLeaseFileName } = await import("../ops/lease/file.js");
    store = new FileLeaseStore(await defaultLeaseFileName(choice.dir, instance));
  } else {
    const [{ SwarmLeaseStore }, { DockerEngine }, { swarmScope }] = await Promise.all([
      import("../ops/lease/swarm.js"),
      import("../engine/docker.js"),
      import("../store/open.js"),
    ]);
    store = new SwarmLeaseStore(new DockerEngine(), instance, swarmScope());
  }
  try {
    const seen = await store.read();
    return { where: store.where, instance, ...(seen ? { record: seen.record } : {}) };
  } catch (e) {
    return { where: `${store.where}, unreadable: ${e instanceof Error ? e.message : String(e)}`, instance };
  }
}

/** The warning for stderr when no controller is reconciling; "" when one is. */
export async function staleWarning(opts: StoreOpts, instance: string, now: Date): Promise<string> {
  const f = freshness(await readControllerLease(opts, instance), now);
  return f.current ? "" : `warning: ${f.text}\n`;
}
