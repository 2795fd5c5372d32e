// Benchmark of the real-kernel VM lane (netem exists only there): a netem delay's apply → effective
// and revert → clean, chaosctl's way beside the direct ways, in one run, samples interleaved.
//   chaosctl   netem driver apply (a guard container shares the target's namespace; its prelude
//              applies; apply returns on the guard's `applied` record) / recover (the guard is
//              stopped and reverts on SIGTERM), as bench/network.ts measures loss and bandwidth;
//   by hand    `docker run --rm --network container:<t> --cap-add NET_ADMIN --entrypoint tc
//              local/node-base:20 qdisc add dev eth0 root netem delay 100ms` (and a second helper
//              with `qdisc del` to revert): what a user types;
//   nsenter    `nsenter -t <pid> -n tc qdisc add ...` from the node's root: no container at all,
//              the physical floor.
// Effective / clean is read on packets, the same way for all three: one busybox `ping -i 0.01`
// runs in the target's namespace towards its gateway for the whole bench; a probe's send time is
// its reply's arrival minus its round-trip time. Effective = the send time of the first probe
// after the start whose reply (and the next one's) took ≥ 90 ms; clean = the first probe back
// under 50 ms (and the next). Each way's call time (until the command or apply returned) is
// reported beside it. The rounds rotate which way goes first, so load drifts hit all three.
// Run inside the VM: `npm run build && bash scripts/vm/run.sh --bench` (docs/vm-lane.md);
// refuses to run elsewhere (no sch_netem). Args: [--rounds N] [--out DIR] (default 10 rounds)
// [--before-image IMAGE]: a fourth way, the same driver with IMAGE as the guard's and Node.js's
// prelude (an A/B of a change to the guard in one run, e.g. the shell prelude against an image
// from before it; BENCH_NETEM_BEFORE_IMAGE of scripts/vm/run.sh).
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DockerEngine } from "../src/engine/docker.js";
import type { DriverContext, InjectionHandle, Target } from "../src/faults/driver.js";
import { netemInjection } from "../src/faults/netem/injection.js";
import type { ResolvedNetemSpec } from "../src/faults/netem/spec.js";
import { netnsDriver } from "../src/faults/netns/driver.js";
import { docker, helperInNetns, sleep } from "./docker-cli.js";
import { EventLog } from "./events.js";
import { machine, type Machine } from "./machine.js";
import { machineLines, table, type Row } from "./report.js";
import { p50p95, percentile } from "./stats.js";

const WEB = "local/web:1";
const HAND_IMAGE = "local/node-base:20";
const APP = "local/chaosctl:dev";
const DELAY_MS = 100;
/** A reply this late was delayed by the fault (netem's delay is a minimum: baseline RTT ~1-2 ms). */
const SLOW_MS = 90;
/** A reply this fast was not. */
const FAST_MS = 50;
const PROBE_INTERVAL_S = 0.01;

// The driver as src/faults/netem/driver.ts builds it, with the guard's apply bound of a slow node
// (the lane's suites use the same): under emulation a guard may need more than the default 10 s.
const netemDriver = netnsDriver<ResolvedNetemSpec>("netem", netemInjection, { applyTimeoutMs: 90_000 });
/** The before way's: an image from before the shell prelude has no netns-guard.sh, so Node.js's prelude. */
const netemDriverBefore = netnsDriver<ResolvedNetemSpec>("netem", netemInjection, {
  applyTimeoutMs: 90_000,
  prelude: "node",
});

export type WayName = "chaosctl" | "by hand" | "nsenter" | "before";
export const WAYS: readonly WayName[] = ["chaosctl", "by hand", "nsenter"];
/** The ways of a run: with a `before` image (an A/B of a change to the guard), the driver with that image too. */
const waysOf = (b: { ways: Partial<Record<WayName, WaySamples>> }): WayName[] =>
  [...WAYS, "before" as const].filter((w) => b.ways[w] !== undefined);

