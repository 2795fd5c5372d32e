// The three-node test cluster itself (scripts/cluster/up.sh, down.sh, node.sh) on real
// engines: three dockerd in their own network, UTS and mount namespaces, one Swarm.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedCluster, startCluster, type Cluster } from "../helpers/cluster.js";
import { APP_IMAGE, WEB_IMAGE, waitFor } from "../helpers/docker.js";

const exec = promisify(execFile);
let cluster: Cluster;

interface RawNode {
  ID: string;
  Description: { Hostname: string };
  Status: { State: string; Addr: string };
  Spec: { Role: string };
}
interface RawTask {
  NodeID: string;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}

const onManager = (args: string[]): Promise<string> => cluster.dockerOk(0, args);
async function nodesSeenByManager(): Promise<RawNode[]> {
  const ids = (await onManager(["node", "ls", "-q"])).split("\n").filter(Boolean);
  return JSON.parse(await onManager(["node", "inspect", ...ids])) as RawNode[];
}
async function tasksOf(service: string): Promise<RawTask[]> {
  const ids = (await onManager(["service", "ps", "-q", "--no-trunc", service])).split("\n").filter(Boolean);
  return ids.length ? (JSON.parse(await onManager(["inspect", "--type", "task", ...ids])) as RawTask[]) : [];
}
function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 3_000 });
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("timeout", () => (sock.destroy(), resolve(false)));
    sock.once("error", () => resolve(false));
  });
}
const running = (tasks: RawTask[]): RawTask[] =>
  tasks.filter((t) => t.Status.State === "running" && t.DesiredState === "running");

beforeAll(async () => {
  cluster = await sharedCluster();
}, 240_000);

