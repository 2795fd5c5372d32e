// pause through the controller: apply→inject (file written → `pause` event), revert lateness
// (`unpause` event − the expiry the guard was given, label chaosctl.io/expires) and the window
// held (`pause` → `unpause` events, as a share of the duration), beside two baselines taken in
// turn with it: the direct way (`docker pause C`, the container already known) and the practice's
// pipeline (`docker service ps` → pick → `docker inspect` → `docker pause C && sleep D && docker unpause C`).
import { randomInt } from "node:crypto";
import { execFile } from "node:child_process";
import { readFile, unlink } from "node:fs/promises";
import { parse } from "yaml";
import { join } from "node:path";
import { L_EXPIRES, L_INSTANCE, L_ROLE } from "../src/api/labels.js";
import { docker, lines, sleep } from "./docker-cli.js";
import type { EventLog } from "./events.js";
import { firstCalls, manifest, type BenchService, type BenchWorkspace, type TracedCall } from "./fixture.js";

export interface PauseSamples {
  applyChaosctl: number[];
  applyShell: number[];
  /** `docker pause C` alone, C known beforehand: the direct way. */
  applyDirect: number[];
  /** chaosctl: (`unpause` − `pause` event) / duration, in %. */
  heldChaosctl: number[];
  /** Runs whose record says ExpiredBeforeApplied. */
  expiredBeforeApplied: number;
  lateChaosctl: number[];
  lateShell: number[];
  /** chaosctl: the pass that started the run → the `pause` event (the guard's start-up is most of it). */
  passToPauseMs: number[];
  /** pass start → `pause` event, cut at the calls the pass makes (SPLIT's segments), one sample per run. */
  split: Record<(typeof SPLIT)[number], number[]>;
  failures: string[];
}

/** Segments of pass start → `pause` event, in order. */
export const SPLIT = [
  "observe (cluster snapshot ∥ store list)",
  "decide (plan), until the record's write",
  "the run's record written (status first)",
  "until the guard's create",
  "guard created, its start handed to the engine",
  "until the pause call",
  "pause call → `pause` event",
] as const;

/** The pass's calls between `passAt` and the pause event, as SPLIT's segments; undefined if one is missing. */
function splitPass(trace: readonly TracedCall[], passAt: number, pausedAt: number): number[] | undefined {
  const ops = ["snapshot", "list", "writeStatus", "launchHelper", "pauseContainer"] as const;
  const c = firstCalls(trace, passAt, pausedAt, ops);
  if (!c) return undefined;
  const observed = Math.max(c.snapshot.t1, c.list.t1);
  const { writeStatus: write, launchHelper: launch, pauseContainer: pause } = c;
  return [
    observed - passAt,
    write.t0 - observed,
    write.t1 - write.t0,
    launch.t0 - write.t1,
    launch.t1 - launch.t0,
    pause.t0 - launch.t1,
    pausedAt - pause.t0,
  ];
}

const SERVICE_ID = "com.docker.swarm.service.id";

function sh(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("sh", ["-c", script, "sh", ...args], { timeout: 60_000 }, (err) =>
      err ? reject(new Error(err.message, { cause: err })) : resolve(),
    ),
  );
}

/** Long enough that a guard slow to start on a loaded machine still finds time to pause. */
export const PAUSE_SECONDS = 3;

/** The schedule's last run record as the controller wrote it (why a sample is missing). */
async function lastRun(path: string): Promise<string> {
  const doc = parse(await readFile(path, "utf8").catch(() => "")) as {
    status?: { history?: Array<Record<string, unknown>> };
  } | null;
  const r = doc?.status?.history?.at(-1);
  return r ? JSON.stringify({ result: r.result, reason: r.reason, message: r.message }) : "none";
}