export interface WaySamples {
  applyEffectMs: number[];
  applyCallMs: number[];
  revertCleanMs: number[];
  revertCallMs: number[];
  /**
   * Where the time goes: per sample, the engine's events of the container each way starts or
   * stops (create, start; kill, die) and the effect, in ms since the start of the sample.
   */
  applyMilestones: Record<string, number>[];
  revertMilestones: Record<string, number>[];
}

export interface NetemBench {
  machine: Machine;
  rounds: number;
  /** Probe round-trip time without a fault (ms), p50 over the warm-up. */
  baseRttMs: number;
  /** Probe round-trip time while a delay was in effect (ms), p50 over all ways. */
  delayedRttMs: number;
  ways: Record<Exclude<WayName, "before">, WaySamples> & { before?: WaySamples };
  /** The guard image of the `before` way, if any. */
  beforeImage?: string;
  failures: string[];
  seconds: number;
}

const log = (s: string): void => void process.stderr.write(`[bench netem] ${s}\n`);

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${(stderr || err.message).trim()}`)) : resolve(stdout),
    ),
  );
}

interface Probe {
  sent: number;
  rtt: number;
}

/** A continuous ping in the target's namespace; every reply kept with its send time (performance.now()). */
class PacketProbe {
  private replies: Probe[] = [];
  private rest = "";
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const at = performance.now();
      const text = this.rest + chunk;
      const lines = text.split("\n");
      this.rest = lines.pop() ?? "";
      for (const line of lines) {
        const m = / time=([\d.]+) ms/.exec(line);
        if (m) {
          const rtt = Number(m[1]);
          this.replies.push({ sent: at - rtt, rtt });
        }
      }
    });
  }

  static async start(pid: number, to: string): Promise<PacketProbe> {
    const child = spawn("nsenter", ["-t", String(pid), "-n", "busybox", "ping", "-i", String(PROBE_INTERVAL_S), to]);
    const p = new PacketProbe(child);
    child.stderr.on("data", (d: Buffer) => log(`probe: ${d.toString().trim()}`));
    await p.first(performance.now() - 1, (r) => r.rtt < FAST_MS, 30_000, "the probe's first replies");
    return p;
  }

  /** Drop what no later sample looks at. */
  forgetBefore(t: number): void {
    this.replies = this.replies.filter((r) => r.sent >= t);
  }

  rtts(since: number, until: number): number[] {
    return this.replies.filter((r) => r.sent >= since && r.sent <= until).map((r) => r.rtt);
  }

  /** Send time of the first probe sent after `since` that, and whose successor, match. */
  async first(since: number, match: (r: Probe) => boolean, timeoutMs: number, what: string): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const rs = this.replies.filter((r) => r.sent >= since);
      for (let i = 0; i + 1 < rs.length; i++) if (match(rs[i]!) && match(rs[i + 1]!)) return rs[i]!.sent;
      if (this.child.exitCode !== null)
        throw new Error(`the probe exited (${this.child.exitCode}) waiting for ${what}`);
      if (performance.now() > deadline) throw new Error(`no sign of ${what} within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}

interface Way {
  apply(): Promise<void>;
  revert(): Promise<void>;
}

/** Ways whose container is a guard (its prelude's record, its stop). */
const guardWay = (w: WayName): boolean => w === "chaosctl" || w === "before";

