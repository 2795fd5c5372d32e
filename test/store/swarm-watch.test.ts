// The config watcher with a fake event stream and fake timers: debounce, the exact reconnect
// backoff, a change reported after each reconnect, nothing after stop.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DockerEvent, Engine } from "../../src/engine/engine.js";
import { ConfigWatcher } from "../../src/store/swarm/watch.js";
import { silentLogger } from "../../src/util/log.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

type Stream = { onEvent: (e: DockerEvent) => void; onError?: (err: Error) => void; signal: AbortSignal; at: number };

function fakeEngine(): { engine: Pick<Engine, "events">; streams: Stream[] } {
  const streams: Stream[] = [];
  return {
    streams,
    engine: {
      events: (onEvent, signal, onError) => {
        streams.push({ onEvent, signal, at: Date.now(), ...(onError ? { onError } : {}) });
      },
    },
  };
}

const configEvent = (name: string): DockerEvent => ({
  type: "config",
  action: "update",
  id: "x",
  attributes: { name },
  time: new Date(),
});

describe("ConfigWatcher", () => {
  it("debounces config events of ours, ignores others' configs and other types", async () => {
    const { engine, streams } = fakeEngine();
    let changes = 0;
    const w = new ConfigWatcher({ engine, logger: silentLogger, debounceMs: 50, onChange: () => changes++ });
    w.start();
    const s = streams[0];
    if (!s) throw new Error("no stream");
    s.onEvent(configEvent("chaosctl.default.a.1234.g1"));
    await vi.advanceTimersByTimeAsync(30);
    s.onEvent(configEvent("chaosctl.default.a.1234.g2"));
    await vi.advanceTimersByTimeAsync(30);
    expect(changes).toBe(0);
    await vi.advanceTimersByTimeAsync(30);
    expect(changes).toBe(1);
    s.onEvent(configEvent("someone-elses-config"));
    s.onEvent({ ...configEvent("chaosctl.x"), type: "container" });
    await vi.advanceTimersByTimeAsync(200);
    expect(changes).toBe(1);
    // A steady stream still reports at least every 10 debounce periods.
    for (let i = 0; i < 30; i++) {
      s.onEvent(configEvent("chaosctl.default.a.1234.g3"));
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(changes).toBeGreaterThanOrEqual(3);
    w.stop();
  });

  it("reconnects after 250, 500, 1000 ms ... up to the cap, reports a change after each reconnect, resets on an event", async () => {
    const { engine, streams } = fakeEngine();
    let changes = 0;
    const w = new ConfigWatcher({
      engine,
      logger: silentLogger,
      debounceMs: 10,
      backoffMs: { min: 250, max: 1000 },
      onChange: () => changes++,
    });
    w.start();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = streams[streams.length - 1];
      if (!s) throw new Error("no stream");
      const failedAt = Date.now();
      s.onError?.(new Error("broken"));
      s.onError?.(new Error("reported twice: one reconnect")); // the same failure seen twice
      expect(s.signal.aborted).toBe(true);
      const before = streams.length;
      await vi.advanceTimersByTimeAsync(2000);
      expect(streams.length).toBe(before + 1);
      waits.push((streams[streams.length - 1]?.at ?? 0) - failedAt);
    }
    expect(waits).toEqual([250, 500, 1000, 1000]);
    expect(changes).toBe(4);
    // An event on the live stream resets the backoff.
    const live = streams[streams.length - 1];
    live?.onEvent({ ...configEvent("x"), type: "container" });
    live?.onError?.(new Error("broken again"));
    const at = Date.now();
    await vi.advanceTimersByTimeAsync(2000);
    expect((streams[streams.length - 1]?.at ?? 0) - at).toBe(250);
    w.stop();
    const n = streams.length;
    streams[n - 1]?.onError?.(new Error("after stop"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(streams.length).toBe(n);
  });
});
