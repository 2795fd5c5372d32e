// supervise + LeaderElector as a standby: the wait loop leaves no abort listener behind (one
// per second used to pile up on the process signal: MaxListenersExceededWarning after 11), and
// the standby's log names the controller that holds the lease, not itself.
import { getEventListeners } from "node:events";
import { Writable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { LeaderElector } from "../../src/ops/lease/elector.js";
import type { LeaseRecord } from "../../src/ops/lease/machine.js";
import type { LeaseStore, ObservedLease } from "../../src/ops/lease/store.js";
import { supervise } from "../../src/ops/supervise.js";
import { createLogger, silentLogger } from "../../src/util/log.js";

/** A lease always held (and renewed) by "other": whoever asks stays a standby. */
class HeldElsewhere implements LeaseStore {
  readonly where = "memory";
  async read(): Promise<ObservedLease | undefined> {
    const record: LeaseRecord = {
      holder: "other-host/4026531836/77/abcdef",
      renewTime: Date.now(),
      leaseDurationMs: 15_000,
      acquireTime: 0,
      transitions: 0,
    };
    return { record, version: 1 };
  }
  async create(): Promise<boolean> {
    return false;
  }
  async update(): Promise<boolean> {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a standby under supervise", () => {
  it("adds no abort listener per turn of its wait loop (15 s of standby on a fake clock)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    try {
      const elector = new LeaderElector({
        store: new HeldElsewhere(),
        identity: "me/4026531836/1/000001",
        timing: { durationMs: 15_000, renewMs: 5_000 },
        logger: silentLogger,
      });
      const ctl = new AbortController();
      let ran = false;
      const done = supervise({ elector, logger: silentLogger, run: async () => void (ran = true) }, ctl.signal);
      const counts: number[] = [];
      for (let s = 0; s < 15; s++) {
        await vi.advanceTimersByTimeAsync(1_000);
        counts.push(getEventListeners(ctl.signal, "abort").length);
      }
      ctl.abort();
      await vi.advanceTimersByTimeAsync(1_000);
      await done;
      expect(ran).toBe(false);
      // A turn a second for 15 s; the listeners stay those of the loop and the elector.
      expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("logs the holder it saw as the holder, and itself as self", async () => {
    let text = "";
    const logger = createLogger(
      "info",
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          text += chunk.toString();
          cb();
        },
      }),
    );
    const elector = new LeaderElector({
      store: new HeldElsewhere(),
      identity: "me/4026531836/1/000001",
      timing: { durationMs: 300, renewMs: 100 },
      logger,
    });
    expect(await elector.attempt()).toBe("standby");
    await sleep(50); // pino writes asynchronously to a stream
    const line = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.role === "standby");
    expect(line).toMatchObject({ holder: "other-host/4026531836/77/abcdef", self: "me/4026531836/1/000001" });
  });
});
