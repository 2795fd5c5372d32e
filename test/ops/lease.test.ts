// The leader lease (pure): decisions with `now` as a parameter, then two electors on one
// compare-and-swap store under a fake clock: never two leaders, takeover within the bound.
import { describe, expect, it } from "vitest";
import { actUntil, checkTiming, decide, expiresAt, released, type LeaseRecord } from "../../src/ops/lease/machine.js";
import { LeaderElector } from "../../src/ops/lease/elector.js";
import type { LeaseStore, ObservedLease } from "../../src/ops/lease/store.js";
import { parseHolder } from "../../src/ops/lease/identity.js";
import { labelsToRecord, recordToLabels } from "../../src/ops/lease/swarm.js";
import { silentLogger } from "../../src/util/log.js";

const T = { durationMs: 15_000, renewMs: 5_000 };
const rec = (holder: string, renewTime: number, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holder,
  renewTime,
  leaseDurationMs: 15_000,
  acquireTime: 0,
  transitions: 0,
  ...over,
});

describe("decide (pure)", () => {
  it.each([
    ["no lease: create it", undefined, 1_000, false, { kind: "create" }],
    [
      "ours: renew (keeps acquireTime)",
      rec("me", 0, { acquireTime: 7 }),
      4_000,
      false,
      { kind: "renew", record: { holder: "me", renewTime: 4_000, acquireTime: 7 } },
    ],
    ["ours and lapsed: still renew at the observed version", rec("me", 0), 60_000, false, { kind: "renew" }],
    [
      "theirs, valid: wait until renewTime + duration",
      rec("other", 10_000),
      24_999,
      false,
      { kind: "wait", holder: "other", expiresAt: 25_000 },
    ],
    [
      "theirs, expired exactly: take over",
      rec("other", 10_000, { transitions: 2 }),
      25_000,
      false,
      {
        kind: "takeover",
        from: "other",
        record: { holder: "me", renewTime: 25_000, acquireTime: 25_000, transitions: 3 },
      },
    ],
    ["theirs, valid but holder process gone: take over", rec("other", 10_000), 11_000, true, { kind: "takeover" }],
    ["released: take over at once", released(rec("other", 10_000)), 10_001, false, { kind: "takeover" }],
  ])("%s", (_name, observed, now, gone, expected) => {
    expect(decide(observed, "me", now, T, gone)).toMatchObject(expected);
  });

  it("the leader stops acting one renew interval before anyone may take over", () => {
    const r = rec("me", 100_000);
    expect(actUntil(r.renewTime, T)).toBe(110_000);
    expect(expiresAt(r)).toBe(115_000);
    expect(actUntil(r.renewTime, T)).toBeLessThan(expiresAt(r));
  });

  it("timing needs duration > 2 x renew", () => {
    expect(checkTiming(T)).toBeUndefined();
    expect(checkTiming({ durationMs: 10_000, renewMs: 5_000 })).toMatch(/twice/);
    expect(checkTiming({ durationMs: 10_000, renewMs: 0 })).toMatch(/positive/);
  });

  it("holder ids carry host, pid namespace and pid", () => {
    expect(parseHolder("node-1.example/4026531836/42/a1b2c3")).toEqual({
      host: "node-1.example",
      pidns: "4026531836",
      pid: 42,
    });
    expect(parseHolder("garbage")).toBeUndefined();
  });
});

/** An in-memory CAS store; `down` makes every call fail, `hang` never answers. */
class MemStore implements LeaseStore {
  readonly where = "memory";
  record: LeaseRecord | undefined;
  version = 0;
  down = false;
  hang = false;
  private gate(): Promise<void> {
    if (this.hang) return new Promise(() => {});
    return this.down ? Promise.reject(new Error("unreachable")) : Promise.resolve();
  }
  async read(): Promise<ObservedLease | undefined> {
    await this.gate();
    return this.record ? { record: { ...this.record }, version: this.version } : undefined;
  }
  async create(r: LeaseRecord): Promise<boolean> {
    await this.gate();
    if (this.record) return false;
    this.record = r;
    this.version++;
    return true;
  }
  async update(v: unknown, r: LeaseRecord): Promise<boolean> {
    await this.gate();
    if (v !== this.version) return false;
    this.record = r;
    this.version++;
    return true;
  }
}