describe("three-node test cluster", () => {
  it("has 3 Ready nodes with distinct hostnames, the manager first, each node at its own address", async () => {
    const nodes = await nodesSeenByManager();
    expect(nodes.map((n) => n.Status.State)).toEqual(["ready", "ready", "ready"]);
    const byId = new Map(nodes.map((n) => [n.ID, n]));
    for (const node of cluster.nodes) {
      const seen = byId.get(node.id);
      expect(seen?.Description.Hostname).toBe(`${cluster.name}-${node.index + 1}`);
      expect(seen?.Description.Hostname).toBe(node.hostname);
      expect(seen?.Status.Addr).toBe(node.addr);
      expect(seen?.Spec.Role).toBe(node.index === 0 ? "manager" : "worker");
      // Each socket reaches that node's own engine, with both test images loaded.
      expect(await cluster.dockerOk(node.index, ["info", "-f", "{{.Swarm.NodeID}} {{.Name}}"])).toBe(
        `${node.id} ${node.hostname}`,
      );
      for (const image of [WEB_IMAGE, APP_IMAGE]) {
        expect((await cluster.docker(node.index, ["image", "inspect", image])).code).toBe(0);
      }
    }
    expect(new Set(cluster.nodes.map((n) => n.hostname)).size).toBe(3);
    // The host reaches every node's address through the bridge (every engine gossips on 7946/tcp there).
    for (const node of cluster.nodes) expect(await tcpConnects(node.addr, 7946)).toBe(true);
  });

  it("has no default route in any node and leaves the host's docker0 alone", async () => {
    for (const node of cluster.nodes) {
      const { stdout } = await exec("ip", ["-n", node.netns, "route", "show", "default"]);
      expect(stdout.trim()).toBe("");
    }
    expect(existsSync("/sys/class/net/docker0")).toBe(true);
  });

  it("spans an attachable overlay network (dnsrr) across nodes: node 2 fetches from a task on node 1", async () => {
    const net = await onManager(["network", "create", "-d", "overlay", "--attachable", `${cluster.name}-ov`]);
    let svc = "";
    try {
      svc = await onManager([
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        "web",
        "--network",
        net,
        "--endpoint-mode",
        "dnsrr",
        "--constraint",
        `node.hostname==${cluster.nodes[0]?.hostname}`,
        WEB_IMAGE,
      ]);
      await waitFor(async () => running(await tasksOf(svc)).length === 1, {
        timeoutMs: 30_000,
        what: "web task running",
      });
      // A plain container on the worker node 2 joins the same overlay and resolves the service by name.
      const out = await cluster.dockerOk(
        1,
        [
          "run",
          "--rm",
          "--network",
          `${cluster.name}-ov`,
          WEB_IMAGE,
          // busybox's own nslookup and nc: its static glibc getaddrinfo (wget) crashes here.
          "sh",
          "-c",
          "for i in 1 2 3 4 5 6 7 8 9 10; do ip=$(nslookup web 2>/dev/null | awk '/^Address/ && !/:53$/ {print $2}' | tail -n1); " +
            '[ -n "$ip" ] && printf \'GET / HTTP/1.0\\r\\n\\r\\n\' | nc -w 2 "$ip" 80 && exit 0; sleep 1; done; exit 1',
        ],
        { timeoutMs: 45_000 },
      );
      expect(out).toContain("chaosctl test web");
    } finally {
      // By id; the overlay can be removed only once the service's task has left it.
      if (svc) await onManager(["service", "rm", svc]);
      await waitFor(
        async () => {
          const r = await cluster.docker(0, ["network", "rm", net]);
          return r.code === 0 || /not found/i.test(r.stderr);
        },
        { timeoutMs: 30_000, what: "the overlay network removed" },
      );
    }
  }, 90_000);

  it("a global service mounting /var/run/docker.sock reaches its OWN node's engine on every node", async () => {
    const probe =
      "require('http').get({socketPath:'/var/run/docker.sock',path:'/info'},r=>{let d='';" +
      "r.on('data',c=>d+=c);r.on('end',()=>{const j=JSON.parse(d);console.log('NODE '+j.Swarm.NodeID+' '+j.Name)})});" +
      "setInterval(()=>{},1e6)";
    const svc = await onManager([
      "service",
      "create",
      "--detach",
      "--quiet",
      "--name",
      "sockprobe",
      "--mode",
      "global",
      "--mount",
      "type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock",
      // node as PID 1 ignores SIGTERM: its stop would wait out Swarm's 10 s grace (and delay
      // the engine stop of the next test, which waits for its containers).
      "--stop-grace-period",
      "1s",
      "--entrypoint",
      "node",
      APP_IMAGE,
      "-e",
      probe,
    ]);
    const tasks = await waitFor(
      async () => {
        const r = running(await tasksOf(svc));
        return r.length === 3 ? r : undefined;
      },
      { timeoutMs: 45_000, what: "3 sockprobe tasks running" },
    );
    expect(new Set(tasks.map((t) => t.NodeID))).toEqual(new Set(cluster.nodes.map((n) => n.id)));
    for (const node of cluster.nodes) {
      const task = tasks.find((t) => t.NodeID === node.id);
      const cid = task?.Status.ContainerStatus?.ContainerID ?? "";
      // The container runs on this node's engine, and what it reached through the mounted socket is this node.
      const line = await waitFor(
        async () => {
          const logs = await cluster.dockerOk(node.index, ["logs", cid]);
          return /NODE \S+ \S+/.exec(logs)?.[0];
        },
        { timeoutMs: 20_000, what: `sockprobe output on ${node.hostname}` },
      );
      expect(line).toBe(`NODE ${node.id} ${node.hostname}`);
    }
    await onManager(["service", "rm", svc]);
  }, 90_000);

  it("stopping node 2's engine: the manager marks it Down and reschedules its task; started again it rejoins Ready", async () => {
    const node2 = cluster.nodes[1];
    if (!node2) throw new Error("no node 2");
    const svc = await onManager([
      "service",
      "create",
      "--detach",
      "--quiet",
      "--name",
      "spread",
      "--replicas",
      "3",
      // httpd as PID 1 ignores SIGTERM: the engine's stop would wait out Swarm's 10 s grace for it.
      "--stop-grace-period",
      "1s",
      WEB_IMAGE,
    ]);
    const before = await waitFor(
      async () => {
        const r = running(await tasksOf(svc));
        return r.length === 3 ? r : undefined;
      },
      { timeoutMs: 30_000, what: "3 tasks running" },
    );
    // Swarm spreads replicas over nodes: one of them is on node 2.
    expect(new Set(before.map((t) => t.NodeID)).size).toBe(3);

    const tStop = Date.now();
    await cluster.node(1, "stop");
    const t0 = Date.now(); // node 2's engine is gone from here on
    await waitFor(async () => (await nodesSeenByManager()).find((n) => n.ID === node2.id)?.Status.State === "down", {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "node 2 Down",
    });
    const downAfter = Date.now() - t0;
    const after = await waitFor(
      async () => {
        const r = running(await tasksOf(svc));
        return r.length === 3 && r.every((t) => t.NodeID !== node2.id) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "3 tasks running off node 2" },
    );
    expect(after.every((t) => t.NodeID !== node2.id)).toBe(true);
    console.log(
      `node 2's engine stopped in ${t0 - tStop} ms, marked Down ${downAfter} ms later, its task running elsewhere after ${Date.now() - t0} ms`,
    );

    await cluster.node(1, "start");
    await waitFor(async () => (await nodesSeenByManager()).find((n) => n.ID === node2.id)?.Status.State === "ready", {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "node 2 Ready again",
    });
    await onManager(["service", "rm", svc]);
  }, 200_000);

  it("a killed engine (node.sh kill: containers orphaned) comes back with node.sh start and the node is Ready again", async () => {
    const node3 = cluster.nodes[2];
    if (!node3) throw new Error("no node 3");
    const pid = (await readFile(`/run/chaosctl-cluster/${cluster.name}/3/dockerd.pid`, "utf8")).trim();
    await cluster.node(2, "kill");
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await cluster.node(2, "start");
    await waitFor(async () => (await nodesSeenByManager()).find((n) => n.ID === node3.id)?.Status.State === "ready", {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "node 3 Ready after kill + start",
    });
    expect(await cluster.dockerOk(2, ["info", "-f", "{{.Swarm.NodeID}} {{.Name}} {{.Swarm.LocalNodeState}}"])).toBe(
      `${node3.id} ${node3.hostname} active`,
    );
    // A new engine process, and a working member: the manager places a new task on it.
    expect((await readFile(`/run/chaosctl-cluster/${cluster.name}/3/dockerd.pid`, "utf8")).trim()).not.toBe(pid);
    const svc = await onManager([
      "service",
      "create",
      "--detach",
      "--quiet",
      "--name",
      "back3",
      "--constraint",
      `node.hostname==${node3.hostname}`,
      WEB_IMAGE,
    ]);
    const task = await waitFor(async () => running(await tasksOf(svc))[0], {
      timeoutMs: 60_000,
      what: "a task on node 3 after its restart",
    });
    expect(task.NodeID).toBe(node3.id);
    await onManager(["service", "rm", svc]);
  }, 120_000);
});

