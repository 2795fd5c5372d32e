// Manager safety for node faults (pure): quorum, the last active manager, allowManagers and
// allowManagerLoss, and the planner's use of it (a refused run is skipped with a named reason).
import { describe, expect, it } from "vitest";
import { checkNodeSafety, quorumOf } from "../../src/faults/node/quorum.js";
import { plan, defaultPlanConfig, type PlanInput, type SkipRun, type StartRun } from "../../src/controller/plan.js";
import type { NodeInfo } from "../../src/engine/engine.js";
import { T0, guard, manifest, node, seeded, service, snapshot, task } from "../support/builders.js";

const mgr = (id: string, over: Partial<NodeInfo> = {}): NodeInfo =>
  node(id, { role: "manager", managerReachability: "reachable", ...over });
const wrk = (id: string, over: Partial<NodeInfo> = {}): NodeInfo =>
  node(id, { role: "worker", leader: false, ...over });

describe("quorumOf", () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [7, 4],
  ])("%i managers need %i", (n, q) => expect(quorumOf(n)).toBe(q));
});

describe("checkNodeSafety", () => {
  const three = [mgr("m1"), mgr("m2"), mgr("m3"), wrk("w1")];
  it.each([
    ["a worker is always fine", "partition", ["w1"], three, {}, true],
    ["a manager without allowManagers", "drain", ["m2"], three, {}, "ManagersNotAllowed"],
    ["partition 1 of 3 managers keeps quorum (2 of 3)", "partition", ["m2"], three, { allowManagers: true }, true],
    ["partition 2 of 3 managers loses quorum", "partition", ["m2", "m3"], three, { allowManagers: true }, "QuorumLoss"],
    ["reboot counts like a partition", "reboot", ["m1", "m3"], three, { allowManagers: true }, "QuorumLoss"],
    [
      "one manager already unreachable: partitioning another loses quorum",
      "partition",
      ["m2"],
      [mgr("m1"), mgr("m2"), mgr("m3", { managerReachability: "unreachable", state: "down" })],
      { allowManagers: true },
      "QuorumLoss",
    ],
    [
      "draining 2 of 3 managers keeps raft, one stays active",
      "drain",
      ["m1", "m2"],
      three,
      { allowManagers: true },
      true,
    ],
    [
      "draining every manager leaves none active",
      "drain",
      ["m1", "m2", "m3"],
      three,
      { allowManagers: true },
      "LastActiveManager",
    ],
    [
      "pausing the last active manager (the others drained)",
      "pause",
      ["m1"],
      [mgr("m1"), mgr("m2", { availability: "drain" }), mgr("m3", { availability: "drain" })],
      { allowManagers: true },
      "LastActiveManager",
    ],
    ["the only manager: drain refused", "drain", ["m1"], [mgr("m1")], { allowManagers: true }, "LastActiveManager"],
    ["the only manager: partition refused", "partition", ["m1"], [mgr("m1")], { allowManagers: true }, "QuorumLoss"],
    [
      "allowManagerLoss lifts quorum and last-manager rules",
      "partition",
      ["m1"],
      [mgr("m1")],
      { allowManagers: true, allowManagerLoss: true },
      true,
    ],
    [
      "allowManagerLoss never lifts allowManagers",
      "drain",
      ["m1"],
      [mgr("m1")],
      { allowManagerLoss: true },
      "ManagersNotAllowed",
    ],
  ] as const)("%s", (_n, action, targets, nodes, flags, want) => {
    const v = checkNodeSafety({ action, targets, nodes, ...flags });
    if (want === true) expect(v).toEqual({ ok: true });
    else expect(v).toMatchObject({ ok: false, reason: want });
  });

  it("nodes other faults take out in the same pass count as gone", () => {
    const v = checkNodeSafety({
      action: "partition",
      targets: ["m2"],
      nodes: [mgr("m1"), mgr("m2"), mgr("m3")],
      allowManagers: true,
      alsoOut: new Set(["m3"]),
    });
    expect(v).toMatchObject({ ok: false, reason: "QuorumLoss" });
  });
});

