// `npm run bench`: every figure beside its baseline and goal, in one run, printed as a markdown
// table and written to docs/benchmarks.md with the machine. Only prints: nothing here asserts.
// Options: --quick (few samples, docs not written), --only=a,b (only those parts: cli, kill,
// pause, killswitch, idle, net, node, stress, yaml, dashboard, abort; docs not written), or BENCH_KILL_RUNS,
// BENCH_PAUSE_RUNS, BENCH_NET_ROUNDS, BENCH_NODE_ROUNDS, BENCH_CLI_RUNS, BENCH_KILLSWITCH_RUNS, BENCH_STRESS_RUNS,
// BENCH_DASHBOARD_LOADS, BENCH_ABORT_RUNS to change sample counts.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { abortRow, benchAbort, type AbortSamples } from "./abort.js";
import { benchCli, manifestFolder, type ColdStart } from "./cli.js";
import { benchDashboard } from "./dashboard.js";
import { docker } from "./docker-cli.js";
import { EventLog } from "./events.js";
import { benchService, benchWorkspace, startController, APP_IMAGE, WEB_IMAGE } from "./fixture.js";
import { benchIdle, fakeServiceOf, FAR_SCHEDULE, type IdleResult } from "./idle.js";
import { benchKill, KILL_SPLIT, type KillSamples } from "./kill.js";
import { benchKillSwitch, type KillSwitchSamples } from "./kill-switch.js";
import { machine } from "./machine.js";
import { benchNetwork } from "./network.js";
import { benchNode, type NodeSamples } from "./node.js";
import { benchNetWindow, type WindowSamples } from "./window.js";
import { benchPause, PAUSE_SECONDS, SPLIT, type PauseSamples } from "./pause.js";
import { runStressBench, stressRows } from "./stress.js";
import { DEFAULT_STRESS_IMAGE } from "../src/faults/stress/spec.js";
import { benchYaml, yamlSection } from "./yaml.js";
import { document, keptTail, table, type Row } from "./report.js";
import { median, p50p95, percentile } from "./stats.js";

