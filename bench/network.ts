// Benchmark: apply->effective and revert->clean latency of network loss and bandwidth, p50/p95,
// chaosctl's way (driver -> guard container whose prelude applies and re-observes the namespace
// before chaosctl loads in it; apply returns on the guard's `applied` record) beside the
// practice's way (a helper container run by hand: `docker run --network container:<t>
// --cap-add NET_ADMIN <image> iptables|tc ...`, one for apply and one for revert).
// Needs the engine, local/web:1, local/node-base:20 and local/chaosctl:dev (scripts/swarm-up.sh).
// Run: npm run build && node dist/bench/network.js [iterations]   (default 10, at most 50)
// A/B of a change to the guard: BENCH_NET_BEFORE_IMAGE=<an image of the code before it> adds a
// third way, the same driver with that image as the guard's (and BENCH_NET_BEFORE_POLL_MS: its
// poll for the guard's `applied` record, when the change moved that too); each round's first way
// rotates.
import { randomBytes } from "node:crypto";
import { DockerEngine } from "../src/engine/docker.js";
import type { InjectionHandle, Target } from "../src/faults/driver.js";
import { networkDriver } from "../src/faults/network/driver.js";
import { networkInjection } from "../src/faults/network/injection.js";
import type { ResolvedNetworkSpec } from "../src/faults/network/spec.js";
import { netnsDriver } from "../src/faults/netns/driver.js";
import { docker, helperInNetns } from "./docker-cli.js";
import { percentile } from "./stats.js";

const WEB = "local/web:1";
const BASE = "local/node-base:20";
const APP = "local/chaosctl:dev";

const pct = (xs: readonly number[], p: number): number => Math.round(percentile(xs, p));

interface Row {
  fault: string;
  way: string;
  applyMs: number[];
  revertMs: number[];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function benchNetwork(
  iterations = 10,
  beforeImage = process.env.BENCH_NET_BEFORE_IMAGE || undefined,
  beforePollMs = Number(process.env.BENCH_NET_BEFORE_POLL_MS) || undefined,
): Promise<Row[]> {
  const n = Math.max(1, Math.min(50, iterations));
  const engine = new DockerEngine();
  const nodeId = await docker(["info", "-f", "{{.Swarm.NodeID}}"]);
  const target = await docker(["run", "-d", "--label", "chaosctl.bench=network", WEB]);
  const rows: Row[] = [];
  try {
    const t: Target = { kind: "container", nodeId, containerId: target };
    const ctx = { engine, image: APP, now: new Date() };
    const faults = {
      loss: {
        spec: { loss: { probability: 0.3 } },
        apply: [
          "iptables",
          "-A",
          "OUTPUT",
          "-m",
          "statistic",
          "--mode",
          "random",
          "--probability",
          "0.3",
          "-j",
          "DROP",
        ],
      },
      bandwidth: {
        spec: { bandwidth: { rate: "1mbit" } },
        apply: [
          "tc",
          "qdisc",
          "add",
          "dev",
          "eth0",
          "root",
          "tbf",
          "rate",
          "1mbit",
          "burst",
          "32kb",
          "latency",
          "400ms",
        ],
      },
    };
    const byHand = (argv: string[]) => helperInNetns(target, BASE, argv);
    for (const [fault, f] of Object.entries(faults)) {
      const ours: Row = { fault, way: "chaosctl (guard prelude)", applyMs: [], revertMs: [] };
      const hand: Row = { fault, way: "by hand (docker run helper)", applyMs: [], revertMs: [] };
      const before: Row = {
        fault,
        way: `before (guard image ${beforeImage}${beforePollMs ? `, poll ${beforePollMs} ms` : ""})`,
        applyMs: [],
        revertMs: [],
      };
      // An image from before the shell prelude has no netns-guard.sh: its guard runs Node.js's prelude.
      const driverBefore = netnsDriver<ResolvedNetworkSpec>("network", networkInjection, {
        prelude: "node",
        ...(beforePollMs ? { pollMs: beforePollMs } : {}),
      });
      const viaDriver =
        (row: Row, image: string, driver = networkDriver) =>
        async () => {
          const owner = {
            schedule: "bench/network",
            generation: 1,
            run: randomBytes(4).toString("hex"),
            expires: new Date(Date.now() + 300_000),
          };
          const c = { ...ctx, image };
          let handle: InjectionHandle | undefined;
          row.applyMs.push(
            await timed(async () => {
              const r = await driver.apply(c, t, f.spec, owner);
              if (r.phase !== "Injected") throw new Error(`apply ${fault}: ${JSON.stringify(r)}`);
              handle = r.handle;
            }),
          );
          row.revertMs.push(
            await timed(async () => {
              const r = await driver.recover(c, handle!);
              if (r.phase !== "Recovered") throw new Error(`recover ${fault}: ${JSON.stringify(r)}`);
            }),
          );
        };
      const revert =
        fault === "loss" ? f.apply.map((a) => (a === "-A" ? "-D" : a)) : ["tc", "qdisc", "del", "dev", "eth0", "root"];
      const ways = [
        viaDriver(ours, APP),
        async () => {
          hand.applyMs.push(await timed(() => byHand(f.apply)));
          hand.revertMs.push(await timed(() => byHand(revert)));
        },
        ...(beforeImage ? [viaDriver(before, beforeImage, driverBefore)] : []),
      ];
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < ways.length; k++) await ways[(i + k) % ways.length]!();
      }
      rows.push(ours, hand, ...(beforeImage ? [before] : []));
    }
  } finally {
    await docker(["rm", "-f", target]).catch(() => undefined);
  }
  return rows;
}

export function formatRows(rows: Row[]): string {
  const lines = ["fault      way                           apply p50/p95 ms   revert p50/p95 ms"];
  for (const r of rows) {
    lines.push(
      `${r.fault.padEnd(10)} ${r.way.padEnd(29)} ${`${pct(r.applyMs, 50)}/${pct(r.applyMs, 95)}`.padEnd(18)} ${pct(r.revertMs, 50)}/${pct(r.revertMs, 95)}`,
    );
  }
  lines.push("raw samples (ms, in order):");
  for (const r of rows)
    lines.push(
      `${r.fault} ${r.way}: apply ${r.applyMs.map(Math.round).join(" ")}; revert ${r.revertMs.map(Math.round).join(" ")}`,
    );
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchNetwork(Number(process.argv[2] ?? 10));
  console.log(formatRows(rows));
}
