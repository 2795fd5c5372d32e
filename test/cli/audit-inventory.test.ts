// auditInventory (pure): guards, paused containers and drained nodes, with owners, origins and
// orphans, from containers labelled by the real guard label writer.
import { describe, expect, it } from "vitest";
import { auditInventory, type AuditEntry } from "../../src/audit/inventory.js";
import { renderReport } from "../../src/cli/commands/audit.js";
import { originsOf } from "../../src/audit/origin.js";
import type { ContainerInfo } from "../../src/engine/engine.js";
import type { FaultKind, Owner, Target } from "../../src/faults/driver.js";
import { guardLabels } from "../../src/faults/guard/spec.js";
import { L_NODE_ORIGINAL_AVAILABILITY } from "../../src/api/labels.js";
import { manifest, node, T0 } from "../support/builders.js";

const at = (s: number): Date => new Date(T0.getTime() + s * 1000);

function guardContainer(
  id: string,
  owner: Owner,
  target: Target,
  fault: FaultKind,
  over: Partial<ContainerInfo> = {},
): ContainerInfo {
  return {
    id,
    names: [`/g-${id}`],
    image: "local/chaosctl:dev",
    labels: guardLabels(owner, target, fault, {}),
    state: "running",
    created: T0.getTime() / 1000,
    ...over,
  };
}
const target = (c: string, nodeId = "n1"): Target => ({
  kind: "container",
  nodeId,
  serviceName: "web",
  taskId: `task-${c}`,
  containerId: `${c}0000000000000000`,
});
const owner = (schedule: string, expiresIn = 60): Owner => ({
  schedule,
  generation: 2,
  run: `${schedule}-r1`,
  expires: at(expiresIn),
  instance: "ci",
});
const app = (id: string, state: ContainerInfo["state"] = "running"): ContainerInfo => ({
  id,
  names: [`/${id}`],
  image: "local/web:1",
  labels: {},
  state,
  created: 0,
  taskId: `task-${id}`,
});