const quick = process.argv.includes("--quick");
const PARTS = [
  "cli",
  "kill",
  "pause",
  "killswitch",
  "window",
  "idle",
  "net",
  "node",
  "stress",
  "yaml",
  "dashboard",
  "abort",
] as const;
const onlyArg = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const only = onlyArg ? new Set(onlyArg.split(",")) : undefined;
for (const p of only ?? []) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part ${p}`);
const want = (part: (typeof PARTS)[number]): boolean => !only || only.has(part);
const num = (name: string, full: number, small: number): number => Number(process.env[name] ?? (quick ? small : full));
const RUNS = {
  kill: num("BENCH_KILL_RUNS", 20, 3),
  pause: num("BENCH_PAUSE_RUNS", 10, 2),
  net: num("BENCH_NET_ROUNDS", 10, 1),
  node: num("BENCH_NODE_ROUNDS", 10, 2),
  cli: num("BENCH_CLI_RUNS", 10, 3),
  killSwitch: num("BENCH_KILLSWITCH_RUNS", 10, 2),
  stress: num("BENCH_STRESS_RUNS", 5, 2),
  dashboard: num("BENCH_DASHBOARD_LOADS", 10, 3),
  abort: num("BENCH_ABORT_RUNS", 10, 2),
  window: num("BENCH_WINDOW_RUNS", 8, 2),
};
/** The network loss window's duration (bench/window.ts), as short as the goal's shortest window. */
const WINDOW_SECONDS = 3;
const SCHEDULES = quick ? [10, 100] : [10, 100, 1000];
const FAKE = { services: 100, tasksPerService: 100 };
const DOC = resolve(import.meta.dirname, "../../docs/benchmarks.md");
/**
 * Figures of the last full run before the idle-pass work (commit 12cbe10, docs run of
 * 2026-11-25 11:06 UTC, same machine): shown beside today's as the "before". Not re-measured.
 */
const BEFORE_IDLE: Record<string, string> = {
  "real 10": "5.8 ms",
  "real 100": "22 ms",
  "real 1000": "153 ms",
  "fake 1000": "272 ms",
};
const BEFORE_RSS = "203 MB (heap used 93 MB)";

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((e: Error) => console.error(`cleanup: ${e.message}`));
}
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => void cleanup().finally(() => process.exit(130)));

const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);
const fixed = (x: number): string => (x < 10 ? x.toFixed(1) : String(Math.round(x)));

async function preflight(): Promise<void> {
  const state = await docker(["info", "-f", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"]);
  if (state !== "active true")
    throw new Error(`this engine is not a Swarm manager (${state}): run scripts/swarm-up.sh`);
  for (const img of [WEB_IMAGE, APP_IMAGE, "local/node-base:20", DEFAULT_STRESS_IMAGE])
    await docker(["image", "inspect", "-f", "{{.Id}}", img]).catch(() =>
      Promise.reject(new Error(`image ${img} missing: run scripts/swarm-up.sh`)),
    );
}

async function main(): Promise<void> {
  const started = performance.now();
  const m = await machine();
  await preflight();

  let cli: ColdStart[] = [];
  if (want("cli")) {
    log(`CLI cold start (${RUNS.cli} runs each)`);
    const cliVersion = await benchCli(["--version"], RUNS.cli);
    const cliValidate = await benchCli(["validate", "-f", resolve(import.meta.dirname, "../../manifests")], RUNS.cli);
    const folder = await manifestFolder(100);
    const cliGet = await benchCli(["get", "--dir", folder.dir], RUNS.cli).finally(() => folder.remove());
    cliGet.args = ["get", "--dir", "<100 manifests>"];
    cli = [cliVersion, cliValidate, cliGet];
  }

  let kill: KillSamples | undefined;
  let pause: PauseSamples | undefined;
  let killSwitch: KillSwitchSamples | undefined;
  const idle: IdleResult[] = [];
  let window: WindowSamples | undefined;
  if (want("kill") || want("pause") || want("killswitch") || want("window") || want("idle")) {
    log("Swarm service (4 replicas) and the controller on a temp folder");
    const svc = await benchService(4);
    cleanups.push(() => svc.remove());
    if (want("kill") || want("pause") || want("killswitch") || want("window")) {
      const ws = await benchWorkspace();
      cleanups.push(() => ws.cleanup());
      const switchDir = await mkdtemp(join(tmpdir(), "chaosctl-bench-switch-"));
      cleanups.push(() => rm(switchDir, { recursive: true, force: true }));
      const events = new EventLog();
      cleanups.push(async () => events.close());
      const killSwitchFile = join(switchDir, "stop");
      const ctl = startController(ws, { killSwitchFile });
      cleanups.push(() => ctl.stop());
      if (want("kill")) {
        log(`kill apply→inject: ${RUNS.kill} runs each way`);
        kill = await benchKill(svc, ws, events, ctl.passStarts, RUNS.kill, ctl.trace);
      }
      if (want("pause")) {
        log(`pause apply→inject, window held and revert lateness: ${RUNS.pause} runs each way`);
        pause = await benchPause(svc, ws, events, ctl.passStarts, RUNS.pause, PAUSE_SECONDS, ctl.trace);
      }
      if (want("window")) {
        log(`network loss window held, ${WINDOW_SECONDS} s: ${RUNS.window} runs`);
        window = await benchNetWindow(svc, ws, events, RUNS.window, WINDOW_SECONDS);
        if (window.failures.length) log(`window failures: ${window.failures.join("; ")}`);
      }
      if (want("killswitch")) {
        log(`kill switch file and suspend --all → last injection reverted: ${RUNS.killSwitch} runs each`);
        killSwitch = await benchKillSwitch(svc, ws, events, killSwitchFile, RUNS.killSwitch);
      }
      await cleanups.pop()!(); // the controller stops before the idle children run
      await cleanups.pop()!(); // events
      await cleanups.pop()!(); // the kill switch's folder
      await cleanups.pop()!(); // workspace
    }
    if (want("idle")) {
      for (const n of SCHEDULES) {
        log(`idle pass, ${n} schedules, real Swarm`);
        idle.push(await benchIdle({ schedules: n, serviceOf: () => svc.name }));
      }
      log(`idle pass, 1000 schedules, fake engine with ${FAKE.services * FAKE.tasksPerService} tasks`);
      idle.push(await benchIdle({ schedules: 1000, serviceOf: fakeServiceOf(FAKE.services), fake: FAKE }));
    }
    await cleanup();
  }

  let net: NetRows = [];
  if (want("net")) {
    log(`network loss/bandwidth: ${RUNS.net} rounds`);
    net = await benchNetwork(RUNS.net);
  }

  let node: NodeSamples | undefined;
  if (want("node")) {
    log(`node drain/partition on a three-node cluster: ${RUNS.node} rounds`);
    node = await benchNode(RUNS.node, log);
    if (node.failures.length) log(`node failures: ${node.failures.join("; ")}`);
  }

  let stress: Awaited<ReturnType<typeof runStressBench>> | undefined;
  if (want("stress")) {
    log(`stress apply→effective and revert→clean: ${RUNS.stress} runs each way`);
    stress = await runStressBench(RUNS.stress);
    if (stress.failures.length) log(`stress failures: ${stress.failures.join("; ")}`);
  }

  let yamlRows: Row[] = [];
  if (want("yaml")) {
    log("manifest loading on hostile input (child processes, no Docker)");
    yamlRows = await benchYaml(log);
  }

  let dashboardRows: Row[] = [];
  if (want("dashboard")) {
    log(`dashboard first render in Chromium: ${RUNS.dashboard} loads at 10 and 1,000 schedules`);
    dashboardRows = (await benchDashboard(RUNS.dashboard)).rows;
  }

  let abort: AbortSamples | undefined;
  if (want("abort")) {
    log(`abort: deciding probe failure → fault reverted: ${RUNS.abort} runs`);
    const events = new EventLog();
    abort = await benchAbort(RUNS.abort, events).finally(() => events.close());
    if (abort.failures.length) log(`abort failures: ${abort.failures.join("; ")}`);
  }

  const rows = [
    ...buildRows(kill, pause, killSwitch, idle, cli, net),
    ...(node ? nodeRows(node) : []),
    ...(stress ? stressRows(stress) : []),
    ...dashboardRows,
    ...(abort ? [abortRow(abort)] : []),
    ...(window ? windowRows(window) : []),
  ];
  const seconds = (performance.now() - started) / 1000;
  const sections = [
    ...details(kill, pause, killSwitch, idle, cli, rows),
    ...(want("yaml") ? [yamlSection(yamlRows, m.loadAtStart)] : []),
    ...(only ? [] : await analysis()),
  ];
  console.log(table(rows));
  for (const s of sections) console.log(s);
  log(`done in ${Math.round(seconds)} s`);
  if (!quick && !only) {
    // The hand-written records below the marker stay; everything above it is this run's.
    const kept = keptTail(await readFile(DOC, "utf8").catch(() => ""));
    await writeFile(DOC, document(m, rows, sections, seconds, kept));
    log(`written ${DOC}`);
  }
}

type NetRows = Awaited<ReturnType<typeof benchNetwork>>;

/** A network fault's window, through the controller (bench/window.ts). */
function windowRows(w: WindowSamples): Row[] {
  const held = w.held.length > 0 ? `${Math.min(...w.held).toFixed(1)}% / ${median(w.held).toFixed(1)}%` : "no samples";
  return [
    {
      measure: `window held, network loss ${WINDOW_SECONDS} s (the guard's \`applied\` → \`reverted\` records / duration), min / p50`,
      chaosctl: `${held} (n=${w.held.length}); file written → applied ${p50p95(w.apply)}`,
      baseline: "–",
      goal: "≥ 98% every run",
      met: w.held.length > 0 && Math.min(...w.held) >= 98 && w.failures.length === 0,
    },
    {
      measure: `revert lateness, network loss ${WINDOW_SECONDS} s (the guard's \`reverted\` record − when it was due: its applied moment + the duration), p50 / p95`,
      chaosctl: `${p50p95(w.late)}; past the run's expiry ${p50p95(w.pastExpiry)} (a hold's bound: 1 s)`,
      baseline: "–",
      goal: "p95 < 100 ms",
      met: w.late.length > 0 && percentile(w.late, 95) < 100,
    },
  ];
}

