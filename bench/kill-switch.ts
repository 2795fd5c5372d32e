// The kill switch: a pause through the controller is in effect, then the kill switch file is
// created; measured from the file's creation to the `unpause` event of the paused task (the
// last injection reverted), as Docker reports it.
import { unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "./docker-cli.js";
import type { EventLog } from "./events.js";
import { manifest, type BenchService, type BenchWorkspace } from "./fixture.js";

export interface KillSwitchSamples {
  ms: number[];
  failures: string[];
}

const SERVICE_ID = "com.docker.swarm.service.id";

export async function benchKillSwitch(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  killSwitchFile: string,
  runs: number,
): Promise<KillSwitchSamples> {
  const out: KillSwitchSamples = { ms: [], failures: [] };
  for (let i = 0; i < runs; i++) {
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
