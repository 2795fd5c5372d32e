// A real multi-node Swarm for tests: scripts/cluster/up.sh starts one dockerd per
// network namespace (own hostname, own docker.sock), down.sh removes all of it.
// sharedCluster(): the one three-node, one-manager cluster of a test run, started by the
// first file that asks and reset before every later one (every engine up, every node Ready
// and active, no service, container, secret or config left); the docker group's global
// teardown removes it. startCluster(): a cluster of one's own, only for a topology the shared
// one does not have (say why in the test); stop it in afterAll.
// Node 0 (hostname NAME-1) is the manager that initialised the swarm.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { CLUSTER_RUN_ROOT, downCluster, sharedClusterName } from "./shared-cluster.js";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DockerResult } from "./docker.js";

const SCRIPTS = fileURLToPath(new URL("../../scripts/cluster/", import.meta.url));
const RUN_ROOT = CLUSTER_RUN_ROOT;

export interface ClusterNode {
  /** Position in `nodes` (0-based); the hostname and netns end in index + 1. */
  index: number;
  /** Swarm node id. */
  id: string;
  hostname: string;
  role: "manager" | "worker";
  /** The node's address on the cluster bridge; the host (tests) reaches it directly. */
  addr: string;
  /** The node engine's socket, as the host sees it. */
  socket: string;
  /** Network namespace (`ip netns exec` is wrong for dockerd but fine for ip/iptables). */
  netns: string;
  engine: DockerEngine;
}