export async function benchNetem(rounds = 10, beforeImage?: string): Promise<NetemBench> {
  const active: readonly WayName[] = beforeImage ? [...WAYS, "before"] : WAYS;
  const started = performance.now();
  const m = await machine();
  const engine = new DockerEngine();
  const nodeId = (await docker(["info", "-f", "{{.Swarm.NodeID}}"])) || "local";
  const target = await docker(["run", "-d", "--label", "chaosctl.bench=netem", WEB]);
  const failures: string[] = [];
  let probe: PacketProbe | undefined;
  const events = new EventLog(engine);
  try {
    const [pidText, gateway] = (await docker(["inspect", "-f", "{{.State.Pid}} {{.NetworkSettings.Gateway}}", target]))
      .split(" ")
      .map((s) => s.trim());
    const pid = Number(pidText);
    if (!(pid > 0) || !gateway) throw new Error(`target ${target}: no pid or gateway (${pidText} ${gateway})`);
    const t: Target = { kind: "container", nodeId, containerId: target };
    const ctx = (image = APP): DriverContext => ({ engine, image, now: new Date() });
    const tcArgs = (verb: "add" | "del"): string[] =>
      verb === "add"
        ? ["qdisc", "add", "dev", "eth0", "root", "netem", "delay", `${DELAY_MS}ms`]
        : ["qdisc", "del", "dev", "eth0", "root"];
    const helper = (verb: "add" | "del") => helperInNetns(target, HAND_IMAGE, ["tc", ...tcArgs(verb)]);
    let handle: InjectionHandle | undefined;
    let runNo = 0;
    const viaDriver = (image: string, driver = netemDriver): Way => ({
      async apply() {
        const owner = {
          schedule: "bench/netem",
          generation: 1,
          run: `r${++runNo}-${Date.now()}`,
          expires: new Date(Date.now() + 300_000),
        };
        const r = await driver.apply(ctx(image), t, { delay: { time: `${DELAY_MS}ms` } }, owner);
        if (r.phase !== "Injected") throw new Error(`apply: ${JSON.stringify(r)}`);
        handle = r.handle;
      },
      async revert() {
        const r = await driver.recover(ctx(image), handle!);
        if (r.phase !== "Recovered") throw new Error(`recover: ${JSON.stringify(r)}`);
        handle = undefined;
      },
    });
    const ways: Record<WayName, Way> = {
      chaosctl: viaDriver(APP),
      before: viaDriver(beforeImage ?? APP, netemDriverBefore),
      "by hand": { apply: async () => void (await helper("add")), revert: async () => void (await helper("del")) },
      nsenter: {
        apply: async () => void (await run("nsenter", ["-t", String(pid), "-n", "tc", ...tcArgs("add")])),
        revert: async () => void (await run("nsenter", ["-t", String(pid), "-n", "tc", ...tcArgs("del")])),
      },
    };
    const qdiscs = () => run("nsenter", ["-t", String(pid), "-n", "tc", "qdisc", "show", "dev", "eth0"]);
    const guards = () => docker(["ps", "-aq", "--filter", `label=chaosctl.io/target=${target}`]);
    const clean = async (): Promise<string | undefined> => {
      const [q, g] = await Promise.all([qdiscs(), guards()]);
      if (/netem|1c4a:/.test(q)) return `qdisc left: ${q.trim()}`;
      if (g) return `guard containers left: ${g.replace(/\n/g, " ")}`;
      return undefined;
    };

    probe = await PacketProbe.start(pid, gateway);
    const samples = Object.fromEntries(
      active.map((w) => [
        w,
        {
          applyEffectMs: [],
          applyCallMs: [],
          revertCleanMs: [],
          revertCallMs: [],
          applyMilestones: [],
          revertMilestones: [],
        },
      ]),
    ) as unknown as NetemBench["ways"];
    const delayed: number[] = [];
    let baseRtt: number[] = [];

    // performance.now() → the engine's clock (both the guest's wall clock), for its events.
    const wall = (t: number): number => performance.timeOrigin + t;
    /** The engine's events of the container a way started (create, start) since t0, in ms since t0. */
    const createdAndStarted = async (way: WayName, t0: number): Promise<Record<string, number>> => {
      if (way === "nsenter") return {};
      const image = way === "chaosctl" ? APP : way === "before" ? (beforeImage ?? APP) : HAND_IMAGE;
      const create = await events.next(
        (e) => e.action === "create" && e.attributes.image === image,
        wall(t0) - 5,
        5000,
      );
      if (!create) return {};
      const start = await events.next((e) => e.action === "start" && e.id === create.id, wall(t0) - 5, 5000);
      const out: Record<string, number> = { create: create.time.getTime() - wall(t0) };
      if (start) out.start = start.time.getTime() - wall(t0);
      return out;
    };
    /** The guard's stop: SIGTERM sent (kill) and its exit (die), in ms since t0. */
    const stopped = async (guardId: string, t0: number): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      const kill = await events.next((e) => e.action === "kill" && e.id === guardId, wall(t0) - 5, 5000);
      const die = await events.next((e) => e.action === "die" && e.id === guardId, wall(t0) - 5, 5000);
      if (kill) out.kill = kill.time.getTime() - wall(t0);
      if (die) out.die = die.time.getTime() - wall(t0);
      return out;
    };

    /**
     * The guard's own account (its `applied` record: the time it logged it and how long the
     * prelude's apply took): when its prelude began (the shell's: its container started; Node.js's:
     * Node.js up, the light modules loaded) and when it had applied, in ms since t0.
     */
    const preludeTimes = async (guardId: string, t0: number): Promise<Record<string, number>> => {
      const logs = await docker(["logs", guardId]).catch(() => "");
      for (const line of logs.split("\n")) {
        if (!line.includes('"applied"')) continue;
        try {
          const r = JSON.parse(line) as { event?: string; by?: string; time?: number; ms?: number };
          if (r.event !== "applied" || r.by !== "prelude" || typeof r.time !== "number") continue;
          return {
            "prelude start": r.time - (r.ms ?? 0) - wall(t0),
            "prelude applied": r.time - wall(t0),
          };
        } catch {
          continue;
        }
      }
      return {};
    };

    const once = async (way: WayName, keep: boolean): Promise<void> => {
      const p = probe!;
      const dirty = await clean();
      if (dirty) throw new Error(`before ${way}: the namespace is not clean: ${dirty}`);
      await sleep(300); // some undelayed probes before the start
      let t0 = performance.now();
      p.forgetBefore(t0 - 1000);
      if (!keep) baseRtt = p.rtts(t0 - 1000, t0);
      await ways[way].apply();
      const applyCall = performance.now() - t0;
      const effect = (await p.first(t0, (r) => r.rtt >= SLOW_MS, 30_000, `${way}'s delay`)) - t0;
      await sleep(300);
      delayed.push(...p.rtts(t0 + effect, performance.now() - 150));
      const applyMilestones = {
        ...(await createdAndStarted(way, t0)),
        ...(guardWay(way) && handle?.guardId ? await preludeTimes(handle.guardId, t0) : {}),
        effective: effect,
      };
      const guardId = handle?.guardId;
      events.forget(wall(performance.now()) - 60_000);
      t0 = performance.now();
      await ways[way].revert();
      const revertCall = performance.now() - t0;
      const cleanAt = (await p.first(t0, (r) => r.rtt < FAST_MS, 30_000, `${way}'s revert`)) - t0;
      const revertMilestones = {
        ...(guardWay(way) && guardId ? await stopped(guardId, t0) : await createdAndStarted(way, t0)),
        clean: cleanAt,
      };
      const left = await clean();
      if (left) throw new Error(`after ${way}'s revert: ${left}`);
      if (!keep) return;
      const s = samples[way]!;
      s.applyCallMs.push(applyCall);
      s.applyEffectMs.push(effect);
      s.revertCallMs.push(revertCall);
      s.revertCleanMs.push(cleanAt);
      s.applyMilestones.push(applyMilestones);
      s.revertMilestones.push(revertMilestones);
    };

    log("warm-up round (not counted)");
    for (const w of active) await once(w, false);
    for (let i = 0; i < rounds; i++) {
      const order = active.map((_, k) => active[(i + k) % active.length]!);
      log(`round ${i + 1}/${rounds}: ${order.join(", ")}`);
      for (const w of order) {
        try {
          await once(w, true);
        } catch (err) {
          failures.push(`round ${i + 1}, ${w}: ${(err as Error).message}`);
          log(`FAILED: ${failures.at(-1)}`);
          if (handle) await netemDriver.recover(ctx(), handle).catch(() => undefined);
          handle = undefined;
          await run("nsenter", ["-t", String(pid), "-n", "tc", ...tcArgs("del")]).catch(() => undefined);
        }
      }
    }
    return {
      machine: m,
      rounds,
      baseRttMs: percentile(baseRtt, 50),
      delayedRttMs: percentile(delayed, 50),
      ways: samples,
      ...(beforeImage ? { beforeImage } : {}),
      failures,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    probe?.stop();
    events.close();
    await docker(["rm", "-f", target]).catch(() => undefined);
  }
}