describe("auditInventory", () => {
  const nodes = [node("n1"), node("n2")];

  it("a live guard of a stored schedule: owned, not an orphan, with its owner and origin", () => {
    const g = guardContainer("g1", owner("default/web-pause"), target("c1"), "pause");
    const r = auditInventory({
      now: at(10),
      nodes,
      perNode: [{ nodeId: "n1", containers: [g, app("c10000000000000000", "paused")] }],
      schedules: new Set(["default/web-pause"]),
      origins: new Map([["default/web-pause", { file: "m/p.yaml", commit: "a".repeat(40) }]]),
    });
    expect(r.orphans).toBe(0);
    expect(r.entries).toHaveLength(1); // the paused container is the guard's own injection, not listed twice
    expect(r.entries[0]).toMatchObject({
      kind: "guard",
      fault: "pause",
      node: "host-n1",
      orphan: false,
      reasons: [],
      target: { service: "web", task: "task-c1", container: "c10000000000" },
      owner: {
        schedule: "default/web-pause",
        run: "default/web-pause-r1",
        generation: 2,
        instance: "ci",
        expires: at(60).toISOString(),
      },
      origin: { file: "m/p.yaml", commit: "a".repeat(40) },
      guard: { id: "g1", state: "running" },
    });
    expect(r.unobservedNodes).toEqual(["host-n2"]);
    expect(r.storeChecked).toBe(true);
  });

  it("orphans: the owner schedule is gone, or the guard is still there past expiry + grace", () => {
    const gone = guardContainer("g1", owner("default/deleted"), target("c1"), "netem");
    const late = guardContainer("g2", owner("default/kept", 5), target("c2"), "network");
    const r = auditInventory({
      now: at(20),
      nodes,
      perNode: [{ nodeId: "n1", containers: [gone, late] }],
      schedules: new Set(["default/kept"]),
      graceMs: 10_000,
    });
    expect(r.orphans).toBe(2);
    expect(r.entries.find((e) => e.guard?.id === "g1")?.reasons).toEqual([
      "owner schedule default/deleted is not in the store",
    ]);
    expect(r.entries.find((e) => e.guard?.id === "g2")?.reasons).toEqual([
      `expired ${at(5).toISOString()}, still present`,
    ]);
    // Within the grace it is not (yet) an orphan.
    expect(
      auditInventory({
        now: at(14),
        nodes,
        perNode: [{ nodeId: "n1", containers: [late] }],
        schedules: new Set(["default/kept"]),
        graceMs: 10_000,
      }).orphans,
    ).toBe(0);
  });

  it("without a store only expiry can make an orphan", () => {
    const gone = guardContainer("g1", owner("default/deleted"), target("c1"), "pause");
    const r = auditInventory({ now: at(10), nodes, perNode: [{ nodeId: "n1", containers: [gone] }] });
    expect(r).toMatchObject({ orphans: 0, storeChecked: false });
  });

  it("exited guards: exit 0 is reverted (not listed); a failed one is listed, an orphan only once its schedule is gone", () => {
    const done = guardContainer("g1", owner("default/a"), target("c1"), "pause", { state: "exited", exitCode: 0 });
    const failed = guardContainer("g2", owner("default/a"), target("c2"), "pause", { state: "exited", exitCode: 137 });
    const kept = auditInventory({
      now: at(10),
      nodes,
      perNode: [{ nodeId: "n1", containers: [done, failed] }],
      schedules: new Set(["default/a"]),
    });
    expect(kept.entries.map((e) => [e.guard?.id, e.orphan])).toEqual([["g2", false]]);
    expect(kept.entries[0]?.reasons).toEqual(["guard exited 137 before reverting: revert not confirmed"]);
    const gone = auditInventory({
      now: at(10),
      nodes,
      perNode: [{ nodeId: "n1", containers: [done, failed] }],
      schedules: new Set(),
    });
    expect(gone.orphans).toBe(1);
  });

  it("paused containers: held by a failed pause guard is an orphan; with no chaosctl trace, unowned", () => {
    const failed = guardContainer("g2", owner("default/a"), target("c2"), "pause", { state: "exited", exitCode: 1 });
    const r = auditInventory({
      now: at(10),
      nodes,
      schedules: new Set(["default/a"]),
      perNode: [
        {
          nodeId: "n1",
          containers: [failed, app("c20000000000000000", "paused"), app("byhand", "paused"), app("fine")],
        },
      ],
    });
    const paused = r.entries.filter((e) => e.kind === "paused-container");
    expect(paused.map((e) => [e.target.container, e.orphan, !!e.unowned]).sort()).toEqual([
      ["byhand", false, true],
      ["c20000000000", true, false],
    ]);
    expect(paused.find((e) => e.orphan)?.owner?.schedule).toBe("default/a");
    expect(r.orphans).toBe(1);
  });

  it("nodes with original availability: owned through a node guard, else an orphan", () => {
    const drained = node("n2", { availability: "drain", labels: { [L_NODE_ORIGINAL_AVAILABILITY]: "active" } });
    const ng = guardContainer("g9", owner("default/drain"), { kind: "node", nodeId: "n2" }, "node");
    const owned = auditInventory({
      now: at(10),
      nodes: [node("n1"), drained],
      perNode: [{ nodeId: "n1", containers: [ng] }],
      schedules: new Set(["default/drain"]),
    });
    expect(owned.entries.map((e) => [e.kind, e.node, e.orphan])).toEqual([["guard", "host-n2", false]]);
    const lost = auditInventory({
      now: at(10),
      nodes: [node("n1"), drained],
      perNode: [{ nodeId: "n1", containers: [] }],
      schedules: new Set(),
    });
    expect(lost.entries).toMatchObject([
      {
        kind: "node",
        node: "host-n2",
        what: "availability drain (was active)",
        orphan: true,
        reasons: ["no owner recorded on the node and no guard holds it"],
      },
    ]);
  });
});

describe("auditInventory with an instance", () => {
  it("keeps that instance's guards only, and leaves out what carries no instance", () => {
    const ours = guardContainer("g1", owner("default/a"), target("c1"), "pause");
    const theirs = guardContainer("g2", { ...owner("default/b"), instance: "other" }, target("c2"), "pause");
    const drained = node("n2", { availability: "drain", labels: { [L_NODE_ORIGINAL_AVAILABILITY]: "active" } });
    const r = auditInventory({
      now: at(10),
      nodes: [node("n1"), drained],
      instance: "ci",
      schedules: new Set(),
      perNode: [{ nodeId: "n1", containers: [ours, theirs, app("byhand", "paused")] }],
    });
    expect(r.entries.map((e) => e.guard?.id)).toEqual(["g1"]);
    expect(r.orphans).toBe(1);
  });
});

