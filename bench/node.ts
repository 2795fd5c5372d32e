// Benchmark: node faults' apply→effective on a real three-node Swarm (scripts/cluster/up.sh: one
// dockerd per network namespace, node 1 the manager), chaosctl's driver beside the direct way,
// samples interleaved so both see the same load:
// - drain of node 2: the driver (a guard on the manager labels the node and sets `drain`; apply
//   returns once the manager reads the node back drained) beside `docker node update
//   --availability drain` on the manager (returns once the update is committed);
// - partition of node 3: the driver (a guard on node 3, host network, NET_ADMIN, adds its owned
//   iptables chain; apply returns once the guard logged `applied`) beside the same drops set by
//   hand in node 3's namespace (`ip netns exec <ns> sh -c 'iptables -I ...'`, as an operator on the
//   node would type them).
// Each sample is reverted before the next (the driver's recover; the same rules deleted by hand),
// long before the manager would mark the node Down. Needs root and the host's images
// (scripts/swarm-up.sh); the cluster is started here and removed at the end.
// Run: npm run build && node dist/bench/node.js [rounds]   (default 10)
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { DockerEngine } from "../src/engine/docker.js";
import type { DriverContext, InjectionHandle, Owner, Target } from "../src/faults/driver.js";
import { faultDrivers } from "../src/faults/registry.js";
import { APP_IMAGE } from "./fixture.js";
import { p50p95 } from "./stats.js";

const SCRIPTS = fileURLToPath(new URL("../../scripts/cluster/", import.meta.url));

export interface NodeSamples {
  drain: { chaosctl: number[]; byHand: number[] };
  partition: { chaosctl: number[]; byHand: number[] };
  failures: string[];
}

interface Node {
  id: string;
  hostname: string;
  socket: string;
  netns: string;
  engine: DockerEngine;
}

function run(file: string, args: string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`${file} ${args.slice(0, 3).join(" ")}: ${(stderr || err.message).trim()}`))
          : resolve(stdout.trim()),
    ),
  );
}

function nodesFromEnv(text: string): Node[] {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env.set(m[1] as string, m[2] as string);
  }
  const get = (k: string): string => {
    const v = env.get(k);
    if (!v) throw new Error(`up.sh printed no ${k}`);
    return v;
  };
  const out: Node[] = [];
  for (let i = 1; i <= Number(get("CLUSTER_NODES")); i++) {
    const socket = get(`NODE_${i}_SOCKET`);
    out.push({
      id: get(`NODE_${i}_ID`),
      hostname: get(`NODE_${i}_HOSTNAME`),
      socket,
      netns: get(`NODE_${i}_NETNS`),
      engine: new DockerEngine({ socketPath: socket }),
    });
  }
  return out;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The Swarm ports a partition cuts (as the driver does), both directions, as a person types them. */
const HAND_RULES = [
  "INPUT -p tcp -m multiport --dports 2377,7946 -j DROP",
  "INPUT -p udp -m multiport --dports 7946,4789 -j DROP",
  "OUTPUT -p tcp -m multiport --dports 2377,7946 -j DROP",
  "OUTPUT -p udp -m multiport --dports 7946,4789 -j DROP",
];
const handScript = (op: "-I" | "-D"): string => HAND_RULES.map((r) => `iptables -w ${op} ${r}`).join(" && ");

export async function benchNode(rounds = 10, log: (s: string) => void = () => undefined): Promise<NodeSamples> {
  const name = `b${randomBytes(3).toString("hex")}`;
  const out: NodeSamples = {
    drain: { chaosctl: [], byHand: [] },
    partition: { chaosctl: [], byHand: [] },
    failures: [],
  };
  log(`three-node cluster ${name} (scripts/cluster/up.sh)`);
  const envText = await run("bash", [`${SCRIPTS}up.sh`, name, "3"], 300_000, {
    CLUSTER_OWNER_PID: String(process.pid),
  });
  try {
    const nodes = nodesFromEnv(envText);
    const [manager, worker, cut] = nodes as [Node, Node, Node];
    const driver = faultDrivers.get("node")!;
    const onManager = (args: string[]): Promise<string> => run("docker", ["-H", `unix://${manager.socket}`, ...args]);
    const sample = async (action: "drain" | "partition", node: Node, i: number, into: number[]): Promise<void> => {
      const ctx: DriverContext = {
        engine: node.engine,
        nodeId: node.id,
        manager: manager.engine,
        image: APP_IMAGE,
        now: new Date(),
      };
      const target: Target = { kind: "node", nodeId: node.id, nodeHostname: node.hostname };
      const owner: Owner = {
        schedule: `bench/node-${action}`,
        generation: 1,
        run: `${action}-${i}-${randomBytes(3).toString("hex")}`,
        expires: new Date(Date.now() + 120_000),
      };
      let handle: InjectionHandle | undefined;
      const ms = await timed(async () => {
        const r = await driver.apply(ctx, target, { action }, owner);
        if (r.phase === "Injected") handle = r.handle;
        else out.failures.push(`${action} ${i}: ${JSON.stringify(r)}`);
      });
      if (!handle) return;
      into.push(ms);
      const back = await driver.recover({ ...ctx, now: new Date() }, handle);
      if (back.phase !== "Recovered") throw new Error(`${action} ${i}: recover ${JSON.stringify(back)}`);
    };
    for (let i = 0; i < rounds; i++) {
      log(`node faults: round ${i + 1} of ${rounds}`);
      await sample("drain", worker, i, out.drain.chaosctl);
      out.drain.byHand.push(await timed(() => onManager(["node", "update", "--availability", "drain", worker.id])));
      await onManager(["node", "update", "--availability", "active", worker.id]);
      await sample("partition", cut, i, out.partition.chaosctl);
      out.partition.byHand.push(
        await timed(() => run("ip", ["netns", "exec", cut.netns, "sh", "-c", handScript("-I")])),
      );
      await run("ip", ["netns", "exec", cut.netns, "sh", "-c", handScript("-D")]);
    }
  } finally {
    await run("bash", [`${SCRIPTS}down.sh`, name], 120_000).catch((e: Error) => log(`down.sh ${name}: ${e.message}`));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await benchNode(Number(process.argv[2] ?? 10), (m) => process.stderr.write(`[bench] ${m}\n`));
  console.log(`drain: chaosctl ${p50p95(s.drain.chaosctl)}; docker node update ${p50p95(s.drain.byHand)}`);
  console.log(`partition: chaosctl ${p50p95(s.partition.chaosctl)}; iptables by hand ${p50p95(s.partition.byHand)}`);
  for (const f of s.failures) console.log(`failed: ${f}`);
}