describe("two electors on one store (fake clock)", () => {
  it("exactly one leads; when it stops renewing it stops acting before the standby takes over, within duration + renew", async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = new MemStore();
    const a = new LeaderElector({ store, identity: "a", timing: T, logger: silentLogger, clock });
    const b = new LeaderElector({ store, identity: "b", timing: T, logger: silentLogger, clock });
    expect(await a.attempt()).toBe("leader");
    expect(await b.attempt()).toBe("standby");
    expect(b.holder()).toBe("a");
    // Steady state: a renews every 5 s, b retries; never both leading.
    for (let i = 0; i < 20; i++) {
      now += 5_000;
      await a.attempt();
      await b.attempt();
      expect([a.mayAct(), b.mayAct()]).toEqual([true, false]);
    }
    // a dies (stops renewing) right after a renewal at `died`.
    const died = now;
    let aStopped: number | undefined;
    let bLed: number | undefined;
    while (bLed === undefined) {
      now += 250;
      if (aStopped === undefined && !a.mayAct()) aStopped = now;
      if (now % 5_000 === 0) await b.attempt();
      if (b.mayAct()) bLed = now;
      expect(a.mayAct() && b.mayAct()).toBe(false);
    }
    expect(aStopped! - died).toBe(10_000); // duration - renew
    expect(bLed - died).toBeGreaterThanOrEqual(15_000);
    expect(bLed - died).toBeLessThanOrEqual(20_000); // duration + one retry interval
    expect(store.record).toMatchObject({ holder: "b", transitions: 1 });
  });

  it("a simultaneous takeover has one winner (compare-and-swap)", async () => {
    let now = 0;
    const store = new MemStore();
    store.record = rec("dead", 0);
    const a = new LeaderElector({ store, identity: "a", timing: T, logger: silentLogger, clock: () => now });
    const b = new LeaderElector({ store, identity: "b", timing: T, logger: silentLogger, clock: () => now });
    now = 20_000;
    const roles = await Promise.all([a.attempt(), b.attempt()]);
    expect(roles.filter((r) => r === "leader")).toHaveLength(1);
  });

  it("a leader that cannot reach the store stops acting at renewTime + duration - renew, and recovers by renewing", async () => {
    let now = 0;
    const store = new MemStore();
    const a = new LeaderElector({ store, identity: "a", timing: T, logger: silentLogger, clock: () => now });
    await a.attempt();
    store.down = true;
    now = 5_000;
    expect(await a.attempt()).toBe("leader"); // failed renew, still inside its window
    now = 9_999;
    expect(a.mayAct()).toBe(true);
    now = 10_000;
    expect(a.mayAct()).toBe(false);
    store.down = false;
    now = 12_000;
    expect(await a.attempt()).toBe("leader"); // nobody took it: renewing at the version read is safe
    expect(store.record?.renewTime).toBe(12_000);
  });

  it("a hung store call does not extend leadership: the clock ends it", async () => {
    let now = 0;
    const store = new MemStore();
    const roles: string[] = [];
    const a = new LeaderElector({
      store,
      identity: "a",
      timing: T,
      logger: silentLogger,
      clock: () => now,
      onRole: (r) => roles.push(r),
    });
    await a.attempt();
    store.hang = true;
    void a.attempt();
    now = 10_000;
    a.check();
    expect(a.mayAct()).toBe(false);
    expect(roles).toEqual(["leader", "standby"]);
  });

  it("each write carries the holder's last finished pass; release keeps it", async () => {
    let now = 1_000;
    let lastPass: number | undefined;
    const store = new MemStore();
    const a = new LeaderElector({
      store,
      identity: "a",
      timing: T,
      logger: silentLogger,
      clock: () => now,
      lastPass: () => lastPass,
    });
    await a.attempt();
    expect(store.record?.lastPassTime).toBeUndefined();
    lastPass = 1_500;
    now = 6_000;
    await a.attempt();
    expect(store.record).toMatchObject({ holder: "a", renewTime: 6_000, lastPassTime: 1_500 });
    lastPass = 7_000; // a pass finished after the last renewal: the release still records it
    await a.release();
    expect(store.record).toMatchObject({ holder: "", lastPassTime: 7_000 });
  });

  it("the Swarm config labels carry the last pass time both ways (absent stays absent)", () => {
    const r = rec("a", 2_000, { lastPassTime: 1_500 });
    expect(recordToLabels("default", "web", r)["chaosctl.io/lease-last-pass"]).toBe(new Date(1_500).toISOString());
    expect(labelsToRecord(recordToLabels("default", "web", r))).toEqual(r);
    expect(labelsToRecord(recordToLabels("default", "web", rec("a", 2_000)))).toEqual(rec("a", 2_000));
  });

  it("release hands over at once", async () => {
    let now = 0;
    const store = new MemStore();
    const a = new LeaderElector({ store, identity: "a", timing: T, logger: silentLogger, clock: () => now });
    const b = new LeaderElector({ store, identity: "b", timing: T, logger: silentLogger, clock: () => now });
    await a.attempt();
    await a.release();
    expect(a.mayAct()).toBe(false);
    now = 1;
    expect(await b.attempt()).toBe("leader");
  });
});
