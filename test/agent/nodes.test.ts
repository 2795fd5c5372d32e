// The controller's node directory, pure (agents faked at the client): where agents are found,
// which engine a node gets, and the AgentUnavailable reasons.
import { describe, expect, it } from "vitest";
import { locateAgents, NodeDirectory, type AgentLocation } from "../../src/nodes/directory.js";
import { routeTo } from "../../src/controller/execute.js";
import { AgentEngine } from "../../src/nodes/agent-engine.js";
import type { InjectionReport } from "../../src/nodes/protocol.js";
import type { ContainerInfo, Engine } from "../../src/engine/engine.js";
import { silentLogger } from "../../src/util/log.js";
import { node, service, snapshot, task } from "../support/builders.js";

const agentSvc = service("chaosctl_agent", 0, { mode: "global", labels: { "chaosctl.io/role": "agent" } });
const web = service("web", 0);
const nodes = [
  node("n1", { addr: "10.9.0.1" }),
  node("n2", { addr: "10.9.0.2", role: "worker" }),
  node("n3", { addr: "10.9.0.3", role: "worker" }),
];
const snap = snapshot([agentSvc, web], {
  nodes,
  tasks: [task(agentSvc, "n1"), task(agentSvc, "n2"), task(agentSvc, "n3", { state: "failed" }), task(web, "n3")],
});
const guardOn = (nodeId: string): ContainerInfo => ({
  id: `g-${nodeId}`,
  names: [],
  image: "i",
  labels: { "chaosctl.io/role": "guard", "chaosctl.io/node": nodeId },
  state: "exited",
  exitCode: 0,
  created: 0,
});

class FakeAgent extends AgentEngine {
  constructor(
    loc: AgentLocation,
    private readonly answer: (loc: AgentLocation) => Promise<InjectionReport>,
  ) {
    super({ host: loc.host, port: loc.port, key: Buffer.alloc(16) });
    this.loc = loc;
  }
  private readonly loc: AgentLocation;
  override injections(): Promise<InjectionReport> {
    return this.answer(this.loc);
  }
}

const report = (nodeId: string, containers: ContainerInfo[]): InjectionReport => ({
  nodeId,
  hostname: nodeId,
  at: "",
  containers,
  handles: [],
});
const local = {} as Engine;

describe("locateAgents", () => {
  it("finds running agent tasks on other nodes at <node address>:<port>", () => {
    expect(locateAgents(snap, 8946)).toEqual([{ nodeId: "n2", hostname: "host-n2", host: "10.9.0.2", port: 8946 }]);
  });
});

describe("NodeDirectory", () => {
  it("routes its own node to the local engine, agents' nodes to them, and says why others are unavailable", async () => {
    const d = new NodeDirectory({
      local,
      key: Buffer.alloc(16),
      port: 8946,
      logger: silentLogger,
      connect: (loc) => new FakeAgent(loc, async (l) => report(l.nodeId, [guardOn(l.nodeId), guardOn("n9")])),
    });
    const remote = await d.refresh(snap);
    // Only guards of the agent's own node are taken from it.
    expect(remote.map((c) => c.id)).toEqual(["g-n2"]);
    expect(d.route("n1")).toEqual({ engine: local });
    expect(d.route("n2")).toMatchObject({ engine: { label: "10.9.0.2:8946" } });
    expect(d.route("n3", "node-3")).toEqual({
      unavailable: expect.stringMatching(/node node-3, where no chaosctl agent is running/),
    });
  });

  it("an agent that fails, or answers for another node, makes its node unavailable with the reason", async () => {
    const d = new NodeDirectory({
      local,
      key: Buffer.alloc(16),
      port: 8946,
      logger: silentLogger,
      connect: (loc) => new FakeAgent(loc, async () => report("n7", [])),
    });
    expect(await d.refresh(snap)).toEqual([]);
    expect(d.route("n2")).toEqual({ unavailable: expect.stringMatching(/unreachable: .*answers for node n7/) });
    const down = new NodeDirectory({ local, key: Buffer.alloc(16), port: 1, logger: silentLogger, timeoutMs: 2_000 });
    await down.refresh({ ...snap, nodes: nodes.map((n) => ({ ...n, addr: "127.0.0.1" })) });
    expect(down.route("n2")).toEqual({
      unavailable: expect.stringMatching(/whose agent is unreachable: agent at 127\.0\.0\.1:1/),
    });
  });

  it("unobservable: the other nodes whose guards this pass could not see", async () => {
    const d = new NodeDirectory({
      local,
      key: Buffer.alloc(16),
      port: 8946,
      logger: silentLogger,
      connect: (loc) => new FakeAgent(loc, async (l) => report(l.nodeId, [])),
    });
    await d.refresh(snap);
    expect([...d.unobservable(snap)]).toEqual(["n3"]); // n1 is ours, n2's agent answered, n3 has none running
  });

  it("without a token no agent is asked, and the reason says so", async () => {
    let asked = 0;
    const d = new NodeDirectory({
      local,
      port: 8946,
      logger: silentLogger,
      connect: (loc) => new FakeAgent(loc, async () => (asked++, report(loc.nodeId, []))),
    });
    expect(await d.refresh(snap)).toEqual([]);
    expect(asked).toBe(0);
    expect(d.route("n2")).toEqual({ unavailable: expect.stringMatching(/no agent token/) });
  });

  it("routeTo: own node (or unknown) → local engine; without a directory, AgentUnavailable's old message", () => {
    expect(routeTo({ engine: local, selfNodeId: "n1" }, "n1")).toEqual({ engine: local });
    expect(routeTo({ engine: local, selfNodeId: "n1" }, "n2", "node-2")).toEqual({
      unavailable: "task runs on node node-2, which this controller cannot reach without an agent",
    });
  });
});
