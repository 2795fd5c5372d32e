// Measures pause through a guard on the real engine, ~10 runs: apply latency (driver call → the
// engine's "pause" event) and revert lateness (the engine's "unpause" event − expiry). Prints a
// table; asserts only correctness (every run paused, unpaused at or after its expiry).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DockerEvent } from "../../src/engine/engine.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { L_RUN } from "../../src/api/labels.js";
import { docker, dockerOk, requireSwarm, waitFor, APP_IMAGE, WEB_IMAGE } from "../helpers/docker.js";

const RUNS = 10;
const HOLD_MS = 3_000;
const engine = new DockerEngine();
const events: DockerEvent[] = [];
const ac = new AbortController();
let target = "";
const runs: string[] = [];

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  target = await dockerOk(["run", "-d", "--network", "none", "--label", "chaosctl-test=guard-latency", WEB_IMAGE]);
  engine.events((e) => events.push(e), ac.signal);
  await new Promise((r) => setTimeout(r, 300));
});

afterAll(async () => {
  ac.abort();
  const left: string[] = [];
  for (const run of runs)
    left.push(...(await dockerOk(["ps", "-aq", "--filter", `label=${L_RUN}=${run}`])).split("\n").filter(Boolean));
  await docker(["rm", "-f", target, ...left]);
});

describe("pause latency through guards", () => {
  it(`${RUNS} runs: apply latency and revert lateness`, async () => {
    const pause = faultDrivers.get("pause")!;
    const apply: number[] = [];
    const late: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = `lat-${process.pid}-${i}`;
      runs.push(run);
      const t0 = Date.now();
      const owner = {
        schedule: "default/latency",
        generation: 1,
        run,
        instance: `test-${process.pid}`,
        expires: new Date(t0 + HOLD_MS),
      };
      const r = await pause.apply(
        { engine, image: APP_IMAGE, now: new Date(t0) },
        { kind: "container", nodeId: "", containerId: target },
        {},
        owner,
      );
      expect(r.phase).toBe("Injected");
      const ev = (action: string): DockerEvent | undefined =>
        events.find(
          (e) => e.type === "container" && e.id === target && e.action === action && e.time.getTime() >= t0 - 5,
        );
      const paused = await waitFor(() => ev("pause"), { timeoutMs: 5_000, what: "pause event" });
      const unpaused = await waitFor(() => ev("unpause"), {
        timeoutMs: HOLD_MS + 5_000,
        intervalMs: 50,
        what: "unpause event",
      });
      apply.push(paused.time.getTime() - t0);
      late.push(unpaused.time.getTime() - owner.expires.getTime());
      if (r.phase === "Injected")
        expect(await pause.recover({ engine, image: APP_IMAGE, now: new Date() }, r.handle)).toEqual({
          phase: "Recovered",
        });
      events.length = 0;
    }
    expect(late.every((x) => x >= 0)).toBe(true);
    const row = (name: string, xs: number[]): string =>
      `${name.padEnd(34)} p50 ${String(pct(xs, 50)).padStart(5)} ms   p95 ${String(pct(xs, 95)).padStart(5)} ms   max ${String(Math.max(...xs)).padStart(5)} ms`;
    console.log(
      [
        `pause via guard, ${RUNS} runs (engine events):`,
        row("apply: call → paused", apply),
        row("revert lateness: unpause − expiry", late),
      ].join("\n"),
    );
  }, 120_000);
});
