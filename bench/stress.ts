// stress: apply→effective (the stressor running in the target's cgroup) and revert→clean (the
// stressor gone), chaosctl's driver beside the same stress-ng started by hand with `docker run
// --cgroup-parent ... --pid container:...` and ended with `docker rm -f`. Samples alternate.
// Standalone: `node dist/bench/stress.js [runs]` (needs the one-node Swarm and the images).
import { DockerEngine } from "../src/engine/docker.js";
import type { DriverContext, Owner, Target } from "../src/faults/driver.js";
import { stressDriver } from "../src/faults/stress/driver.js";
import { DEFAULT_STRESS_IMAGE } from "../src/faults/stress/spec.js";
import { docker, sleep } from "./docker-cli.js";
import { APP_IMAGE, WEB_IMAGE } from "./fixture.js";
import { table, type Row } from "./report.js";
import { median, p50p95 } from "./stats.js";

export interface StressSamples {
  applyChaosctl: number[];
  applyHand: number[];
  revertChaosctl: number[];
  revertHand: number[];
  failures: string[];
}

export async function benchStress(targetId: string, runs: number): Promise<StressSamples> {
  const engine = new DockerEngine();
  const driver = stressDriver();
  const ctx = (): DriverContext => ({ engine, image: APP_IMAGE, now: new Date(), guardApplyTimeoutMs: 60_000 });
  const target: Target = { kind: "container", nodeId: "", containerId: targetId };
  const out: StressSamples = { applyChaosctl: [], applyHand: [], revertChaosctl: [], revertHand: [], failures: [] };
  const stamp = Date.now().toString(36);
  for (let i = 0; i < runs; i++) {
    const owner: Owner = {
      schedule: "default/bench-stress",
      generation: 1,
      run: `bench-${stamp}-${i}`,
      instance: `bench-${process.pid}`,
      expires: new Date(Date.now() + 120_000),
    };
    let t = performance.now();
    const r = await driver.apply(ctx(), target, { cpu: { workers: 1, load: 100 } }, owner);
    if (r.phase !== "Injected") {
      out.failures.push(`apply ${i}: ${JSON.stringify(r)}`);
      continue;
    }
    out.applyChaosctl.push(performance.now() - t);
    t = performance.now();
    const back = await driver.recover(ctx(), r.handle);
    if (back.phase !== "Recovered") out.failures.push(`recover ${i}: ${JSON.stringify(back)}`);
    else out.revertChaosctl.push(performance.now() - t);
    await sleep(500);

    t = performance.now();
    const id = await docker([
      "run",
      "-d",
      "--label",
      `chaosctl-bench=${process.pid}`,
      "--cgroup-parent",
      `/docker/${targetId}`,
      "--pid",
      `container:${targetId}`,
      "--network",
      "none",
      DEFAULT_STRESS_IMAGE,
      "--cpu",
      "1",
      "--cpu-load",
      "100",
      "--timeout",
      "120s",
    ]);
    out.applyHand.push(performance.now() - t);
    t = performance.now();
    await docker(["rm", "-f", id]);
    out.revertHand.push(performance.now() - t);
    await sleep(500);
  }
  return out;
}

/** The bench's own target: a plain busybox httpd container, removed after. */
export async function runStressBench(runs: number): Promise<StressSamples> {
  const target = await docker([
    "run",
    "-d",
    "--label",
    `chaosctl-bench=${process.pid}`,
    "--network",
    "none",
    WEB_IMAGE,
  ]);
  try {
    return await benchStress(target, runs);
  } finally {
    await docker(["rm", "-f", target]);
  }
}

export function stressRows(s: StressSamples): Row[] {
  const row = (measure: string, a: number[], b: number[], how: string): Row => ({
    measure,
    chaosctl: p50p95(a),
    baseline: `${p50p95(b)}: ${how}${a.length && b.length ? ` (chaosctl/hand ${(median(a) / median(b)).toFixed(1)}x)` : ""}`,
    goal: "(no goal set)",
  });
  return [
    row(
      "stress apply→effective (guard started → stress-ng running in the task's cgroup), p50 / p95",
      s.applyChaosctl,
      s.applyHand,
      "`docker run -d --cgroup-parent /docker/<task> --pid container:<task> stress-ng`",
    ),
    row(
      "stress revert→clean (stress-ng stopped and its container gone), p50 / p95",
      s.revertChaosctl,
      s.revertHand,
      "`docker rm -f`",
    ),
  ];
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const s = await runStressBench(runs);
  console.log(table(stressRows(s)));
  console.log(`\n${runs} runs each, alternating; failures: ${s.failures.length ? s.failures.join("; ") : "none"}`);
}

if (process.argv[1]?.endsWith("/bench/stress.js")) await main();
