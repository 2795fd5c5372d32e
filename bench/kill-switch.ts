// The kill switch: a pause through the controller is in effect, then the kill switch file is
// created; measured from the file's creation to the `unpause` event of the paused task (the
// last injection reverted), as Docker reports it. Each run is followed by the same through the
// folder: `chaosctl suspend --all --dir` spawned as a user would (its cold start included), then
// the `unpause` event, which the controller's folder watcher has to bring about.
import { execFile } from "node:child_process";
import { unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { sleep } from "./docker-cli.js";
import type { EventLog } from "./events.js";
import { manifest, type BenchService, type BenchWorkspace } from "./fixture.js";

export interface KillSwitchSamples {
  ms: number[];
  /** `chaosctl suspend --all --dir` spawned → the `unpause` event. */
  suspendAllMs: number[];
  failures: string[];
}

const BIN = resolve(import.meta.dirname, "../src/cli/main.js");
const run = promisify(execFile);

const SERVICE_ID = "com.docker.swarm.service.id";

export async function benchKillSwitch(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  killSwitchFile: string,
  runs: number,
): Promise<KillSwitchSamples> {
  const out: KillSwitchSamples = { ms: [], suspendAllMs: [], failures: [] };
  const bench = { svc, ws, events, failures: out.failures };
  for (let i = 0; i < runs; i++) {
    await pauseThenStop(bench, `suspend --all run ${i}`, `bench-suspend-${i}`, out.suspendAllMs, async () => {
      await run(process.execPath, [BIN, "suspend", "--all", "--dir", ws.dir], { timeout: 30_000 });
    });
    await pauseThenStop(bench, `kill switch run ${i}`, `bench-ks-${i}`, out.ms, () => writeFile(killSwitchFile, ""));
    await unlink(killSwitchFile).catch(() => undefined);
  }
  return out;
}

/**
 * A 60 s pause of a task through the controller, then `stop()` at a random moment 0.2-0.8 s into
 * the window; the time from `stop()`'s start to the task's `unpause` event goes to `samples`.
 */
async function pauseThenStop(
  b: { svc: BenchService; ws: BenchWorkspace; events: EventLog; failures: string[] },
  what: string,
  name: string,
  samples: number[],
  stop: () => Promise<void>,
): Promise<void> {
  const { svc, ws, events } = b;
  await svc.healthy();
  await sleep(400);
  const file = `${name}.yaml`;
  const t0 = Date.now();
  await ws.write(file, manifest(name, `duration: 60s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`));
  const paused = await events.next((e) => e.action === "pause" && e.attributes[SERVICE_ID] === svc.id, t0, 20_000);
  if (!paused) {
    b.failures.push(`${what}: the pause never happened`);
  } else {
    await sleep(200 + ((samples.length * 97) % 600));
    const t1 = Date.now();
    await stop();
    const unpaused = await events.next((e) => e.action === "unpause" && e.id === paused.id, t1, 30_000);
    if (unpaused) samples.push(unpaused.time.getTime() - t1);
    else b.failures.push(`${what}: no unpause within 30 s`);
  }
  await unlink(join(ws.dir, file)).catch(() => undefined);
  await sleep(300);
  events.forget(t0);
}