/** "1.07x" (p50 of ours over p50 of theirs), or "–" without samples. */
function ratio(ours: readonly number[], theirs: readonly number[], p = 50): string {
  if (ours.length === 0 || theirs.length === 0) return "–";
  return `${(percentile(ours, p) / percentile(theirs, p)).toFixed(2)}x`;
}

function within(ours: readonly number[], theirs: readonly number[], p: number, limit: number): boolean {
  return ours.length > 0 && theirs.length > 0 && percentile(ours, p) <= limit * percentile(theirs, p);
}

function buildRows(
  kill: KillSamples | undefined,
  pause: PauseSamples | undefined,
  killSwitch: KillSwitchSamples | undefined,
  idle: IdleResult[],
  cli: ColdStart[],
  net: NetRows,
): Row[] {
  const rows: Row[] = [];
  if (kill) {
    rows.push({
      measure: "apply→inject, kill (file written / pipeline start → `die` event), p50 / p95",
      chaosctl: p50p95(kill.chaosctl),
      baseline: `${p50p95(kill.shell)}: \`docker service ps\` → pick → \`docker inspect\` → \`docker kill\``,
      goal: "p50 under the shell pipeline's",
      met: kill.chaosctl.length > 0 && kill.shell.length > 0 ? median(kill.chaosctl) < median(kill.shell) : false,
    });
    rows.push({
      measure:
        "kill: file written → `die` event, beside the engine's kill call alone (container known, call → `die`), p50 / p95; ratio p50",
      chaosctl: p50p95(kill.chaosctl),
      baseline: `${p50p95(kill.bare)}; ratio ${ratio(kill.chaosctl, kill.bare)}`,
      goal: "p50 within 1.05x",
      met: within(kill.chaosctl, kill.bare, 50, 1.05),
    });
    rows.push({
      measure: "kill: file written → reconcile pass start, p50 / p95",
      chaosctl: p50p95(kill.waitMs),
      baseline: "–",
      goal: "p50 < 10 ms",
      met: kill.waitMs.length > 0 && median(kill.waitMs) < 10,
    });
  }
  if (pause) {
    rows.push({
      measure: "apply→inject, pause (file written / command start → `pause` event), p50 / p95; ratio p50, p95",
      chaosctl: p50p95(pause.applyChaosctl),
      baseline: `${p50p95(pause.applyDirect)} \`docker pause C\` (C known); ratio ${ratio(pause.applyChaosctl, pause.applyDirect)}, ${ratio(pause.applyChaosctl, pause.applyDirect, 95)}`,
      goal: "within 1.15x p50, 1.5x p95",
      met:
        within(pause.applyChaosctl, pause.applyDirect, 50, 1.15) &&
        within(pause.applyChaosctl, pause.applyDirect, 95, 1.5),
    });
    rows.push({
      measure: "apply→inject, pause, beside the practice's pipeline, p50 / p95; ratio p50",
      chaosctl: p50p95(pause.applyChaosctl),
      baseline: `${p50p95(pause.applyShell)}: \`docker service ps\` → pick → \`docker inspect\` → \`docker pause\`; ratio ${ratio(pause.applyChaosctl, pause.applyShell)}`,
      goal: "(no goal set)",
    });
    rows.push({
      measure: `window held, pause ${PAUSE_SECONDS} s (\`pause\` → \`unpause\` events / duration), min / p50; ExpiredBeforeApplied`,
      chaosctl:
        pause.heldChaosctl.length > 0
          ? `${Math.min(...pause.heldChaosctl).toFixed(1)}% / ${median(pause.heldChaosctl).toFixed(1)}% (n=${pause.heldChaosctl.length}); ${pause.expiredBeforeApplied} ExpiredBeforeApplied`
          : "no samples",
      baseline: "–",
      goal: "≥ 98% every run; no ExpiredBeforeApplied",
      met: pause.heldChaosctl.length > 0 && Math.min(...pause.heldChaosctl) >= 98 && pause.expiredBeforeApplied === 0,
    });
    rows.push({
      measure: `revert lateness, pause ${PAUSE_SECONDS} s (\`unpause\` event − scheduled expiry), p50 / p95`,
      chaosctl: p50p95(pause.lateChaosctl),
      baseline: `${p50p95(pause.lateShell)}: \`docker pause; sleep ${PAUSE_SECONDS}; docker unpause\``,
      goal: "p95 < 100 ms",
      met: pause.lateChaosctl.length > 0 && percentile(pause.lateChaosctl, 95) < 100,
    });
  }
  if (killSwitch) {
    rows.push({
      measure: "kill switch: file created → last injection reverted (`unpause` event), p50 / p95",
      chaosctl: p50p95(killSwitch.ms),
      baseline: "–",
      goal: "p95 < 1 s",
      met: killSwitch.ms.length > 0 && percentile(killSwitch.ms, 95) < 1000,
    });
    rows.push({
      measure: "`chaosctl suspend --all --dir` spawned → last injection reverted (`unpause` event), p50 / p95",
      chaosctl: p50p95(killSwitch.suspendAllMs),
      baseline: "–",
      goal: "p95 < 1 s",
      met: killSwitch.suspendAllMs.length > 0 && percentile(killSwitch.suspendAllMs, 95) < 1000,
    });
  }
  const real = idle.filter((r) => r.engine === "real");
  const readsConstant = new Set(real.map((r) => Math.max(...r.samples.map((s) => s.reads)))).size === 1;
  for (const r of idle) {
    const cpu = r.samples.map((s) => s.cpuMs);
    const mutating = Math.max(...r.samples.map((s) => s.mutating));
    const reads = [...new Set(r.samples.map((s) => s.reads))].join("/");
    const at1000 = r.schedules >= 1000;
    const where =
      r.engine === "real"
        ? "real Swarm"
        : `fake engine, ${r.tasks.toLocaleString("en")} tasks + ${r.containers.toLocaleString("en")} containers`;
    rows.push({
      measure: `idle pass, ${r.schedules.toLocaleString("en")} schedules (${where}): CPU p50 (max); Docker calls`,
      chaosctl: `${fixed(median(cpu))} ms (max ${fixed(Math.max(...cpu))}); wall p50 ${fixed(median(r.samples.map((s) => s.wallMs)))} ms; ${reads} reads, ${mutating} mutating`,
      baseline: BEFORE_IDLE[`${r.engine} ${r.schedules}`]
        ? `before (12cbe10): CPU p50 ${BEFORE_IDLE[`${r.engine} ${r.schedules}`]}, 4 reads`
        : "–",
      goal: `0 mutating${r.engine === "real" ? "; reads equal at 10/100/1,000" : ""}${at1000 ? "; CPU < 20 ms" : ""}`,
      met: mutating === 0 && (r.engine === "fake" || readsConstant) && (!at1000 || median(cpu) < 20),
    });
  }
  const big = idle.find((r) => r.engine === "real" && r.schedules >= 1000) ?? real.at(-1);
  if (big)
    rows.push({
      measure: `controller RSS at ${big.schedules.toLocaleString("en")} schedules (after ${3 + big.samples.length} passes; node ${big.nodeFlags.join(" ") || "without flags"}, as the image's ENTRYPOINT starts it)`,
      chaosctl: `${Math.round(big.rssMB)} MB (heap used ${Math.round(big.heapUsedMB)} MB)`,
      baseline: `before (12cbe10): ${BEFORE_RSS}`,
      goal: "< 150 MB",
      met: big.rssMB < 150,
    });
  for (const c of cli) {
    rows.push({
      measure: `CLI cold start \`chaosctl ${c.args.map((a) => a.replace(/.*\/manifests$/, "manifests/")).join(" ")}\`, p50 / p95`,
      chaosctl: p50p95(c.ms),
      baseline: "–",
      goal: "p50 < 300 ms",
      met: median(c.ms) < 300,
    });
    if (c.cpuMs?.length)
      rows.push({
        measure: `CLI \`chaosctl ${c.args.map((a) => a.replace(/.*\/manifests$/, "manifests/")).join(" ")}\` CPU (user+sys), p50 / p95`,
        chaosctl: p50p95(c.cpuMs),
        baseline: "–",
        goal: "(cold start without the machine's load)",
      });
  }
  for (const fault of ["loss", "bandwidth"]) {
    const ours = net.find((r) => r.fault === fault && r.way.startsWith("chaosctl"));
    const hand = net.find((r) => r.fault === fault && r.way.startsWith("by hand"));
    if (!ours || !hand) continue;
    rows.push({
      measure: `network ${fault}: apply→effective, p50 / p95`,
      chaosctl: `${p50p95(ours.applyMs)} (the guard's prelude applies; confirmed by its record)`,
      baseline: `${p50p95(hand.applyMs)}: \`docker run --network container:… tc/iptables\`; ratio ${ratio(ours.applyMs, hand.applyMs)}, ${ratio(ours.applyMs, hand.applyMs, 95)}`,
      goal: "within 1.15x p50, 1.5x p95",
      met: within(ours.applyMs, hand.applyMs, 50, 1.15) && within(ours.applyMs, hand.applyMs, 95, 1.5),
    });
    rows.push({
      measure: `network ${fault}: revert→clean, p50 / p95`,
      chaosctl: p50p95(ours.revertMs),
      baseline: `${p50p95(hand.revertMs)}: a second helper run by hand`,
      goal: "(no goal set)",
    });
  }
  return rows;
}

