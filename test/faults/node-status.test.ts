// Status of node-fault runs (pure): the record names the nodes, a reboot run ends when its hook
// has run (it is not left "Running" or called interrupted), and recoverySeconds waits for the node
// to be Ready and active again AND for the services that had tasks on it.
import { describe, expect, it } from "vitest";
import { deriveStatus, type RunEvent, type StatusInput } from "../../src/controller/status.js";
import type { ClusterSnapshot, NodeInfo } from "../../src/engine/engine.js";
import type { InjectionHandle, Target } from "../../src/faults/driver.js";
import { T0, manifest, node, service, snapshot, task } from "../support/builders.js";

const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const web = service("web", 2);
const target: Target = { kind: "node", nodeId: "w1", nodeHostname: "host-w1" };
const m = (action: string) =>
  manifest("n", {
    selector: { nodes: ["w1"] },
    fault: { node: { action } },
    ...(action === "reboot" ? {} : { duration: "30s" }),
  }).manifest;
const started: RunEvent = {
  type: "started",
  run: "r1",
  generation: 1,
  fault: "node",
  scheduledAt: T0,
  targets: [target],
  services: ["web"],
};
const applied: RunEvent = { type: "applied", run: "r1", results: [{ target, ok: true }] };
const cluster = (when: number, w1: Partial<NodeInfo>, webOn: string[]): ClusterSnapshot => ({
  ...snapshot([web], { at: at(when) }),
  nodes: [node("m1"), node("w1", { role: "worker", ...w1 })],
  tasks: webOn.map((n, i) => task(web, n, { id: `web.${i + 1}`, timestamp: at(i === 1 ? 12 : 0).toISOString() })),
});
const input = (over: Partial<StatusInput>): StatusInput => ({
  now: T0,
  manifest: m("partition"),
  injections: [],
  events: [],
  snapshot: cluster(0, {}, ["m1", "w1"]),
  recoveryTimeoutMs: 600_000,
  ...over,
});
const guardOf = (state: string, exitCode?: number): InjectionHandle => ({
  fault: "node",
  owner: { schedule: "default/n", generation: 1, run: "r1", expires: at(30) },
  target,
  guardId: "g1",
  guardState: state,
  ...(exitCode !== undefined ? { guardExitCode: exitCode } : {}),
  since: T0,
});

describe("node fault status", () => {
  it("partition: Running while its guard holds; recovery waits for the node Ready and the services", () => {
    const s1 = deriveStatus(input({ injections: [guardOf("running")], events: [started, applied] }));
    expect(s1.history?.[0]).toMatchObject({ result: "Running", nodes: ["w1"], services: ["web"] });
    expect(s1.active?.[0]).toMatchObject({ fault: "node", node: "host-w1" });

    // Healed at 30 s (guard exited 0); at 32 s the manager still sees w1 down.
    const done = [guardOf("exited", 0)];
    const s2 = deriveStatus(
      input({ now: at(32), prev: s1, injections: done, snapshot: cluster(32, { state: "down" }, ["m1", "m1"]) }),
    );
    expect(s2.history?.[0]).toMatchObject({ result: "Succeeded", endedAt: at(30).toISOString(), recovery: "Pending" });

    // Ready again at 36 s, but web has one task of two.
    const s3 = deriveStatus(input({ now: at(36), prev: s2, injections: done, snapshot: cluster(36, {}, ["m1"]) }));
    expect(s3.history?.[0]?.recovery).toBe("Pending");

    const s4 = deriveStatus(
      input({ now: at(37), prev: s3, injections: done, snapshot: cluster(37, {}, ["m1", "m1"]) }),
    );
    expect(s4.history?.[0]).toMatchObject({ recovery: "Recovered", recoverySeconds: 7 });
  });

  it("the node's return is taken from Swarm's update time of the node when it has one", () => {
    const s1 = deriveStatus(input({ injections: [guardOf("exited", 0)], events: [started, applied] }));
    const back = cluster(45, { updatedAt: at(33.2).toISOString() }, ["m1", "m1"]);
    expect(
      deriveStatus(input({ now: at(45), prev: s1, injections: [guardOf("exited", 0)], snapshot: back })).history?.[0],
    ).toMatchObject({ recovery: "Recovered", recoverySeconds: 3.2 });
  });

  it("drain: the node must be active again, not only Ready", () => {
    const s1 = deriveStatus(
      input({ manifest: m("drain"), injections: [guardOf("exited", 0)], events: [started, applied] }),
    );
    const still = deriveStatus(
      input({
        manifest: m("drain"),
        now: at(31),
        prev: s1,
        injections: [guardOf("exited", 0)],
        snapshot: cluster(31, { availability: "drain" }, ["m1", "m1"]),
      }),
    );
    expect(still.history?.[0]?.recovery).toBe("Pending");
    const back = deriveStatus(
      input({
        manifest: m("drain"),
        now: at(31),
        prev: s1,
        injections: [guardOf("exited", 0)],
        snapshot: cluster(31, {}, ["m1", "m1"]),
      }),
    );
    expect(back.history?.[0]).toMatchObject({ recovery: "Recovered", recoverySeconds: 1 });
  });

  it("reboot: Succeeded once the hook ran, recovery measured from then until the node is back", () => {
    const s1 = deriveStatus(input({ manifest: m("reboot"), events: [started, applied] }));
    expect(s1.history?.[0]).toMatchObject({
      result: "Succeeded",
      endedAt: T0.toISOString(),
      recovery: "Pending",
      nodes: ["w1"],
    });
    const down = deriveStatus(
      input({ manifest: m("reboot"), now: at(15), prev: s1, snapshot: cluster(15, { state: "down" }, ["m1", "m1"]) }),
    );
    expect(down.history?.[0]).toMatchObject({ result: "Succeeded", recovery: "Pending" });
    const up = deriveStatus(
      input({ manifest: m("reboot"), now: at(21), prev: down, snapshot: cluster(21, {}, ["m1", "m1"]) }),
    );
    expect(up.history?.[0]).toMatchObject({ recovery: "Recovered", recoverySeconds: 21 });
  });

  it("a node that never comes back times out", () => {
    const s1 = deriveStatus(input({ manifest: m("reboot"), events: [started, applied], recoveryTimeoutMs: 60_000 }));
    const late = deriveStatus(
      input({
        manifest: m("reboot"),
        now: at(61),
        prev: s1,
        snapshot: cluster(61, { state: "down" }, ["m1", "m1"]),
        recoveryTimeoutMs: 60_000,
      }),
    );
    expect(late.history?.[0]?.recovery).toBe("TimedOut");
  });
});