const ratio = (a: readonly number[], b: readonly number[], p: number): number => percentile(a, p) / percentile(b, p);
const x = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "–");

export function netemRows(b: NetemBench): Row[] {
  const c = b.ways.chaosctl;
  const h = b.ways["by hand"];
  const f = b.ways.nsenter;
  const o = b.ways.before;
  const within = (a: number[], base: number[]): boolean =>
    a.length > 0 && base.length > 0 && ratio(a, base, 50) <= 1.15 && ratio(a, base, 95) <= 1.5;
  return [
    {
      measure: `netem delay ${DELAY_MS}ms: apply → effective (start → first delayed probe), p50 / p95; ratio p50, p95`,
      chaosctl: p50p95(c.applyEffectMs),
      baseline: `${p50p95(h.applyEffectMs)}: \`docker run --network container:… tc qdisc add … netem\`; ratio ${x(ratio(c.applyEffectMs, h.applyEffectMs, 50))}, ${x(ratio(c.applyEffectMs, h.applyEffectMs, 95))}`,
      goal: "within 1.15x p50, 1.5x p95",
      met: within(c.applyEffectMs, h.applyEffectMs),
    },
    {
      measure: `netem delay ${DELAY_MS}ms: apply → effective, beside \`nsenter -t PID -n tc\` (no container), p50 / p95; ratio p50, p95`,
      chaosctl: p50p95(c.applyEffectMs),
      baseline: `${p50p95(f.applyEffectMs)}; ratio ${x(ratio(c.applyEffectMs, f.applyEffectMs, 50))}, ${x(ratio(c.applyEffectMs, f.applyEffectMs, 95))}`,
      goal: "(the floor; no goal set)",
    },
    {
      measure: `netem delay ${DELAY_MS}ms: apply call returned (driver apply → Injected; \`docker run\` / \`nsenter\` exited), p50 / p95`,
      chaosctl: p50p95(c.applyCallMs),
      baseline: `by hand ${p50p95(h.applyCallMs)}; nsenter ${p50p95(f.applyCallMs)}; ratio p50 ${x(ratio(c.applyCallMs, h.applyCallMs, 50))}`,
      goal: "(no goal set)",
    },
    {
      measure: `netem delay ${DELAY_MS}ms: revert → clean (start → first undelayed probe), p50 / p95; ratio p50, p95`,
      chaosctl: `${p50p95(c.revertCleanMs)} (recover: the guard stopped, it reverts on SIGTERM)`,
      baseline: `${p50p95(h.revertCleanMs)}: a second helper \`tc qdisc del\`; ratio ${x(ratio(c.revertCleanMs, h.revertCleanMs, 50))}, ${x(ratio(c.revertCleanMs, h.revertCleanMs, 95))}; nsenter ${p50p95(f.revertCleanMs)}`,
      goal: "(no goal set)",
    },
    {
      measure: `netem delay ${DELAY_MS}ms: revert call returned (recover → Recovered; helper / nsenter exited), p50 / p95`,
      chaosctl: p50p95(c.revertCallMs),
      baseline: `by hand ${p50p95(h.revertCallMs)}; nsenter ${p50p95(f.revertCallMs)}`,
      goal: "(no goal set)",
    },
    ...(o
      ? [
          {
            measure: `netem delay ${DELAY_MS}ms: apply → effective beside the same driver with the guard image ${b.beforeImage} (before), p50 / p95; ratio p50, p95`,
            chaosctl: p50p95(c.applyEffectMs),
            baseline: `${p50p95(o.applyEffectMs)}; ratio ${x(ratio(c.applyEffectMs, o.applyEffectMs, 50))}, ${x(ratio(c.applyEffectMs, o.applyEffectMs, 95))}; before beside by hand ${x(ratio(o.applyEffectMs, h.applyEffectMs, 50))}, ${x(ratio(o.applyEffectMs, h.applyEffectMs, 95))}`,
            goal: "(A/B; no goal set)",
          },
          {
            measure: `netem delay ${DELAY_MS}ms: apply call returned / revert → clean, beside before, p50 / p95`,
            chaosctl: `${p50p95(c.applyCallMs)} / ${p50p95(c.revertCleanMs)}`,
            baseline: `${p50p95(o.applyCallMs)} / ${p50p95(o.revertCleanMs)}; ratio p50 ${x(ratio(c.applyCallMs, o.applyCallMs, 50))} / ${x(ratio(c.revertCleanMs, o.revertCleanMs, 50))}`,
            goal: "(A/B; no goal set)",
          },
        ]
      : []),
  ];
}

