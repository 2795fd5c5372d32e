// The agent's admission with the node's own view, pure (the node's engine is a lookup table): the
// helpers and faults the drivers really build pass; what the controller's rules would refuse is
// refused here too, with the reason.
import { describe, expect, it } from "vitest";
import { admitHelperOnNode, admitTarget, guardArgsOf, type NodeView } from "../../src/agent/admission.js";
import { PolicyRefusal } from "../../src/agent/policy.js";
import type { ClusterSnapshot, ContainerInfo, HelperSpec, NodeInfo } from "../../src/engine/engine.js";
import { guardArgv } from "../../src/faults/guard/args.js";
import { guardHelperSpec } from "../../src/faults/guard/spec.js";
import { wrapNodeSpec } from "../../src/faults/node/spec.js";
import { nodeGuardSpec } from "../../src/faults/node/guard.js";
import type { DriverContext } from "../../src/faults/driver.js";
import { NETNS_GUARD_ENTRYPOINT } from "../../src/faults/netns/guard-spec.js";
import { NETNS_SHELL_ENTRYPOINT, netnsGuardCommand } from "../../src/faults/netns/shell-prelude.js";

const NOW = new Date("2026-12-06T12:00:00Z");
const rules = { maxDurationMs: 3600_000, requireOptIn: false, clockSkewMs: 30_000 };
const ME = "node1";
const owner = { schedule: "default/s", generation: 1, run: "r1" };

const node = (id: string, over: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  hostname: `host-${id}`,
  role: "worker",
  availability: "active",
  state: "ready",
  addr: "10.0.0.1",
  labels: {},
  version: 1,
  leader: false,
  ...over,
});
const manager = (id: string, over: Partial<NodeInfo> = {}): NodeInfo =>
  node(id, { role: "manager", managerReachability: "reachable", ...over });

function task(id: string, service: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: id.padEnd(64, "0"),
    names: [],
    image: "web",
    labels: {},
    state: "running",
    created: 0,
    taskId: `t-${id}`,
    serviceId: service,
    nodeId: ME,
    ...over,
  };
}

const containers = new Map<string, ContainerInfo>(
  [
    task("web1", "svc-web"),
    task("web2", "svc-web"),
    task("db1", "svc-db"),
    task("optin1", "svc-optin"),
    task("ctl", "svc-ctl", { labels: { "chaosctl.io/role": "controller" } }),
    task("plain", "", { taskId: undefined, serviceId: undefined }),
  ].map((c) => [c.id.replace(/0+$/, ""), c]),
);
const inspect = async (ref: string): Promise<ContainerInfo> => {
  const c = containers.get(ref) ?? [...containers.values()].find((x) => x.id === ref);
  if (!c) throw new Error("no such container");
  return c;
};

function view(nodes: NodeInfo[] = [manager(ME), manager("m2"), manager("m3"), node("w1")]): NodeView {
  const cluster: ClusterSnapshot = {
    at: NOW,
    selfNodeId: ME,
    nodes,
    services: [
      { id: "svc-web", name: "web", labels: {}, mode: "replicated", hasHealthcheck: false, version: 1 },
      {
        id: "svc-db",
        name: "db",
        labels: { "chaosctl.io/protected": "true" },
        mode: "replicated",
        hasHealthcheck: false,
        version: 1,
      },
      {
        id: "svc-optin",
        name: "optin",
        labels: { "chaosctl.io/enabled": "true" },
        mode: "replicated",
        hasHealthcheck: false,
        version: 1,
      },
    ],
    tasks: [],
    containers: [],
  };
  return { nodeId: ME, cluster };
}
const worker: NodeView = { nodeId: ME };

const guardFor = (fault: "pause" | "network", target: string, until = new Date(NOW.getTime() + 60_000)): HelperSpec =>
  guardHelperSpec({
    image: "img",
    fault,
    owner,
    target: { kind: "container", nodeId: ME, containerId: target },
    until,
    spec: {},
    ...(fault === "network"
      ? { networkMode: `container:${target}`, capAdd: ["NET_ADMIN"], entrypoint: NETNS_GUARD_ENTRYPOINT }
      : {}),
  });
