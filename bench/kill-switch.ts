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
  for (let i = 0; i < runs; i++) {
    await suspendAllRun(svc, ws, events, i, out);
    await svc.healthy();
    await sleep(400);
    const file = `ks-${i}.yaml`;
    const t0 = Date.now();
    await ws.write(
      file,
      manifest(`bench-ks-${i}`, `duration: 60s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );
    const paused = await events.next((e) => e.action === "pause" && e.attributes[SERVICE_ID] === svc.id, t0, 20_000);
    if (!paused) {
      out.failures.push(`kill switch run ${i}: the pause never happened`);
    } else {
      await sleep(200 + ((i * 97) % 600)); // the switch comes at any moment of the window
      const t1 = Date.now();
      await writeFile(killSwitchFile, "");
      const unpaused = await events.next((e) => e.action === "unpause" && e.id === paused.id, t1, 30_000);
      if (unpaused) out.ms.push(unpaused.time.getTime() - t1);
      else out.failures.push(`kill switch run ${i}: no unpause within 30 s of the switch`);
    }
    await unlink(join(ws.dir, file)).catch(() => undefined);
    await sleep(300);
    await unlink(killSwitchFile).catch(() => undefined);
    events.forget(t0);
  }
  return out;
}

/** A pause in effect, then `chaosctl suspend --all --dir` as a user runs it. */
async function suspendAllRun(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  i: number,
  out: KillSwitchSamples,
): Promise<void> {
  await svc.healthy();
  await sleep(400);
  const file = `suspend-${i}.yaml`;
  const t0 = Date.now();
  await ws.write(
    file,
    manifest(`bench-suspend-${i}`, `duration: 60s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
  );
  const paused = await events.next((e) => e.action === "pause" && e.attributes[SERVICE_ID] === svc.id, t0, 20_000);
  if (!paused) {
    out.failures.push(`suspend --all run ${i}: the pause never happened`);
  } else {
    await sleep(200 + ((i * 97) % 600));
    const t1 = Date.now();
    await run(process.execPath, [BIN, "suspend", "--all", "--dir", ws.dir], { timeout: 30_000 });
    const unpaused = await events.next((e) => e.action === "unpause" && e.id === paused.id, t1, 30_000);
    if (unpaused) out.suspendAllMs.push(unpaused.time.getTime() - t1);
    else out.failures.push(`suspend --all run ${i}: no unpause within 30 s of the command`);
  }
  await unlink(join(ws.dir, file)).catch(() => undefined);
  await sleep(300);
  events.forget(t0);
}
