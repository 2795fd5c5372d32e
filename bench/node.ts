// Benchmark: node faults' apply→effective on a real three-node Swarm (scripts/cluster/up.sh: one
// dockerd per network namespace, node 1 the manager), chaosctl's driver beside the direct way,
// samples interleaved so both see the same load:
// - drain of node 2: the driver (a guard on the manager labels the node and sets `drain`; apply
//   returns once the manager reads the node back drained) beside `docker node update
//   --availability drain` on the manager (returns once the update is committed);
// - partition of node 3: the driver (a guard on node 3, host network, NET_ADMIN, adds its owned
//   iptables chain from its shell prelude, one iptables-restore before Node.js starts; apply returns
//   once the guard logged `applied`) beside the same drops set by
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
import type { HelperSpec } from "../src/engine/engine.js";
import type { DriverContext, InjectionHandle, Owner, Target } from "../src/faults/driver.js";
import { NETNS_GUARD_ENTRYPOINT } from "../src/faults/netns/guard-spec.js";
import { isShellEntry, SHELL_PRELUDE_ARGS } from "../src/faults/netns/shell-prelude.js";
import { nodeDriver } from "../src/faults/node/driver.js";
import { faultDrivers } from "../src/faults/registry.js";
import { EventLog } from "./events.js";
import { APP_IMAGE } from "./fixture.js";
import { firstRecordAt } from "./guard-records.js";
import { p50p95 } from "./stats.js";

const SCRIPTS = fileURLToPath(new URL("../../scripts/cluster/", import.meta.url));

/**
 * apply → effective, each way in its own terms: a drain ends at the manager's node event that says
 * `availability.new=drain` (Docker's `timeNano`, both ways); a partition ends when its rules are in:
 * the time of the guard's `applied` record (written right after its iptables returned), and for the
 * hand-typed rules when the command returns. `applyReturn`: when chaosctl's apply returned (what a
 * run's status sees; it also waits for the guard's start to be answered).
 */