export interface Cluster {
  name: string;
  bridge: string;
  /** The host's address on the cluster bridge (what nodes see as the host). */
  hostAddr: string;
  nodes: ClusterNode[];
  /** `docker -H unix://<node socket> ...args` on node `index`; never throws for a non-zero exit. */
  docker(index: number, args: string[], opts?: { timeoutMs?: number }): Promise<DockerResult>;
  /** Like docker() but returns trimmed stdout and throws with stderr on failure. */
  dockerOk(index: number, args: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** Stops (SIGTERM, containers stop), kills (SIGKILL, containers keep running) or starts node `index`'s engine. */
  node(index: number, action: "stop" | "kill" | "start"): Promise<void>;
  /** Removes the whole cluster (engines, netns, bridge, iptables rule, data). Idempotent. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Cluster name (a lowercase letter + up to 7 letters/digits); default: unique "t" + 6 hex. */
  name?: string;
  /** Number of nodes (default 3). */
  nodes?: number;
  /** How many of them are managers (default 1; 3 for quorum tests). */
  managers?: number;
  /** The process whose death makes the cluster an orphan (default: this one). */
  ownerPid?: number;
}

async function waitFor<T>(cond: () => Promise<T | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond().catch(() => false as const);
    if (v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function run(file: string, args: string[], timeoutMs: number, env?: Record<string, string>): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const o = { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, ...(env ? { env: { ...process.env, ...env } } : {}) };
    execFile(file, args, o, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") {
        reject(new Error(`${file} ${args.join(" ")}: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** Parses up.sh's env output (KEY=value lines). */
export function parseClusterEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env.set(m[1] as string, m[2] as string);
  }
  return env;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Removes clusters that a test process started and left behind when it died (killed, timed
 * out: no afterAll). Only clusters recorded with an owner pid that no longer runs; clusters of
 * live test runs and ones started by hand are left alone.
 */
export async function reapOrphanClusters(): Promise<string[]> {
  const reaped: string[] = [];
  const names = await readdir(RUN_ROOT).catch(() => [] as string[]);
  for (const name of names) {
    const owner = Number((await readFile(`${RUN_ROOT}/${name}/owner`, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    const r = await run("bash", [`${SCRIPTS}down.sh`, name], 120_000);
    if (r.code === 0) reaped.push(name);
  }
  return reaped;
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  await reapOrphanClusters();
  const name = opts.name ?? `t${randomBytes(3).toString("hex")}`;
  const args = [`${SCRIPTS}up.sh`, name, String(opts.nodes ?? 3), "--managers", String(opts.managers ?? 1)];
  const up = await run("bash", args, 240_000, { CLUSTER_OWNER_PID: String(opts.ownerPid ?? process.pid) });
  if (up.code !== 0) {
    await downCluster(name); // up.sh cleans up after itself; this covers a timeout kill
    throw new Error(`up.sh ${name} exited ${up.code}:\n${up.stderr.trim().split("\n").slice(-15).join("\n")}`);
  }
  return clusterFromEnv(name, up.stdout);
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The vitest main process of this run (test/helpers/docker-setup.ts). */
    testRunPid: number;
    /** The vitest project (docker lane) of the running file. */
    dockerLane: string;
  }
}

/**
 * The run's shared three-node cluster (one manager), reset to a clean state. Its stop() does
 * nothing: later files use it, and the docker group's global teardown removes it.
 */
export async function sharedCluster(): Promise<Cluster> {
  const lane = inject("dockerLane");
  if (lane !== "docker-cluster")
    throw new Error(
      `sharedCluster() in lane "${lane}": a file that uses the shared cluster belongs to the "docker-cluster" lane (vitest.config.ts CLUSTER_LANE)`,
    );
  const runPid = inject("testRunPid");
  const name = sharedClusterName(runPid);
  const envText = await readFile(`${RUN_ROOT}/${name}/env`, "utf8").catch(() => undefined);
  const cluster = envText
    ? clusterFromEnv(name, envText)
    : await startCluster({ name, nodes: 3, managers: 1, ownerPid: runPid });
  await resetCluster(cluster);
  return { ...cluster, stop: async () => undefined };
}

/**
 * What a fresh cluster has and a previous file may have changed: every engine answers, every
 * node is Ready and active with no labels, and no service, secret, config, custom network or
 * container is left. Leftovers are removed by id and reported (a file that leaves them is a
 * bug there, not here).
 */
export async function resetCluster(c: Cluster): Promise<void> {
  const lines = (s: string): string[] =>
    s
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  const left: string[] = [];
  for (const n of c.nodes)
    if ((await c.docker(n.index, ["info", "-f", "{{.ID}}"])).code !== 0) await c.node(n.index, "start");
  // A restarted manager answers before its Swarm API does.
  await waitFor(async () => (await c.docker(0, ["node", "ls", "-q"])).code === 0, 120_000, "the manager's Swarm API");
  const services = lines(await c.dockerOk(0, ["service", "ls", "-q"]));
  if (services.length) {
    left.push(`services ${services.join(" ")}`);
    await c.dockerOk(0, ["service", "rm", ...services]);
  }
  for (const kind of ["secret", "config"]) {
    const ids = lines(await c.dockerOk(0, [kind, "ls", "-q"]));
    if (ids.length) {
      left.push(`${kind}s ${ids.join(" ")}`);
      await c.dockerOk(0, [kind, "rm", ...ids]);
    }
  }
  for (const n of c.nodes) {
    const ids = lines(await c.dockerOk(n.index, ["ps", "-aq"]));
    if (ids.length) {
      left.push(`containers on ${n.hostname}: ${ids.join(" ")}`);
      await c.docker(n.index, ["rm", "-f", ...ids]);
    }
  }
  const networks = lines(
    await c.dockerOk(0, ["network", "ls", "-q", "--filter", "type=custom", "--filter", "scope=swarm"]),
  );
  for (const id of networks) {
    const name = await c.dockerOk(0, ["network", "inspect", "-f", "{{.Name}}", id]);
    if (name === "ingress") continue;
    left.push(`network ${name}`);
    await c.docker(0, ["network", "rm", id]);
  }
  await waitFor(
    async () => {
      const nodes = JSON.parse(await c.dockerOk(0, ["node", "inspect", ...c.nodes.map((n) => n.id)])) as Array<{
        ID: string;
        Status: { State: string };
        Spec: { Availability: string; Labels?: Record<string, string> };
      }>;
      for (const n of nodes) {
        const labels = Object.keys(n.Spec.Labels ?? {});
        if (n.Spec.Availability !== "active" || labels.length) {
          left.push(`node ${n.ID}: ${n.Spec.Availability} ${labels.join(",")}`);
          await c.dockerOk(0, [
            "node",
            "update",
            "--availability",
            "active",
            ...labels.flatMap((l) => ["--label-rm", l]),
            n.ID,
          ]);
        }
      }
      return nodes.every((n) => n.Status.State === "ready");
    },
    180_000,
    "every node of the shared cluster Ready",
  );
  if (left.length)
    console.warn(`shared cluster ${c.name}: reset removed what a previous file left: ${left.join("; ")}`);
}

function clusterFromEnv(name: string, envText: string): Cluster {
  const env = parseClusterEnv(envText);
  const get = (key: string): string => {
    const v = env.get(key);
    if (v === undefined || v === "") throw new Error(`up.sh ${name}: no ${key} in its env output`);
    return v;
  };
  const count = Number(get("CLUSTER_NODES"));
  const nodes: ClusterNode[] = [];
  for (let n = 1; n <= count; n++) {
    const socket = get(`NODE_${n}_SOCKET`);
    nodes.push({
      index: n - 1,
      id: get(`NODE_${n}_ID`),
      hostname: get(`NODE_${n}_HOSTNAME`),
      role: get(`NODE_${n}_ROLE`) === "manager" ? "manager" : "worker",
      addr: get(`NODE_${n}_ADDR`),
      socket,
      netns: get(`NODE_${n}_NETNS`),
      engine: new DockerEngine({ socketPath: socket }),
    });
  }
  const nodeAt = (index: number): ClusterNode => {
    const node = nodes[index];
    if (!node) throw new Error(`cluster ${name} has no node ${index} (0..${nodes.length - 1})`);
    return node;
  };
  const dockerOn = (index: number, a: string[], o: { timeoutMs?: number } = {}): Promise<DockerResult> =>
    run("docker", ["-H", `unix://${nodeAt(index).socket}`, ...a], o.timeoutMs ?? 60_000);
  let stopped = false;
  return {
    name,
    bridge: get("CLUSTER_BRIDGE"),
    hostAddr: get("CLUSTER_HOST_ADDR"),
    nodes,
    docker: dockerOn,
    async dockerOk(index, a, o) {
      const r = await dockerOn(index, a, o);
      if (r.code !== 0)
        throw new Error(`docker@${nodeAt(index).hostname} ${a.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout.trim();
    },
    async node(index, action) {
      const r = await run("bash", [`${SCRIPTS}node.sh`, name, String(nodeAt(index).index + 1), action], 120_000);
      if (r.code !== 0) throw new Error(`node.sh ${name} ${index + 1} ${action} exited ${r.code}: ${r.stderr.trim()}`);
    },
    async stop() {
      if (stopped) return;
      await downCluster(name);
      stopped = true;
    },
  };
}
