// Availability bookkeeping on the node (pure): what drain/pause write, what restore puts back,
// and what neither touches (someone else's drain, another run's fault, an operator's change).
import { describe, expect, it } from "vitest";
import { planAvailability, planRestore, NODE_OWNER_LABELS } from "../../src/faults/node/availability.js";
import { unwrapNodeSpec, wrapNodeSpec } from "../../src/faults/node/spec.js";
import type { NodeInfo } from "../../src/engine/engine.js";
import { orphanNodeHandles } from "../../src/faults/node/observe.js";
import { plan, defaultPlanConfig } from "../../src/controller/plan.js";
import { T0, manifest, node, seeded, snapshot } from "../support/builders.js";

const owner = {
  schedule: "default/drain-w",
  generation: 2,
  run: "r1",
  instance: "ci",
  expires: "2026-01-01T10:01:00.000Z",
};
const w = (over: Partial<NodeInfo> = {}): NodeInfo => node("w1", { role: "worker", labels: { zone: "a" }, ...over });
const applied = (action: "drain" | "pause"): NodeInfo => {
  const p = planAvailability(w(), action, owner);
  if (p.kind !== "update") throw new Error(`expected update, got ${p.kind}`);
  return w({ availability: p.availability, labels: p.labels, version: 2 });
};

describe("planAvailability", () => {
  it("records the original availability and the owner, keeps other labels", () => {
    expect(planAvailability(w(), "drain", owner)).toEqual({
      kind: "update",
      availability: "drain",
      labels: {
        zone: "a",
        "chaosctl.io/original-availability": "active",
        "chaosctl.io/node-action": "drain",
        "chaosctl.io/fault": "node",
        "chaosctl.io/schedule": "default/drain-w",
        "chaosctl.io/generation": "2",
        "chaosctl.io/run": "r1",
        "chaosctl.io/expires": "2026-01-01T10:01:00.000Z",
        "chaosctl.io/instance": "ci",
      },
    });
  });

  it("is idempotent for the same run (a restarted guard)", () => {
    expect(planAvailability(applied("pause"), "pause", owner)).toEqual({ kind: "none" });
  });

  it("refuses a node someone else made unavailable (never to be 'restored' by us)", () => {
    expect(planAvailability(w({ availability: "drain" }), "drain", owner)).toMatchObject({
      kind: "refused",
      reason: "NodeNotActive",
    });
    expect(planAvailability(w({ availability: "pause" }), "drain", owner)).toMatchObject({
      kind: "refused",
      reason: "NodeNotActive",
    });
  });

  it("refuses a node another run holds", () => {
    expect(planAvailability(applied("drain"), "pause", { ...owner, run: "r2" })).toMatchObject({
      kind: "refused",
      reason: "NodeFaultedByOther",
    });
  });
});

describe("planRestore", () => {
  it("puts the original availability back and removes exactly our labels", () => {
    expect(planRestore(applied("drain"), owner)).toEqual({
      kind: "update",
      availability: "active",
      labels: { zone: "a" },
    });
  });

  it("leaves a node without our labels alone (drained by someone else)", () => {
    expect(planRestore(w({ availability: "drain" }), owner)).toEqual({ kind: "none" });
  });

  it("leaves another run's node alone", () => {
    expect(planRestore(applied("drain"), { schedule: owner.schedule, run: "r2" })).toEqual({ kind: "none" });
  });

  it("an operator's change made while we held the node wins; our labels still go", () => {
    const n = applied("pause");
    expect(planRestore({ ...n, availability: "drain" }, owner)).toEqual({
      kind: "update",
      availability: "drain",
      labels: { zone: "a" },
    });
  });

  it("every label apply writes is one restore removes", () => {
    const labels = applied("drain").labels;
    expect(
      Object.keys(labels)
        .filter((k) => k !== "zone")
        .sort(),
    ).toEqual([...NODE_OWNER_LABELS].sort());
  });
});

describe("node guard spec", () => {
  it("round-trips through JSON, and a bad one is refused", () => {
    const s = wrapNodeSpec(
      "partition",
      { schedule: "default/p", generation: 1, run: "r1" },
      new Date("2026-01-01T10:00:00Z"),
      [7950],
    );
    expect(unwrapNodeSpec(JSON.parse(JSON.stringify(s)))).toEqual({
      action: "partition",
      owner: { schedule: "default/p", generation: 1, run: "r1", expires: "2026-01-01T10:00:00.000Z" },
      keepTcpPorts: [7950],
    });
    expect(() => unwrapNodeSpec({ action: "reboot", owner: s.owner })).toThrow(/action/);
    expect(() => unwrapNodeSpec({ action: "drain" })).toThrow(/owner/);
    expect(() => unwrapNodeSpec({ ...s, keepTcpPorts: [0] })).toThrow(/ports/);
  });
});

describe("orphanNodeHandles", () => {
  const labelled = applied("drain");
  it("a labelled node without its guard becomes a guardless handle, reverted on the controller's own engine", () => {
    const [h] = orphanNodeHandles([labelled, w({ id: "w2" })], [], "m1", new Date("2026-01-01T10:02:00Z"));
    expect(h).toMatchObject({
      fault: "node",
      owner: {
        schedule: owner.schedule,
        run: owner.run,
        generation: 2,
        instance: "ci",
        expires: new Date(owner.expires),
      },
      target: { kind: "node", nodeId: "w1" },
      guardNodeId: "m1",
      expired: true,
      spec: { action: "drain", owner: { schedule: owner.schedule, run: owner.run } },
    });
    expect(h?.guardId).toBeUndefined();
    expect(unwrapNodeSpec(h?.spec)).toMatchObject({ action: "drain" });
  });

  it("a node whose run still has a guard is left to the guard", () => {
    const g = {
      fault: "node" as const,
      owner: { schedule: owner.schedule, generation: 2, run: owner.run },
      target: { kind: "node" as const, nodeId: "w1" },
      guardId: "g",
    };
    expect(orphanNodeHandles([labelled], [g], "m1")).toEqual([]);
  });

  it("the planner reverts an expired orphan", () => {
    const [h] = orphanNodeHandles([labelled], [], "m1");
    const m = manifest(
      "drain-w",
      { selector: { nodes: ["w1"] }, fault: { node: { action: "drain" } }, duration: "1m" },
      { generation: 2, status: { lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 2 } },
    );
    const input = {
      now: new Date("2026-01-01T10:02:00Z"),
      manifests: [m],
      invalidKeys: new Set<string>(),
      snapshot: snapshot([]),
      injections: [h!],
      config: defaultPlanConfig,
      random: seeded(1),
    };
    expect(plan(input).actions).toEqual([{ type: "revert", handle: h, reason: "Expired" }]);
  });
});