/** "create 310 / 420 → start 900 / 1100 → effective ..." in the order the milestones happen (by p50). */
function milestones(samples: readonly Record<string, number>[]): string {
  const keys = [...new Set(samples.flatMap((m) => Object.keys(m)))];
  const at = (k: string): number[] => samples.map((m) => m[k]).filter((v): v is number => v !== undefined);
  return keys
    .map((k) => ({ k, xs: at(k) }))
    .sort((a, b) => percentile(a.xs, 50) - percentile(b.xs, 50))
    .map(
      ({ k, xs }) =>
        `${k} ${Math.round(percentile(xs, 50))} / ${Math.round(percentile(xs, 95))}${xs.length < samples.length ? ` (n=${xs.length})` : ""}`,
    )
    .join(" → ");
}

export function netemReport(b: NetemBench): string {
  const list = (xs: number[]): string => xs.map((v) => Math.round(v)).join(", ");
  const out = [
    `## netem in the VM lane (bench/netem.ts, ${b.rounds} rounds, ${Math.round(b.seconds)} s)`,
    "",
    machineLines(b.machine),
    `- Probe: busybox ping every ${PROBE_INTERVAL_S * 1000} ms from the target's namespace to its gateway; RTT p50 ${b.baseRttMs.toFixed(2)} ms without a fault, ${b.delayedRttMs.toFixed(1)} ms under the delay`,
    "",
    table(netemRows(b)),
    "",
    "Where the time goes: milestones in ms since the sample's start, p50 / p95 (engine events of the",
    "container the way starts or stops, and the effect on the probe):",
    "",
    ...waysOf(b).flatMap((w) => [
      `- ${w}, apply: ${milestones(b.ways[w]!.applyMilestones)}`,
      `- ${w}, revert: ${milestones(b.ways[w]!.revertMilestones)}`,
    ]),
    "",
    "Raw samples (ms), in round order:",
    "",
  ];
  for (const w of waysOf(b)) {
    const s = b.ways[w]!;
    out.push(
      `- ${w}: apply → effective ${list(s.applyEffectMs)}; apply call ${list(s.applyCallMs)}`,
      `- ${w}: revert → clean ${list(s.revertCleanMs)}; revert call ${list(s.revertCallMs)}`,
    );
  }
  if (b.failures.length) out.push("", "Failed samples:", "", ...b.failures.map((f) => `- ${f}`));
  out.push("");
  return out.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  if (process.env.CHAOSCTL_VM_LANE !== "1") {
    console.error("bench/netem runs inside the real-kernel VM: npm run build && bash scripts/vm/run.sh --bench");
    process.exit(2);
  }
  const rounds = Number(arg("rounds") ?? process.env.BENCH_NETEM_ROUNDS ?? 10);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    console.error(`--rounds: an integer 1..50, got ${rounds}`);
    process.exit(2);
  }
  try {
    const b = await benchNetem(rounds, arg("before-image") || undefined);
    if (process.env.BENCH_COMMIT) b.machine.commit = process.env.BENCH_COMMIT;
    // The guest's own load; the host's (shared, and what slows the emulation) is not visible here.
    b.machine.loadAtStart = `${b.machine.loadAtStart} in the guest, under QEMU TCG: figures are emulation's; the ratios are what count`;
    const text = netemReport(b);
    console.log(text);
    const dir = arg("out");
    if (dir) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "netem-bench.md"), text);
      await writeFile(join(dir, "netem-bench.json"), JSON.stringify(b, null, 2));
    }
    process.exitCode = b.failures.length ? 1 : 0;
  } catch (e) {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  }
}
