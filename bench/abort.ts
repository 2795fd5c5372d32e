// Abort latency: from the probe check that decides an abort to the fault reverted, as Docker
// reports it (the `unpause` event of the paused task). Each run pauses every task of a service
// published on a host port (allowAll) for 30 s under a Continuous HTTP probe (interval 200 ms,
// timeout 300 ms, threshold 1); the probe fails once the task is frozen, the controller wakes at
// once (it does not wait for its next resync) and reverts the run. Also standalone:
// `node dist/bench/abort.js [runs]` prints the samples.
import { randomInt } from "node:crypto";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildController } from "../src/controller/build.js";
import { DirectoryStore } from "../src/store/directory/store.js";
import { createLogger } from "../src/util/log.js";
import { docker, lines, sleep, waitUntil } from "./docker-cli.js";
import { EventLog } from "./events.js";
import { APP_IMAGE, benchWorkspace, manifest, WEB_IMAGE } from "./fixture.js";
import type { Row } from "./report.js";
import { p50p95, percentile } from "./stats.js";

export interface AbortSamples {
  /** Deciding probe failure → `unpause` event, ms. */
  latencyMs: number[];
  failures: string[];
}

/** Chaos Mesh's StatusCheck at its defaults aborts about 3 s after the failure begins. */
export const CHAOS_MESH_DEFAULT_MS = 3_000;

export async function benchAbort(runs: number, events: EventLog): Promise<AbortSamples> {
  const out: AbortSamples = { latencyMs: [], failures: [] };
  const port = randomInt(30_000, 32_000);
  const name = `chaosctl-bench-abort-${randomInt(1e6)}`;
  const id = await docker([
    "service",
    "create",
    "--detach",
    "--quiet",
    "--name",
    name,
    "--label",
    "chaosctl.bench=1",
    "--restart-delay",
    "0s",
    "--publish",
    `mode=host,target=80,published=${port}`,
    WEB_IMAGE,
  ]);
  const ws = await benchWorkspace();
  const logger = createLogger(process.env.CHAOSCTL_BENCH_LOG ?? "silent");
  const store = new DirectoryStore({ dir: ws.dir, logger });
  const aborts = new Map<string, number>();
  const controller = buildController({
    store,
    image: APP_IMAGE,
    logger,
    instance: ws.instance,
    onProbeAbort: (a) => aborts.set(a.schedule, a.at.getTime()),
  });
  const ctl = new AbortController();
  const loop = controller.run(ctl.signal);
  const answers = async (): Promise<boolean> =>
    (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }).catch(() => undefined))?.status ===
    200;
  try {
    for (let i = 0; i < runs; i++) {
      await waitUntil(answers, 30_000, `${name} answering on ${port}`, 100);
      await sleep(300);
      const key = `default/bench-abort-${i}`;
      const file = `abort-${i}.yaml`;
      await ws.write(
        file,
        manifest(
          `bench-abort-${i}`,
          [
            "duration: 30s",
            `selector: {services: [${name}], mode: all}`,
            "safety: {allowAll: true}",
            "fault: {pause: {}}",
            "probes:",
            `  - {name: up, mode: Continuous, http: {url: "http://127.0.0.1:${port}/"}, interval: 200ms, timeout: 300ms, failureThreshold: 1}`,
          ].join("\n"),
        ),
      );
      const decided = await waitUntil(async () => aborts.get(key), 30_000, `the abort of ${key}`, 10).catch(
        () => undefined,
      );
      if (decided === undefined) {
        out.failures.push(`${key}: no abort decided`);
      } else {
        const thawed = await events.next(
          (e) => e.action === "unpause" && e.attributes["com.docker.swarm.service.id"] === id,
          decided,
          15_000,
        );
        if (thawed) out.latencyMs.push(thawed.time.getTime() - decided);
        else out.failures.push(`${key}: no unpause event`);
      }
      await unlink(join(ws.dir, file));
      await waitUntil(
        async () =>
          lines(
            await docker([
              "ps",
              "-q",
              "--filter",
              `label=com.docker.swarm.service.id=${id}`,
              "--filter",
              "status=paused",
            ]),
          ).length === 0,
        30_000,
        "no paused task",
        100,
      );
    }
  } finally {
    ctl.abort();
    await loop;
    await store.close();
    await ws.cleanup();
    await docker(["service", "rm", id]).catch(() => undefined);
  }
  return out;
}

/** The bench table's row: beside Chaos Mesh's default, with the p95 ratio. */
export function abortRow(abort: AbortSamples): Row {
  const p95 = abort.latencyMs.length ? percentile(abort.latencyMs, 95) : NaN;
  return {
    measure: "abort: deciding probe failure → fault reverted (`unpause` event), p50 / p95",
    chaosctl: `${p50p95(abort.latencyMs)}${abort.failures.length ? ` (${abort.failures.length} run(s) without a sample)` : ""}`,
    baseline: `Chaos Mesh StatusCheck at its defaults: about ${CHAOS_MESH_DEFAULT_MS} ms (documented, not run here); p95 ratio ${Number.isNaN(p95) ? "–" : `${(p95 / CHAOS_MESH_DEFAULT_MS).toFixed(2)}x`}`,
    goal: "p95 < 1 s",
    met: abort.latencyMs.length > 0 && p95 < 1_000,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const events = new EventLog();
  const r = await benchAbort(Number(process.argv[2] ?? 10), events).finally(() => events.close());
  console.log(`abort latency (deciding failure → unpause event): ${p50p95(r.latencyMs)}`);
  console.log(`samples (ms): ${r.latencyMs.map((x) => Math.round(x)).join(", ")}`);
  console.log(`beside Chaos Mesh StatusCheck at its defaults: about ${CHAOS_MESH_DEFAULT_MS} ms`);
  if (r.failures.length) console.log(`failures: ${r.failures.join("; ")}`);
}
