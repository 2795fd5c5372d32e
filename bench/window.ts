// The window a network fault holds, through the controller: a manifest of network loss with a
// short duration is written, and its guard's own records say when the loss was in place
// (`applied`, written as the prelude's commands return) and when it was taken out at expiry
// (`reverted`). Held = reverted − applied, as a share of the duration; lateness = reverted − when
// the guard was due (a network guard holds the duration from its applied moment, --hold, and says
// when in its `expired` record); past expiry = reverted − the run's expiry (label
// chaosctl.io/expires), which a hold may pass by at most 1 s. No read-back can see a loss rule's
// moments as closely: the records are written by the process that ran the commands, right after
// them, on this machine's clock.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { L_EXPIRES, L_INSTANCE, L_ROLE } from "../src/api/labels.js";
import { DockerEngine } from "../src/engine/docker.js";
import { sleep } from "./docker-cli.js";
import type { EventLog } from "./events.js";
import { manifest, type BenchService, type BenchWorkspace } from "./fixture.js";
import { firstRecord, firstRecordAt } from "./guard-records.js";

export interface WindowSamples {
  /** (reverted − applied) / duration, in %. */
  held: number[];
  /** file written → the guard's `applied` record, ms. */
  apply: number[];
  /** the guard's `reverted` record − when it was due (its deadline with --hold, else its expiry), ms. */
  late: number[];
  /** the guard's `reverted` record − the run's expiry (its label), ms: how far a hold reaches past it. */
  pastExpiry: number[];
  failures: string[];
}

export async function benchNetWindow(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  runs: number,
  durationS: number,
): Promise<WindowSamples> {
  const out: WindowSamples = { held: [], apply: [], late: [], pastExpiry: [], failures: [] };
  const engine = new DockerEngine();
  for (let i = 0; i < runs; i++) {
    await svc.healthy();
    await sleep(400);
    const file = `window-${i}.yaml`;
    const t0 = Date.now();
    await ws.write(
      file,
      manifest(
        `bench-window-${i}`,
        `duration: ${durationS}s\nselector: {services: [${svc.name}]}\nfault: {network: {loss: {probability: 1}}}`,
      ),
    );
    const isGuard = (e: { attributes: Record<string, string> }): boolean =>
      e.attributes[L_INSTANCE] === ws.instance && e.attributes[L_ROLE] === "guard";
    const started = await events.next((e) => e.action === "start" && isGuard(e), t0, 20_000);
    const died =
      started && (await events.next((e) => e.action === "die" && e.id === started.id, t0, 20_000 + durationS * 1000));
    if (!started || !died) {
      out.failures.push(`run ${i}: guard start ${!!started}, guard exit ${!!died}`);
    } else {
      const logs = await engine.containerLogs(started.id, 100);
      const applied = firstRecordAt(logs, "applied");
      const reverted = firstRecordAt(logs, "reverted", "reverted");
      const until = Date.parse(started.attributes[L_EXPIRES] ?? "");
      // A guard that holds from its applied moment (--hold) says when it was due; else its expiry.
      const deadline = Date.parse(firstRecord(logs, "expired")?.record.deadline ?? "");
      const due = Number.isFinite(deadline) ? deadline : until;
      if (applied === undefined || reverted === undefined || !Number.isFinite(until))
        out.failures.push(
          `run ${i}: applied ${applied !== undefined}, reverted ${reverted !== undefined}, expiry ${Number.isFinite(until)}`,
        );
      else {
        out.apply.push(applied - t0);
        out.held.push((100 * (reverted - applied)) / (durationS * 1000));
        out.late.push(reverted - due);
        out.pastExpiry.push(reverted - until);
      }
    }
    await sleep(500); // its status written, then the file goes (one schedule at a time)
    await unlink(join(ws.dir, file));
    events.forget(t0);
  }
  return out;
}
