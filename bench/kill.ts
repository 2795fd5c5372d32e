// apply→inject for kill: from the moment the manifest file is written (chaosctl) or the shell
// pipeline starts (the practice) to the target's `die` event as Docker reports it; and the
// engine's own kill call alone (the container known beforehand, one API call → `die`), the
// physical limit any way of killing a task has to pay.
import { randomInt } from "node:crypto";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { DockerEngine } from "../src/engine/docker.js";
import { docker, lines, sleep } from "./docker-cli.js";
import type { EventLog } from "./events.js";
import { firstCalls, manifest, type BenchService, type BenchWorkspace, type TracedCall } from "./fixture.js";

export interface KillSamples {
  chaosctl: number[];
  shell: number[];
  /** The engine's kill API call alone, container known: call → `die`. */
  bare: number[];
  /** chaosctl samples split: file written → first pass start, and that pass start → die. */
  waitMs: number[];
  workMs: number[];
  /** pass start → `die`, cut at the calls the pass makes (KILL_SPLIT's segments), one sample per run. */
  split: Record<(typeof KILL_SPLIT)[number], number[]>;
  failures: string[];
}

/** Segments of pass start → `die` event, in order. */
export const KILL_SPLIT = [
  "observe (cluster snapshot ∥ store list)",
  "decide (plan), until the record's write",
  "the run's record written (status first)",
  "until the kill call",
  "kill call → `die` event",
] as const;

/** The pass's calls between `passAt` and the die event, as KILL_SPLIT's segments; undefined if one is missing. */
function splitKill(trace: readonly TracedCall[], passAt: number, diedAt: number): number[] | undefined {
  const c = firstCalls(trace, passAt, diedAt, ["snapshot", "list", "writeStatus", "killContainer"] as const);
  if (!c) return undefined;
  const observed = Math.max(c.snapshot.t1, c.list.t1);
  const { writeStatus: write, killContainer: kill } = c;
  return [observed - passAt, write.t0 - observed, write.t1 - write.t0, kill.t0 - write.t1, diedAt - kill.t0];
}

const SERVICE_ID = "com.docker.swarm.service.id";

/** The practice, one process per step: list running tasks, pick one, find its container, kill it. */
async function shellKill(svc: BenchService): Promise<string> {
  const tasks = lines(await docker(["service", "ps", svc.name, "--filter", "desired-state=running", "-q"]));
  const task = tasks[randomInt(0, tasks.length)] ?? "";
  const cid = await docker(["inspect", "-f", "{{.Status.ContainerStatus.ContainerID}}", task]);
  await docker(["kill", cid]);
  return cid;
}

export async function benchKill(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  passStarts: readonly number[],
  runs: number,
  trace: readonly TracedCall[] = [],
): Promise<KillSamples> {
  const out: KillSamples = {
    chaosctl: [],
    shell: [],
    bare: [],
    waitMs: [],
    workMs: [],
    split: Object.fromEntries(KILL_SPLIT.map((k) => [k, [] as number[]])) as KillSamples["split"],
    failures: [],
  };
  const engine = new DockerEngine();
  // Rotate which way goes first, so a slow phase of the machine hits each alike.
  const order = ["chaosctl", "bare", "shell", "bare", "chaosctl", "shell", "shell", "chaosctl", "bare"];
  for (let i = 0; i < runs * 3; i++) {
    const way = order[i % order.length];
    await svc.healthy();
    await sleep(400); // let the controller's pass for the replacement's start events settle
    if (way === "bare") {
      const tasks = lines(await docker(["service", "ps", svc.name, "--filter", "desired-state=running", "-q"]));
      const task = tasks[randomInt(0, tasks.length)] ?? "";
      const cid = await docker(["inspect", "-f", "{{.Status.ContainerStatus.ContainerID}}", task]);
      const t1 = Date.now();
      await engine.killContainer(cid, "SIGKILL").catch((e: Error) => out.failures.push(`bare run ${i}: ${e.message}`));
      const die = await events.next((e) => e.action === "die" && e.id === cid, t1, 5_000);
      if (die) out.bare.push(die.time.getTime() - t1);
      else out.failures.push(`bare run ${i}: no die event within 5 s`);
      events.forget(t1);
      continue;
    }
    const t0 = Date.now();
    if (way === "chaosctl") {
      const file = `kill-${i}.yaml`;
      await ws.write(
        file,
        manifest(`bench-kill-${i}`, `selector: {services: [${svc.name}]}\nfault: {kill: {signal: SIGKILL}}`),
      );
      const die = await events.next((e) => e.action === "die" && e.attributes[SERVICE_ID] === svc.id, t0, 20_000);
      const passAt = passStarts.find((t) => t >= t0);
      if (die) {
        out.chaosctl.push(die.time.getTime() - t0);
        if (passAt !== undefined && passAt <= die.time.getTime()) {
          out.waitMs.push(passAt - t0);
          out.workMs.push(die.time.getTime() - passAt);
          const parts = splitKill(trace, passAt, die.time.getTime());
          if (parts) KILL_SPLIT.forEach((k, j) => out.split[k].push(parts[j] ?? NaN));
        }
      } else out.failures.push(`chaosctl run ${i}: no die event within 20 s`);
      await sleep(300); // its status written, then the file goes (one schedule at a time)
      await unlink(join(ws.dir, file));
    } else {
      const cid = await shellKill(svc).catch(
        (e: Error) => (out.failures.push(`shell run ${i}: ${e.message}`), undefined),
      );
      if (!cid) continue;
      const die = await events.next((e) => e.action === "die" && e.id === cid, t0, 20_000);
      if (die) out.shell.push(die.time.getTime() - t0);
      else out.failures.push(`shell run ${i}: no die event within 20 s`);
    }
    events.forget(t0);
  }
  return out;
}
