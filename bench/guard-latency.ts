// Pause through a guard at the driver level on the real engine, RUNS runs: apply latency
// (driver call → the engine's "pause" event) and revert lateness (the engine's "unpause"
// event − expiry). A measurement, not a test: tests never assert timings. What it relies on
// being correct (paused, unpaused at or after expiry, never early) is proven by
// test/faults/guard-pause.docker.test.ts; a run that breaks it here is reported and exits 1.
//   npm run build && node dist/bench/guard-latency.js [RUNS]     (root, one-node Swarm up)
import { DockerEngine } from "../src/engine/docker.js";
import type { DockerEvent } from "../src/engine/engine.js";
import { faultDrivers } from "../src/faults/registry.js";
import { L_RUN } from "../src/api/labels.js";
import { docker, lines, sleep, waitUntil } from "./docker-cli.js";
import { APP_IMAGE, WEB_IMAGE } from "./fixture.js";
import { percentile } from "./stats.js";

const RUNS = Number(process.argv[2] ?? 10);
const HOLD_MS = 3_000;

async function main(): Promise<number> {
  const engine = new DockerEngine();
  const events: DockerEvent[] = [];
  const ac = new AbortController();
  const runs: string[] = [];
  const target = await docker(["run", "-d", "--network", "none", "--label", "chaosctl-bench=guard-latency", WEB_IMAGE]);
  const failures: string[] = [];
  const apply: number[] = [];
  const late: number[] = [];
  try {
    engine.events((e) => events.push(e), ac.signal);
    await sleep(300); // the event stream is open
    const pause = faultDrivers.get("pause");
    if (!pause) throw new Error("no pause driver registered");
    for (let i = 0; i < RUNS; i++) {
      const run = `lat-${process.pid}-${i}`;
      runs.push(run);
      const t0 = Date.now();
      const owner = {
        schedule: "default/latency",
        generation: 1,
        run,
        instance: `bench-${process.pid}`,
        expires: new Date(t0 + HOLD_MS),
      };
      const r = await pause.apply(
        { engine, image: APP_IMAGE, now: new Date(t0) },
        { kind: "container", nodeId: "", containerId: target },
        {},
        owner,
      );
      if (r.phase !== "Injected") {
        failures.push(`run ${i}: apply ended ${r.phase}`);
        continue;
      }
      const ev = (action: string): DockerEvent | undefined =>
        events.find(
          (e) => e.type === "container" && e.id === target && e.action === action && e.time.getTime() >= t0 - 5,
        );
      const paused = await waitUntil(() => ev("pause"), 5_000, "pause event");
      const unpaused = await waitUntil(() => ev("unpause"), HOLD_MS + 5_000, "unpause event", 50);
      apply.push(paused.time.getTime() - t0);
      const lateness = unpaused.time.getTime() - owner.expires.getTime();
      late.push(lateness);
      if (lateness < 0) failures.push(`run ${i}: unpaused ${-lateness} ms before its expiry`);
      const rec = await pause.recover({ engine, image: APP_IMAGE, now: new Date() }, r.handle);
      if (rec.phase !== "Recovered") failures.push(`run ${i}: recover ended ${rec.phase}`);
      events.length = 0;
    }
  } finally {
    ac.abort();
    const left: string[] = [];
    for (const run of runs) left.push(...lines(await docker(["ps", "-aq", "--filter", `label=${L_RUN}=${run}`])));
    await docker(["rm", "-f", target, ...left]);
  }
  const row = (name: string, xs: number[]): string =>
    `${name.padEnd(34)} p50 ${String(percentile(xs, 50)).padStart(5)} ms   p95 ${String(percentile(xs, 95)).padStart(5)} ms   max ${String(Math.max(...xs)).padStart(5)} ms`;
  console.log(
    [
      `pause via guard, ${RUNS} runs (engine events):`,
      row("apply: call → paused", apply),
      row("revert lateness: unpause − expiry", late),
      ...failures.map((f) => `FAILED ${f}`),
    ].join("\n"),
  );
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
