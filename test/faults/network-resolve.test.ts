// resolveDestinations (pure): services -> their tasks' host addresses on networks shared
// with the target, for netem `to` and network `partition.from`.
import { describe, expect, it } from "vitest";
import type { ClusterSnapshot, TaskInfo } from "../../src/engine/engine.js";
import { destinationsChanged, resolveDestinations } from "../../src/faults/network/resolve.js";

const task = (id: string, serviceId: string, nets: Record<string, string[]>, desiredState = "running"): TaskInfo => ({
  id,
  serviceId,
  nodeId: "n1",
  desiredState,
  state: desiredState,
  timestamp: "",
  createdAt: "",
  message: "",
  networks: Object.entries(nets).map(([network, addresses]) => ({ network, addresses })),
});

const snapshot: ClusterSnapshot = {
  at: new Date(0),
  selfNodeId: "n1",
  nodes: [],
  services: [
    { id: "s-web", name: "web", labels: {}, mode: "replicated", hasHealthcheck: false, version: 1 },
    { id: "s-db", name: "db", labels: {}, mode: "replicated", hasHealthcheck: false, version: 1 },
    { id: "s-other", name: "other", labels: {}, mode: "replicated", hasHealthcheck: false, version: 1 },
  ],
  tasks: [
    task("t-web1", "s-web", { ingress: ["10.255.0.5/16"], app: ["10.0.1.3/24"] }),
    task("t-web2", "s-web", { ingress: ["10.255.0.6/16"], app: ["10.0.1.4/24"] }),
    task("t-db1", "s-db", { app: ["10.0.1.9/24"], back: ["10.0.2.9/24"] }),
    task("t-db0", "s-db", { app: ["10.0.1.8/24"] }, "shutdown"),
    task("t-other", "s-other", { elsewhere: ["10.0.3.2/24"] }),
  ],
  containers: [],
};

describe("resolveDestinations", () => {
  it("netem to.services: running tasks, shared networks only, never ingress, cidrs kept", () => {
    const r = resolveDestinations(
      { netem: { delay: { time: "10ms" }, to: { services: ["db"], cidrs: ["192.168.0.0/16"], ports: [5432] } } },
      snapshot,
      "t-web1",
    );
    expect(r).toEqual({
      kind: "netem",
      spec: { delay: { time: "10ms" }, to: { cidrs: ["10.0.1.9/32", "192.168.0.0/16"], ports: [5432] } },
      unresolved: [],
    });
  });

  it("the target's own task is not a destination; its siblings are", () => {
    const r = resolveDestinations({ network: { partition: { from: { services: ["web"] } } } }, snapshot, "t-web1");
    expect(r.spec).toEqual({ partition: { cidrs: ["10.0.1.4/32"], direction: "both" } });
  });

  it("a service with no address on a shared network resolves to nothing (and says so): cut nothing, not everything", () => {
    const r = resolveDestinations(
      { network: { partition: { from: { services: ["other", "nope"] }, direction: "to" } } },
      snapshot,
      "t-web1",
    );
    expect(r).toEqual({
      kind: "network",
      spec: { partition: { cidrs: [], direction: "to" } },
      unresolved: ["other", "nope"],
    });
  });

  it("no services or cidrs: unrestricted (partition: all traffic; netem: no `to`)", () => {
    expect(resolveDestinations({ network: { partition: { direction: "from" } } }, snapshot, "t-web1").spec).toEqual({
      partition: { direction: "from" },
    });
    expect(resolveDestinations({ netem: { loss: { percent: 1 }, to: {} } }, snapshot, "t-web1").spec).toEqual({
      loss: { percent: 1 },
    });
    expect(
      resolveDestinations({ netem: { loss: { percent: 1 }, to: { ports: [80] } } }, snapshot, "t-web1").spec,
    ).toEqual({ loss: { percent: 1 }, to: { ports: [80] } });
  });

  it("a target that is not a known task: every non-ingress network of the service", () => {
    const r = resolveDestinations({ network: { partition: { from: { services: ["db"] } } } }, snapshot, undefined);
    expect(r.spec).toEqual({ partition: { cidrs: ["10.0.1.9/32", "10.0.2.9/32"], direction: "both" } });
  });

  it("loss and bandwidth pass through unchanged", () => {
    const r = resolveDestinations(
      { network: { interface: "eth1", loss: { probability: 0.3 }, bandwidth: { rate: "1mbit" } } },
      snapshot,
      "t-web1",
    );
    expect(r.spec).toEqual({ interface: "eth1", loss: { probability: 0.3 }, bandwidth: { rate: "1mbit" } });
  });
});

describe("destinationsChanged", () => {
  it("compares the guard's spec with a fresh resolution, key order aside", () => {
    const fresh = resolveDestinations(
      { network: { partition: { from: { services: ["db"] }, direction: "to" } } },
      snapshot,
      "t-web1",
    );
    const same = {
      injection: { schedule: "a/b", run: "r" },
      spec: { partition: { direction: "to", cidrs: ["10.0.1.9/32"] } },
    };
    expect(destinationsChanged(same, fresh)).toBe(false);
    const moved = {
      injection: { schedule: "a/b", run: "r" },
      spec: { partition: { direction: "to", cidrs: ["10.0.1.8/32"] } },
    };
    expect(destinationsChanged(moved, fresh)).toBe(true);
  });
});