function nodeRows(node: NodeSamples): Row[] {
  const row = (what: string, s: NodeSamples["drain"], how: string): Row => ({
    measure: `node ${what}: apply→effective (three-node cluster), p50 / p95; ratio p50, p95`,
    chaosctl: `${p50p95(s.chaosctl)} (apply returned ${p50p95(s.applyReturn)})`,
    baseline: `${p50p95(s.byHand)}: ${how}; ratio ${ratio(s.chaosctl, s.byHand)}, ${ratio(s.chaosctl, s.byHand, 95)}`,
    goal: "within 1.15x p50, 1.5x p95",
    met: within(s.chaosctl, s.byHand, 50, 1.15) && within(s.chaosctl, s.byHand, 95, 1.5),
  });
  const before = (what: "drain" | "partition"): Row[] => {
    const b = node.before?.[what];
    if (!b) return [];
    return [
      {
        measure: `node ${what}, the driver before (${what === "drain" ? "a cluster read for the guard's node, a 200 ms poll" : "its guard from Node.js's entry, no shell prelude"}), same rounds, p50 / p95`,
        chaosctl: `${p50p95(b.chaosctl)} (apply returned ${p50p95(b.applyReturn)})`,
        baseline: `now: ${p50p95(node[what].chaosctl)} (apply returned ${p50p95(node[what].applyReturn)})`,
        goal: "–",
      },
    ];
  };
  return [
    ...before("drain"),
    ...before("partition"),
    row(
      "drain",
      node.drain,
      "`docker node update --availability drain` on the manager (both end at the manager's node event)",
    ),
    row(
      "partition",
      node.partition,
      "the Swarm ports dropped by hand in the node's namespace (`iptables -I`, 4 rules; ends when the command returns, chaosctl's at its guard's `applied` record)",
    ),
  ];
}