// Its own cluster: the shared one has one manager. down.sh is proven on it too, so the shared
// cluster (removed by the global teardown) stays up for the other files.
describe("test cluster with three managers", () => {
  let managers: Cluster | undefined;
  afterAll(async () => {
    await managers?.stop();
  }, 120_000);

  it("joins nodes 2 and 3 as managers: one leader, two reachable, raft quorum of 3", async () => {
    managers = await startCluster({ nodes: 3, managers: 3 });
    const ids = (await managers.dockerOk(0, ["node", "ls", "-q"])).split("\n").filter(Boolean);
    const nodes = JSON.parse(await managers.dockerOk(0, ["node", "inspect", ...ids])) as Array<
      RawNode & { ManagerStatus?: { Leader?: boolean; Reachability: string } }
    >;
    expect(nodes.map((n) => n.Spec.Role)).toEqual(["manager", "manager", "manager"]);
    expect(nodes.filter((n) => n.ManagerStatus?.Leader)).toHaveLength(1);
    expect(nodes.every((n) => n.ManagerStatus?.Reachability === "reachable")).toBe(true);
    expect(managers.nodes.map((n) => n.role)).toEqual(["manager", "manager", "manager"]);
    // Every node answers Swarm API calls (it is a manager), not only node 1.
    expect(await managers.dockerOk(2, ["node", "ls", "-q"])).not.toBe("");
  }, 240_000);

  it("down.sh leaves no netns, bridge, iptables rule, engine, mount or directory of the cluster behind", async () => {
    if (!managers) throw new Error("the three-manager cluster did not start (test above)");
    const name = managers.name;
    const pids = managers.nodes.map((n) => n.socket);
    await managers.stop();
    const { stdout: netns } = await exec("ip", ["netns", "list"]);
    expect(netns.split("\n").filter((l) => l.startsWith(`ccl-${name}-`))).toEqual([]);
    expect(existsSync(`/sys/class/net/cc-${name}`)).toBe(false);
    for (let n = 1; n <= 3; n++) expect(existsSync(`/sys/class/net/cc-${name}-${n}`)).toBe(false);
    const { stdout: rules } = await exec("iptables", ["-S", "FORWARD"]);
    expect(rules).not.toContain(`cc-${name} `);
    // No process of ours remains: nothing mentions the cluster's run directory.
    const leftovers: string[] = [];
    for (const pid of await readdir("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.includes(`/chaosctl-cluster/${name}/`)) leftovers.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
    }
    expect(leftovers).toEqual([]);
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(`/chaosctl-cluster/${name}`);
    expect(existsSync(`/run/chaosctl-cluster/${name}`)).toBe(false);
    expect(existsSync(`/var/lib/chaosctl-cluster/${name}`)).toBe(false);
    for (const socket of pids) expect(existsSync(socket)).toBe(false);
    expect(existsSync("/sys/class/net/docker0")).toBe(true);
  }, 120_000);
});
