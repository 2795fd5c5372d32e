// Keeps (or waits for) the leader lease: one attempt every renew interval. The controller acts
// only while mayAct() holds, which ends `safety` before any standby could take over, even when
// an attempt hangs (an unreachable engine): the bound comes from the clock, not from the store.
import type { Logger } from "../../util/log.js";
import { actUntil, decide, released, type LeaseTiming } from "./machine.js";
import type { LeaseStore } from "./store.js";

export type Role = "leader" | "standby";

export interface ElectorOptions {
  store: LeaseStore;
  identity: string;
  timing: LeaseTiming;
  logger: Logger;
  clock?: () => number;
  /** Called on every change of role (also the first time one is known). */
  onRole?: (role: Role) => void;
  /** When this controller last finished a pass (unix ms), written into the lease with each renewal. */
  lastPass?: () => number | undefined;
  /** Called after every attempt, successful or not (health: the elector is alive). */
  onAttempt?: (ok: boolean) => void;
}

export class LeaderElector {
  private until = -Infinity;
  private current: Role | undefined;
  private holderSeen = "";
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly listeners = new Set<(r: Role) => void>();

  constructor(private readonly opts: ElectorOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  mayAct(): boolean {
    return this.clock() < this.until;
  }

  role(): Role {
    return this.mayAct() ? "leader" : "standby";
  }

  /** Who held the lease at the last attempt ("" when unknown or released). */
  holder(): string {
    return this.holderSeen;
  }

  /** Listens for role changes; returns the unsubscribe. */
  onRole(fn: (r: Role) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** One read + (create | renew | takeover | wait). Errors count as a failed attempt. */
  async attempt(): Promise<Role> {
    const { store, identity, timing, logger } = this.opts;
    let ok = false;
    try {
      const now = this.clock();
      const seen = await store.read();
      const d = decide(
        seen?.record,
        identity,
        now,
        timing,
        !!seen && seen.record.holder !== "" && !!store.holderGone?.(seen.record.holder),
      );
      if (d.kind === "wait") {
        this.holderSeen = d.holder;
        this.until = -Infinity;
        ok = true;
      } else {
        const lastPassTime = this.opts.lastPass?.();
        const record = lastPassTime !== undefined ? { ...d.record, lastPassTime } : d.record;
        ok = d.kind === "create" ? await store.create(record) : await store.update(seen?.version, record);
        if (ok) {
          this.holderSeen = identity;
          this.until = actUntil(d.record.renewTime, timing);
          if (d.kind === "takeover")
            logger.warn(
              { event: "lease", lease: store.where, from: d.from || "(released)", transitions: d.record.transitions },
              "took over the leader lease",
            );
        } else if (d.kind !== "renew") {
          this.until = -Infinity; // lost the race: someone else wrote first
        }
      }
    } catch (e) {
      logger.warn(
        { event: "lease", lease: store.where, err: e instanceof Error ? e.message : String(e) },
        "lease attempt failed",
      );
    }
    this.opts.onAttempt?.(ok);
    this.check();
    return this.role();
  }

  /** Fires onRole when the role changed (also called on a timer, for a lapse between attempts). */
  check(): void {
    const r = this.role();
    if (r === this.current) return;
    this.current = r;
    // `holder` is who holds the lease: this controller when leading, else the one it last saw
    // ("" when the lease lapsed or was released); `self` is this controller.
    this.opts.logger.info(
      {
        event: "lease",
        role: r,
        lease: this.opts.store.where,
        holder: r === "leader" ? this.opts.identity : this.holderSeen === this.opts.identity ? "" : this.holderSeen,
        self: this.opts.identity,
      },
      r === "leader"
        ? "leading: this controller acts"
        : "standby: not acting (the lease is held elsewhere, lapsed or released)",
    );
    this.opts.onRole?.(r);
    for (const fn of this.listeners) fn(r);
  }

  /** Attempts every renew interval until the signal aborts, then releases a held lease. */
  async run(signal: AbortSignal): Promise<void> {
    const { timing } = this.opts;
    // The lapse watch: a hung attempt must not keep the role "leader" past the bound.
    this.timer = setInterval(() => this.check(), Math.min(250, timing.renewMs / 4));
    this.timer.unref();
    try {
      while (!signal.aborted) {
        const started = this.clock();
        await withTimeout(this.attempt(), timing.renewMs);
        const wait = Math.max(0, timing.renewMs - (this.clock() - started));
        await sleep(wait, signal);
      }
    } finally {
      clearInterval(this.timer);
      await this.release();
    }
  }

  /** Hands the lease over at once (graceful shutdown): a standby need not wait for expiry. */
  async release(): Promise<void> {
    const wasLeader = this.until > -Infinity;
    this.until = -Infinity;
    this.check();
    if (!wasLeader) return;
    try {
      const seen = await this.opts.store.read();
      if (seen && seen.record.holder === this.opts.identity) {
        // Readers still learn when this controller last reconciled.
        const lastPassTime = this.opts.lastPass?.();
        const record = lastPassTime !== undefined ? { ...seen.record, lastPassTime } : seen.record;
        await this.opts.store.update(seen.version, released(record));
      }
    } catch (e) {
      this.opts.logger.warn(
        { event: "lease", err: e instanceof Error ? e.message : String(e) },
        "could not release the lease; a standby takes over at expiry",
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Resolves when p settles or after ms, whichever comes first (p keeps running). */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    p.finally(() => {
      clearTimeout(t);
      resolve();
    }).catch(() => undefined);
  });
}