function details(
  kill: KillSamples | undefined,
  pause: PauseSamples | undefined,
  killSwitch: KillSwitchSamples | undefined,
  idle: IdleResult[],
  cli: ColdStart[],
  rows: Row[],
): string[] {
  const out: string[] = [];
  const missed = rows.filter((r) => r.met === false);
  out.push("## Goals missed", "");
  out.push(
    missed.length === 0
      ? "None in this run."
      : missed.map((r) => `- ${r.measure}: ${r.chaosctl} (goal: ${r.goal})`).join("\n"),
    "",
  );
  out.push("## Where the time goes", "");
  if (kill)
    out.push(
      `- kill through chaosctl, split at the start of the first reconcile pass after the write: file written → pass start ${p50p95(kill.waitMs)}; pass start → \`die\` ${p50p95(kill.workMs)}. Cut at the pass's calls (p50 / p95 of each segment):`,
      ...KILL_SPLIT.map((k) => `  - ${k}: ${p50p95(kill.split[k])}`),
    );
  if (pause)
    out.push(
      `- pause through chaosctl: pass start → \`pause\` event ${p50p95(pause.passToPauseMs)} (the guard is created and its start handed to the engine, then the controller pauses the target itself). Cut at the pass's calls (p50 / p95 of each segment):`,
      ...SPLIT.map((k) => `  - ${k}: ${p50p95(pause.split[k])}`),
    );
  out.push("");
  out.push("## Idle pass detail", "");
  out.push(`Schedules are cron \`${FAR_SCHEDULE}\` (next run: New Year), each selecting a service; 3 warm-up passes`);
  out.push("(the first writes every schedule's next run time into its status), then the passes measured,");
  out.push(
    "each in a fresh child process. CPU is `process.cpuUsage()` (user + system) around `controller.pass()`.",
    "",
  );
  out.push(
    "| Engine | Schedules | Tasks | Containers | CPU p50 / max ms | Wall p50 ms | Calls per pass (by operation) | Status writes: warm-up / measured | RSS MB |",
  );
  out.push("|---|---|---|---|---|---|---|---|---|");
  for (const r of idle) {
    const cpu = r.samples.map((s) => s.cpuMs);
    const ops = Object.entries(r.samples.at(-1)?.byOp ?? {})
      .map(([op, n]) => `${op} ${n}`)
      .join(", ");
    const writes = r.samples.reduce((a, s) => a + s.statusWrites, 0);
    out.push(
      `| ${r.engine} | ${r.schedules} | ${r.tasks} | ${r.containers} | ${fixed(median(cpu))} / ${fixed(Math.max(...cpu))} | ${fixed(median(r.samples.map((s) => s.wallMs)))} | ${ops} | ${r.warmupStatusWrites} / ${writes} | ${Math.round(r.rssMB)} |`,
    );
  }
  out.push("");
  out.push("## Raw samples (ms)", "");
  const list = (xs: number[]): string => xs.map((x) => Math.round(x)).join(", ");
  if (kill)
    out.push(
      `- kill, chaosctl: ${list(kill.chaosctl)}`,
      `- kill, shell pipeline: ${list(kill.shell)}`,
      `- kill, engine call alone: ${list(kill.bare)}`,
    );
  if (pause)
    out.push(
      `- pause apply, chaosctl: ${list(pause.applyChaosctl)}`,
      `- pause apply, \`docker pause\`: ${list(pause.applyDirect)}`,
      `- pause apply, shell pipeline: ${list(pause.applyShell)}`,
      `- window held %, chaosctl: ${pause.heldChaosctl.map((x) => x.toFixed(1)).join(", ")}`,
      `- revert lateness, chaosctl: ${list(pause.lateChaosctl)}`,
      `- revert lateness, shell: ${list(pause.lateShell)}`,
    );
  if (killSwitch) {
    out.push(`- kill switch → last revert: ${list(killSwitch.ms)}`);
    out.push(`- suspend --all → last revert: ${list(killSwitch.suspendAllMs)}`);
  }
  for (const c of cli)
    out.push(
      `- CLI \`${c.args.join(" ").replace(/\S*\/manifests$/, "manifests/")}\` (exit codes ${[...new Set(c.exitCodes)].join(",")}): ${list(c.ms)}`,
    );
  if (kill)
    out.push(
      `- kill wait (write → pass start): ${list(kill.waitMs)}`,
      `- kill work (pass start → die): ${list(kill.workMs)}`,
    );
  const failures = [...(kill?.failures ?? []), ...(pause?.failures ?? []), ...(killSwitch?.failures ?? [])];
  if (failures.length) out.push("", "## Failed samples", "", ...failures.map((f) => `- ${f}`));
  out.push("");
  return out;
}

/** Hand-written reading of the figures (bench/analysis.md), kept apart from the generated part. */
async function analysis(): Promise<string[]> {
  const text = await readFile(resolve(import.meta.dirname, "../../bench/analysis.md"), "utf8").catch(() => "");
  return text ? [text.trim(), ""] : [];
}

try {
  await main();
} catch (e) {
  console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