export async function benchPause(
  svc: BenchService,
  ws: BenchWorkspace,
  events: EventLog,
  passStarts: readonly number[],
  runs: number,
  durationS = PAUSE_SECONDS,
  trace: readonly TracedCall[] = [],
): Promise<PauseSamples> {
  const out: PauseSamples = {
    applyChaosctl: [],
    applyShell: [],
    applyDirect: [],
    heldChaosctl: [],
    expiredBeforeApplied: 0,
    lateChaosctl: [],
    lateShell: [],
    passToPauseMs: [],
    split: Object.fromEntries(SPLIT.map((k) => [k, [] as number[]])) as PauseSamples["split"],
    failures: [],
  };
  const waitS = 20_000 + durationS * 1000;
  // Three ways in turn, the order rotating, so a slow phase of the machine hits each alike.
  const order = ["chaosctl", "direct", "shell", "direct", "chaosctl", "shell", "shell", "chaosctl", "direct"];
  for (let i = 0; i < runs * 3; i++) {
    const way = order[i % order.length];
    await svc.healthy();
    await sleep(400);
    if (way === "direct") {
      const tasks = lines(await docker(["service", "ps", svc.name, "--filter", "desired-state=running", "-q"]));
      const cid = await docker([
        "inspect",
        "-f",
        "{{.Status.ContainerStatus.ContainerID}}",
        tasks[randomInt(0, tasks.length)] ?? "",
      ]);
      const t1 = Date.now();
      try {
        await docker(["pause", cid]);
        const paused = await events.next((e) => e.action === "pause" && e.id === cid, t1, 2_000);
        if (!paused) throw new Error("no pause event");
        out.applyDirect.push(paused.time.getTime() - t1);
      } catch (e) {
        out.failures.push(`direct run ${i}: ${(e as Error).message}`);
      } finally {
        await docker(["unpause", cid]).catch(() => undefined);
      }
      events.forget(t1);
      continue;
    }
    const t0 = Date.now();
    if (way === "chaosctl") {
      const file = `pause-${i}.yaml`;
      await ws.write(
        file,
        manifest(
          `bench-pause-${i}`,
          `duration: ${durationS}s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`,
        ),
      );
      const paused = await events.next((e) => e.action === "pause" && e.attributes[SERVICE_ID] === svc.id, t0, waitS);
      // The guard's start event carries its labels, the expiry among them.
      const guard = await events.next(
        (e) => e.action === "start" && e.attributes[L_INSTANCE] === ws.instance && e.attributes[L_ROLE] === "guard",
        t0,
        5_000,
      );
      const until = Date.parse(guard?.attributes[L_EXPIRES] ?? "");
      const unpaused = paused && (await events.next((e) => e.action === "unpause" && e.id === paused.id, t0, waitS));
      if (!paused || !unpaused || !Number.isFinite(until)) {
        const record = await lastRun(join(ws.dir, file));
        if (record.includes("ExpiredBeforeApplied")) out.expiredBeforeApplied++;
        out.failures.push(
          `chaosctl run ${i}: pause event ${!!paused}, guard expiry ${Number.isFinite(until)}, unpause event ${!!unpaused}; its record: ${record}`,
        );
      } else {
        out.applyChaosctl.push(paused.time.getTime() - t0);
        out.lateChaosctl.push(unpaused.time.getTime() - until);
        out.heldChaosctl.push((100 * (unpaused.time.getTime() - paused.time.getTime())) / (durationS * 1000));
        const passAt = passStarts.find((t) => t >= t0);
        if (passAt !== undefined && passAt <= paused.time.getTime()) {
          out.passToPauseMs.push(paused.time.getTime() - passAt);
          const parts = splitPass(trace, passAt, paused.time.getTime());
          if (parts) SPLIT.forEach((k, j) => out.split[k].push(parts[j] ?? NaN));
        }
      }
      await sleep(500);
      await unlink(join(ws.dir, file));
    } else {
      try {
        const tasks = lines(await docker(["service", "ps", svc.name, "--filter", "desired-state=running", "-q"]));
        const cid = await docker([
          "inspect",
          "-f",
          "{{.Status.ContainerStatus.ContainerID}}",
          tasks[randomInt(0, tasks.length)] ?? "",
        ]);
        await sh('docker pause "$1" >/dev/null && sleep "$2" && docker unpause "$1" >/dev/null', [
          cid,
          String(durationS),
        ]);
        const paused = await events.next((e) => e.action === "pause" && e.id === cid, t0, 1_000);
        const unpaused = await events.next((e) => e.action === "unpause" && e.id === cid, t0, 1_000);
        if (!paused || !unpaused) throw new Error(`pause ${!!paused}, unpause ${!!unpaused}`);
        out.applyShell.push(paused.time.getTime() - t0);
        // The practice's expiry: the pause took effect plus the intended duration.
        out.lateShell.push(unpaused.time.getTime() - (paused.time.getTime() + durationS * 1000));
      } catch (e) {
        out.failures.push(`shell run ${i}: ${(e as Error).message}`);
      }
    }
    events.forget(t0);
  }
  return out;
}