/** A node guard as the node driver builds it (a partition: the shell prelude's entry). */
const nodeGuard = (action: "drain" | "pause" | "partition", target: string, until = new Date(NOW.getTime() + 60_000)) =>
  nodeGuardSpec(
    { image: "img" } as DriverContext,
    { kind: "node", nodeId: target },
    wrapNodeSpec(action, owner, until),
    owner,
    until,
  );
const admit = (spec: HelperSpec, v = view(), r = rules): Promise<void> => admitHelperOnNode(spec, v, r, NOW, inspect);
const refused = async (p: Promise<unknown>, why: RegExp): Promise<void> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicyRefusal);
  expect((err as Error).message).toMatch(why);
};

describe("guards as the drivers build them pass", () => {
  it("a pause guard, a network guard in its own target's namespace, node guards on a healthy Swarm", async () => {
    await admit(guardFor("pause", "web1"));
    await admit(guardFor("network", "web1"));
    await admit(nodeGuard("partition", ME), view([manager(ME), manager("m2"), manager("m3")]));
    await admit(nodeGuard("drain", "w1"));
    await admit(nodeGuard("partition", ME), worker); // a worker has no quorum to protect
  });
});

describe("guards the controller's rules refuse are refused", () => {
  it("argv: not the guard's exact shape, an unknown fault, a malformed deadline", async () => {
    expect(() => guardArgsOf(["guard", "--fault", "pause"])).toThrow(PolicyRefusal);
    expect(() => guardArgsOf([...guardFor("pause", "web1").cmd, "--extra"])).toThrow(/guard argv must be/);
    const cmd = [...guardFor("pause", "web1").cmd];
    cmd[2] = "shell";
    expect(() => guardArgsOf(cmd)).toThrow(/--fault must be one of/);
    cmd[2] = "pause";
    cmd[6] = "2099";
    expect(() => guardArgsOf(cmd)).toThrow(/--until must be an RFC 3339 time/);
    // --hold: only last, only with a value, only a whole number of ms.
    const base = [...guardFor("network", "web1").cmd];
    expect(guardArgsOf([...base, "--hold", "3000"]).holdMs).toBe(3000);
    expect(() => guardArgsOf([...base, "--hold"])).toThrow(/guard argv must be/);
    expect(() => guardArgsOf([...base, "--hold", "3000", "--x"])).toThrow(/guard argv must be/);
    expect(() => guardArgsOf([...base, "--held", "3000"])).toThrow(/guard argv must be/);
    expect(() => guardArgsOf([...base, "--hold", "1e9"])).toThrow(/--hold must be/);
  });

  it("a deadline past --max-duration (plus the clock window) is refused; one just inside passes", async () => {
    await refused(admit(guardFor("pause", "web1", new Date("2099-01-01T00:00:00Z"))), /max-duration/);
    await refused(admit(guardFor("pause", "web1", new Date(NOW.getTime() + 3600_000 + 30_001))), /max-duration/);
    await admit(guardFor("pause", "web1", new Date(NOW.getTime() + 3600_000 + 30_000)));
  });

  it("targets: chaosctl's own, protected services, not a task, not on this node, not opted in", async () => {
    await refused(admit(guardFor("pause", "ctl")), /chaosctl's controller/);
    await refused(admit(guardFor("pause", "db1")), /service db is protected/);
    await refused(admit(guardFor("pause", "plain")), /not a Swarm task/);
    await refused(admit(guardFor("pause", "elsewhere")), /not on this node/);
    await refused(admit(guardFor("pause", "web1"), view(), { ...rules, requireOptIn: true }), /not opted in/);
    await admit(guardFor("pause", "optin1"), view(), { ...rules, requireOptIn: true });
    const protectedNode = view([manager(ME, { labels: { "chaosctl.io/protected": "true" } }), manager("m2")]);
    await refused(admit(guardFor("pause", "web1"), protectedNode), /this node .* is protected/);
  });

  it("a network guard with the shell prelude: admitted and judged as its guard verb (target, deadline, namespace)", async () => {
    const shell = (target: string, until = new Date(NOW.getTime() + 60_000)): HelperSpec =>
      guardHelperSpec({
        image: "img",
        fault: "network",
        owner,
        target: { kind: "container", nodeId: ME, containerId: target },
        until,
        spec: { injection: { schedule: owner.schedule, run: owner.run }, spec: { loss: { probability: 0.3 } } },
        networkMode: `container:${target}`,
        capAdd: ["NET_ADMIN"],
        command: netnsGuardCommand,
      });
    expect(shell("web1").entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    await admit(shell("web1"));
    await refused(admit(shell("db1")), /service db is protected/);
    await refused(admit(shell("web1", new Date("2099-01-01T00:00:00Z"))), /max-duration/);
    await refused(admit({ ...shell("web1"), networkMode: "container:web2" }), /own target's namespace/);
    const s = shell("web1");
    await refused(admit({ ...s, cmd: [s.cmd[0]!, `${s.cmd[1]!}x`, ...s.cmd.slice(2)] }), /not the plan/);
  });

  it("a guard's namespace is only its own target's", async () => {
    await refused(admit({ ...guardFor("network", "web1"), networkMode: "container:web2" }), /own target's namespace/);
    await refused(admit({ ...guardFor("network", "web1"), networkMode: "container:ctl" }), /own target's namespace/);
    await refused(admit({ ...guardFor("pause", "web1"), networkMode: "bridge" }), /not allowed/);
  });

  it("network tools only in an admitted target's namespace", async () => {
    const tool = (net?: string): HelperSpec => ({
      image: "img",
      entrypoint: ["iptables"],
      cmd: ["-F"],
      labels: { "chaosctl.io/role": "helper" },
      ...(net ? { networkMode: net } : {}),
    });
    await admit(tool("container:web1"));
    await refused(admit(tool("container:ctl")), /chaosctl's controller/);
    await refused(admit(tool("container:db1")), /protected/);
    await refused(admit(tool()), /only in a target's namespace/);
  });

  it("a process fault or a disk fill's tool only in an admitted target's PID namespace", async () => {
    const signal = (pid: string): HelperSpec => ({
      image: "img",
      cmd: ["signal-processes", "--signal", "SIGKILL", "--name", "worker"],
      labels: { "chaosctl.io/role": "helper" },
      networkMode: "none",
      pidMode: pid,
    });
    await admit(signal("container:web1"));
    await refused(admit(signal("container:ctl")), /chaosctl's controller/);
    await refused(admit(signal("container:db1")), /protected/);
    await refused(admit(signal("container:elsewhere")), /not on this node/);
  });

  it("a stress guard's stressor only from the agent's stress image", async () => {
    const until = new Date(NOW.getTime() + 60_000);
    const stressGuard = (image: string): HelperSpec => ({
      ...guardHelperSpec({
        image: "img",
        fault: "stress",
        owner,
        target: { kind: "container", nodeId: ME, containerId: "web1" },
        until,
        spec: {},
      }),
      cmd: guardArgv({
        fault: "stress",
        target: "web1",
        until,
        spec: { image, id: "0123456789abcdef", until: until.toISOString(), labels: {}, spec: { cpu: {} } },
      }),
    });
    const withImage = (spec: HelperSpec): Promise<void> =>
      admitHelperOnNode(spec, view(), rules, NOW, inspect, "local/chaosctl-stress:1");
    await withImage(stressGuard("local/chaosctl-stress:1"));
    await refused(withImage(stressGuard("evil/miner:1")), /stress image local\/chaosctl-stress:1/);
  });

  it("node faults: a partition only of this node, nodes of the Swarm, protected nodes, quorum and the last manager", async () => {
    await refused(admit(nodeGuard("partition", "m2")), /this agent is node node1/);
    await refused(admit(nodeGuard("drain", "ghost")), /no node ghost/);
    await refused(admit(nodeGuard("drain", "w1"), worker), /runs only on a manager/);
    const guardedW1 = view([manager(ME), node("w1", { labels: { "chaosctl.io/protected": "true" } })]);
    await refused(admit(nodeGuard("drain", "w1"), guardedW1), /node host-w1 is protected/);
    // 3 managers, one already unreachable: partitioning this one leaves 1 of 3 (quorum needs 2).
    const weak = view([manager(ME), manager("m2", { managerReachability: "unreachable" }), manager("m3")]);
    await refused(admit(nodeGuard("partition", ME), weak), /QuorumLoss/);
    await refused(admit(nodeGuard("drain", ME), view([manager(ME), node("w1")])), /LastActiveManager/);
    await refused(
      admit({ ...nodeGuard("drain", "w1"), networkMode: "host" }),
      /network mode host is not allowed for a node drain guard/,
    );
  });

  it("a node partition's shell prelude: its restore text only as the agent recomputes it, the node rules as before", async () => {
    const g = nodeGuard("partition", ME);
    expect(g.entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    expect(g.cmd[1]).toBe(""); // no tc
    const strong = view([manager(ME), manager("m2"), manager("m3")]);
    await admit(g, strong);
    const withArg = (i: number, v: string): HelperSpec => ({ ...g, cmd: g.cmd.map((a, j) => (j === i ? v : a)) });
    // A changed text: a rule more (ACCEPT everything first), a jump dropped, a tc batch added.
    await refused(
      admit(withArg(2, g.cmd[2]!.replace("COMMIT", "-I INPUT 1 -j ACCEPT\nCOMMIT")), strong),
      /not the plan/,
    );
    await refused(admit(withArg(2, g.cmd[2]!.replace(/\n-I OUTPUT[^\n]*/, "")), strong), /not the plan/);
    await refused(admit(withArg(1, "qdisc add dev eth0 root netem loss 100%"), strong), /not the plan/);
    // A changed expiry (the shell's UNTIL_MS) or spec (another run's chain) than the verb's.
    await refused(admit(withArg(0, String(NOW.getTime() + 3_600_000)), strong), /not the plan/);
    const other = nodeGuard("partition", ME, new Date(NOW.getTime() + 30_000));
    await refused(admit({ ...g, cmd: [...g.cmd.slice(0, 3), ...other.cmd.slice(3)] }, strong), /not the plan/);
    const spec = g.cmd.indexOf("--spec") + 1;
    await refused(admit(withArg(spec, g.cmd[spec]!.replace('"run":"r1"', '"run":"r2"')), strong), /not the plan/);
    // A drain's argv after the shell entry: no shell prelude for it.
    const drain = nodeGuard("drain", "w1");
    expect(drain.entrypoint).toBeUndefined();
    await refused(admit({ ...g, cmd: [...g.cmd.slice(0, 3), ...drain.cmd] }), /network, netem or node partition/);
    // The node rules hold through the shell entry as they do for the Node.js one.
    await refused(admit(nodeGuard("partition", "m2")), /this agent is node node1/);
    const weak = view([manager(ME), manager("m2", { managerReachability: "unreachable" }), manager("m3")]);
    await refused(admit(g, weak), /QuorumLoss/);
  });
});

describe("fault operations on containers", () => {
  it("admitTarget applies the same rules to kill, stop, restart and pause", async () => {
    expect(() => admitTarget(task("x", "svc-web"), view(), rules, "kill")).not.toThrow();
    expect(() => admitTarget(task("x", "svc-db"), view(), rules, "kill")).toThrow(/service db is protected/);
    expect(() => admitTarget(task("x", "svc-web", { nodeId: "n9" }), view(), rules, "kill")).toThrow(/task of node n9/);
    expect(() =>
      admitTarget(task("x", "svc-web", { labels: { "chaosctl.io/role": "guard" } }), view(), rules, "pause"),
    ).toThrow(/chaosctl's guard/);
    // On a worker, only the container's own labels are visible.
    expect(() => admitTarget(task("x", "svc-db"), worker, rules, "kill")).not.toThrow();
    expect(() =>
      admitTarget(task("x", "svc-db", { labels: { "chaosctl.io/protected": "true" } }), worker, rules, "kill"),
    ).toThrow(/protected/);
  });
});