describe("originsOf", () => {
  it("takes applied-by/applied-at from the annotations and the last commit of a directory store's file", async () => {
    const m = manifest("p", {});
    m.manifest.metadata.annotations = {
      "chaosctl.io/applied-by": "ana@laptop",
      "chaosctl.io/applied-at": "2026-01-01T00:00:00Z",
    };
    const calls: string[] = [];
    const o = await originsOf(
      [m, manifest("other", {})],
      new Set(["default/p"]),
      async (f) => (calls.push(f), "b".repeat(40)),
    );
    expect(o.get("default/p")).toEqual({
      appliedBy: "ana@laptop",
      appliedAt: "2026-01-01T00:00:00Z",
      file: "p.yaml",
      commit: "b".repeat(40),
    });
    expect(o.has("default/other")).toBe(false);
    expect(calls).toEqual(["p.yaml"]);
  });
});

describe("groupByNode (containers per node through agents)", () => {
  it("the local node's containers, each answering agent's node (empty or not), guards by the node they run on", async () => {
    const { groupByNode } = await import("../../src/audit/agents.js");
    const onN2 = guardContainer("g2", owner("default/a"), target("c2", "n2"), "pause");
    const nodeGuardOnN2 = guardContainer("g3", owner("default/d"), { kind: "node", nodeId: "n9" }, "node", {
      labels: {
        ...guardLabels(owner("default/d"), { kind: "node", nodeId: "n9" }, "node"),
        "chaosctl.io/guard-node": "n2",
      },
    });
    const groups = groupByNode(
      "n1",
      [app("local")],
      [onN2, nodeGuardOnN2],
      [
        { nodeId: "n2", hostname: "host-n2", host: "10.0.0.2", port: 8946 },
        { nodeId: "n3", hostname: "host-n3", host: "10.0.0.3", port: 8946 },
        { nodeId: "n4", hostname: "host-n4", host: "10.0.0.4", port: 8946, down: "timeout" },
      ],
    );
    expect(groups.map((g) => [g.nodeId, g.containers.map((c) => c.id)])).toEqual([
      ["n1", ["local"]],
      ["n2", ["g2", "g3"]],
      ["n3", []],
    ]);
    const r = auditInventory({
      now: at(10),
      nodes: ["n1", "n2", "n3", "n4"].map((n) => node(n)),
      perNode: groups,
      schedules: new Set(["default/a", "default/d"]),
    });
    expect(r.unobservedNodes).toEqual(["host-n4"]); // its agent did not answer: not "clean"
    expect(r.entries.find((e) => e.guard?.id === "g2")?.node).toBe("host-n2");
  });
});

describe("renderReport", () => {
  it("-o wide: a row whose ORIGIN and others are '-' stays in the header's columns", () => {
    const entry = (over: Partial<AuditEntry>): AuditEntry => ({
      kind: "guard",
      fault: "pause",
      node: "node-1",
      what: "container paused",
      target: { service: "web", container: "c1" },
      orphan: false,
      reasons: [],
      ...over,
    });
    const text = renderReport(
      {
        at: T0.toISOString(),
        entries: [
          entry({
            owner: { schedule: "default/web-pause", run: "r1", generation: 1, expires: T0.toISOString() },
            origin: { file: "manifests/web.yaml" },
            guard: { id: "g1", state: "running" },
          }),
          entry({ node: "n2", unowned: true }),
        ],
        orphans: 0,
        unobservedNodes: [],
        storeChecked: true,
      },
      true,
    );
    const [header = "", ...rows] = text.split("\n");
    for (const col of ["ORIGIN", "ORPHAN", "RUN", "GUARD", "INSTANCE", "WHAT"]) {
      const at = header.indexOf(col);
      expect(at, col).toBeGreaterThan(0);
      // Every row's cell starts where its header does: after padding, then a non-blank.
      for (const row of rows.slice(0, 2)) {
        expect(row.slice(at - 1, at + 1), `${col} in ${JSON.stringify(row)}`).toMatch(/^ \S/);
      }
    }
  });
});