export interface NodeSamples {
  drain: { chaosctl: number[]; byHand: number[]; applyReturn: number[] };
  partition: { chaosctl: number[]; byHand: number[]; applyReturn: number[] };
  /**
   * With BENCH_NODE_BEFORE=1, a third way in the same rounds, the driver as it was before:
   * - drain: before the manager's node id came with the context and the apply's poll went from 200
   *   to 20 ms (a driver with pollMs 200, a context without managerNodeId: it reads the cluster);
   * - partition: before its guard applied from the shell prelude (netns-guard.sh, one
   *   iptables-restore): today's driver whose guard starts from Node.js's entry, whose prelude
   *   applies once Node.js has started;
   * its guards from BENCH_NODE_BEFORE_IMAGE when set (an image of the code before a guard's change).
   */
  before?: { drain: NodeSamples["drain"]; partition: NodeSamples["drain"] };
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

/**
 * The node's engine, but a guard the driver starts from the shell prelude's entry starts from
 * Node.js's, with the guard verb's argv alone (a partition guard before the shell prelude).
 */
function nodeJsEntry(engine: DockerEngine): DockerEngine {
  const strip = (hs: HelperSpec): HelperSpec =>
    isShellEntry(hs.entrypoint)
      ? { ...hs, entrypoint: [...NETNS_GUARD_ENTRYPOINT], cmd: hs.cmd.slice(SHELL_PRELUDE_ARGS) }
      : hs;
  return new Proxy(engine, {
    get(t, p) {
      if (p === "launchHelper") return (hs: HelperSpec) => t.launchHelper(strip(hs));
      if (p === "startHelper") return (hs: HelperSpec) => t.startHelper(strip(hs));
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

export async function benchNode(rounds = 10, log: (s: string) => void = () => undefined): Promise<NodeSamples> {
  const name = `b${randomBytes(3).toString("hex")}`;
  const out: NodeSamples = {
    drain: { chaosctl: [], byHand: [], applyReturn: [] },
    partition: { chaosctl: [], byHand: [], applyReturn: [] },
    ...(process.env.BENCH_NODE_BEFORE === "1"
      ? {
          before: {
            drain: { chaosctl: [], byHand: [], applyReturn: [] },
            partition: { chaosctl: [], byHand: [], applyReturn: [] },
          },
        }
      : {}),
    failures: [],
  };
  log(`three-node cluster ${name} (scripts/cluster/up.sh)`);
  const envText = await run("bash", [`${SCRIPTS}up.sh`, name, "3"], 300_000, {
    CLUSTER_OWNER_PID: String(process.pid),
  });
  try {
    const nodes = nodesFromEnv(envText);
    const [manager, worker, cut] = nodes as [Node, Node, Node];
    const current = faultDrivers.get("node")!;
    const before = out.before ? nodeDriver({ pollMs: 200 }) : undefined;
    const onManager = (args: string[]): Promise<string> => run("docker", ["-H", `unix://${manager.socket}`, ...args]);
    const nodeEvents = new EventLog(new DockerEngine({ socketPath: manager.socket }), "node");
    /** The manager's event for `node` becoming drained, since `t0` (ms since the epoch). */
    const drained = (node: Node, t0: number): Promise<number | undefined> =>
      nodeEvents
        .next((e) => e.id === node.id && e.attributes["availability.new"] === "drain", t0, 5_000)
        .then((e) => (e ? e.time.getTime() - t0 : undefined));
    /** When the guard logged `applied` (its own clock: the same machine's), since `t0`. */
    const appliedAt = async (node: Node, guardId: string, t0: number): Promise<number | undefined> => {
      const at = firstRecordAt(await node.engine.containerLogs(guardId, 50), "applied");
      return at === undefined ? undefined : at - t0;
    };
    const sample = async (
      action: "drain" | "partition",
      node: Node,
      i: number,
      into: NodeSamples["drain"],
      driver = current,
      engine = node.engine,
    ) => {
      const ctx: DriverContext = {
        engine,
        nodeId: node.id,
        manager: manager.engine,
        ...(driver === current ? { managerNodeId: manager.id } : {}),
        image:
          driver === current && engine === node.engine ? APP_IMAGE : process.env.BENCH_NODE_BEFORE_IMAGE || APP_IMAGE,
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
      const t0 = Date.now();
      const ms = await timed(async () => {
        const r = await driver.apply(ctx, target, { action }, owner);
        if (r.phase === "Injected") handle = r.handle;
        else out.failures.push(`${action} ${i}: ${JSON.stringify(r)}`);
      });
      if (!handle) return;
      into.applyReturn.push(ms);
      const effective = action === "drain" ? await drained(node, t0) : await appliedAt(node, handle.guardId ?? "", t0);
      if (effective === undefined)
        out.failures.push(`${action} ${i}: no ${action === "drain" ? "node event" : "applied record"}`);
      else into.chaosctl.push(effective);
      const back = await driver.recover({ ...ctx, now: new Date() }, handle);
      if (back.phase !== "Recovered") throw new Error(`${action} ${i}: recover ${JSON.stringify(back)}`);
    };
    try {
      for (let i = 0; i < rounds; i++) {
        log(`node faults: round ${i + 1} of ${rounds}`);
        await sample("drain", worker, i, out.drain);
        if (before && out.before) await sample("drain", worker, i, out.before.drain, before);
        const t0 = Date.now();
        await onManager(["node", "update", "--availability", "drain", worker.id]);
        const byHand = await drained(worker, t0);
        if (byHand === undefined) out.failures.push(`drain by hand ${i}: no node event`);
        else out.drain.byHand.push(byHand);
        await onManager(["node", "update", "--availability", "active", worker.id]);
        await sample("partition", cut, i, out.partition);
        if (out.before) await sample("partition", cut, i, out.before.partition, current, nodeJsEntry(cut.engine));
        out.partition.byHand.push(
          await timed(() => run("ip", ["netns", "exec", cut.netns, "sh", "-c", handScript("-I")])),
        );
        await run("ip", ["netns", "exec", cut.netns, "sh", "-c", handScript("-D")]);
      }
    } finally {
      nodeEvents.close();
    }
  } finally {
    await run("bash", [`${SCRIPTS}down.sh`, name], 120_000).catch((e: Error) => log(`down.sh ${name}: ${e.message}`));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await benchNode(Number(process.argv[2] ?? 10), (m) => process.stderr.write(`[bench] ${m}\n`));
  console.log(
    `drain: chaosctl ${p50p95(s.drain.chaosctl)} (apply returned ${p50p95(s.drain.applyReturn)}); docker node update ${p50p95(s.drain.byHand)}`,
  );
  console.log(
    `partition: chaosctl ${p50p95(s.partition.chaosctl)} (apply returned ${p50p95(s.partition.applyReturn)}); iptables by hand ${p50p95(s.partition.byHand)}`,
  );
  if (s.before)
    for (const k of ["drain", "partition"] as const)
      console.log(
        `${k}, the driver before: ${p50p95(s.before[k].chaosctl)} (apply returned ${p50p95(s.before[k].applyReturn)})`,
      );
  for (const f of s.failures) console.log(`failed: ${f}`);
}