describe("plan: node faults", () => {
  const web = service("web", 2);
  const snap = (nodes: NodeInfo[]) => ({
    ...snapshot([web]),
    nodes,
    tasks: [task(web, "w1", { id: "web.1" }), task(web, "m1", { id: "web.2" })],
  });
  const input = (over: Partial<PlanInput>): PlanInput => ({
    now: T0,
    manifests: [],
    invalidKeys: new Set(),
    snapshot: snap([mgr("m1"), wrk("w1"), wrk("w2")]),
    injections: [],
    config: { ...defaultPlanConfig, supportedFaults: new Set([...defaultPlanConfig.supportedFaults, "node"]) },
    random: seeded(3),
    ...over,
  });
  const starts = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is StartRun => a.type === "start");
  const skips = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is SkipRun => a.type === "skip");
  const nodeFault = (name: string, action: string, selector: object, extra: object = {}, fault: object = {}) =>
    manifest(name, { selector, fault: { node: { action, ...fault } }, duration: "30s", ...extra });

  it("a drain of the only manager is skipped with a named reason", () => {
    const p = plan(
      input({
        snapshot: snap([mgr("m1")]),
        manifests: [nodeFault("d", "drain", { nodeRoles: ["manager"] }, {}, { allowManagers: true })],
      }),
    );
    expect(starts(p)).toEqual([]);
    expect(skips(p)[0]).toMatchObject({ reason: "LastActiveManager", fault: "node" });
  });

  it("managers are left out unless allowed; only managers matching says so", () => {
    const only = plan(input({ manifests: [nodeFault("d", "drain", { nodes: ["m1"] })] }));
    expect(skips(only)[0]).toMatchObject({ reason: "ManagersNotAllowed" });
    const mixed = plan(input({ manifests: [nodeFault("d", "partition", { nodes: ["m1", "w1"] })] }));
    expect(starts(mixed)[0]?.targets.map((t) => t.nodeId)).toEqual(["w1"]);
  });

  it("records the services with tasks on the faulted node (recovery waits for them)", () => {
    const p = plan(input({ manifests: [nodeFault("d", "drain", { nodes: ["w1"] })] }));
    expect(starts(p)[0]).toMatchObject({
      fault: "node",
      targets: [{ kind: "node", nodeId: "w1" }],
      services: ["web"],
      durationMs: 30_000,
    });
  });

  it("a node under a node fault is not taken again, by any schedule, in the same pass or later", () => {
    const two = plan(
      input({ manifests: [nodeFault("a", "drain", { nodes: ["w1"] }), nodeFault("b", "pause", { nodes: ["w1"] })] }),
    );
    expect(starts(two).map((s) => s.key)).toEqual(["default/a"]);
    expect(skips(two)[0]).toMatchObject({ key: "default/b", reason: "NoTargets" });
    const held = {
      ...guard("default/x", "r0", "-"),
      fault: "node" as const,
      target: { kind: "node" as const, nodeId: "w1" },
    };
    const later = plan(input({ injections: [held], manifests: [nodeFault("b", "pause", { nodeRoles: ["worker"] })] }));
    expect(starts(later)[0]?.targets.map((t) => t.nodeId)).toEqual(["w2"]);
  });

  it("quorum counts managers the same pass partitions", () => {
    const nodes = [mgr("m1"), mgr("m2"), mgr("m3")];
    const p = plan(
      input({
        snapshot: snap(nodes),
        manifests: [
          nodeFault("a", "partition", { nodes: ["m2"] }, {}, { allowManagers: true }),
          nodeFault("b", "partition", { nodes: ["m3"] }, {}, { allowManagers: true }),
        ],
      }),
    );
    expect(starts(p).map((s) => s.key)).toEqual(["default/a"]);
    expect(skips(p)[0]).toMatchObject({ key: "default/b", reason: "QuorumLoss" });
  });

  it("safety.allowManagerLoss permits the drill", () => {
    const p = plan(
      input({
        snapshot: snap([mgr("m1")]),
        manifests: [
          nodeFault("d", "drain", { nodes: ["m1"] }, { safety: { allowManagerLoss: true } }, { allowManagers: true }),
        ],
      }),
    );
    expect(starts(p)[0]?.targets.map((t) => t.nodeId)).toEqual(["m1"]);
  });
});
