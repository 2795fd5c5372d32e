// What the agent lets a valid request do, pure: the helpers the drivers really build pass;
// anything else is refused.
import { describe, expect, it } from "vitest";
import { NETNS_GUARD_ENTRYPOINT } from "../../src/faults/netns/guard-spec.js";
import { admitExec, admitHelper, admitOwn, PolicyRefusal } from "../../src/agent/policy.js";
import { guardHelperSpec } from "../../src/faults/guard/spec.js";
import type { ContainerInfo, HelperSpec } from "../../src/engine/engine.js";

const policy = { image: "local/chaosctl:dev", dockerSocket: "/run/node2/docker.sock" };
const guard = guardHelperSpec({
  image: "local/chaosctl:dev",
  fault: "network",
  owner: { schedule: "default/loss", generation: 1, run: "r1" },
  target: { kind: "container", nodeId: "n2", containerId: "c".repeat(64) },
  until: new Date("2026-11-25T12:00:00Z"),
  spec: {},
  networkMode: `container:${"c".repeat(64)}`,
  capAdd: ["NET_ADMIN"],
});
// As faults/netns/exec-helper.ts builds it.
const tool: HelperSpec = {
  image: "local/chaosctl:dev",
  entrypoint: ["tc"],
  cmd: ["qdisc", "show"],
  labels: { "chaosctl.io/role": "helper" },
  networkMode: `container:${"c".repeat(64)}`,
  capAdd: ["NET_ADMIN"],
};
const container = (labels: Record<string, string>, taskId?: string): ContainerInfo => ({
  id: "d".repeat(64),
  names: [],
  image: "x",
  labels,
  state: "running",
  created: 0,
  ...(taskId ? { taskId } : {}),
});

describe("admitHelper", () => {
  it("admits a guard and binds the node's own socket, whatever path the controller assumed", () => {
    const out = admitHelper(guard, policy);
    expect(out.binds).toEqual(["/run/node2/docker.sock:/var/run/docker.sock"]);
    expect(out.cmd).toEqual(guard.cmd);
    expect(out.networkMode).toBe(guard.networkMode);
  });

  it("admits the network guard's entry point (its prelude, then the guard verb), with the node's socket bound", () => {
    const out = admitHelper({ ...guard, entrypoint: [...NETNS_GUARD_ENTRYPOINT] }, policy);
    expect(out.entrypoint).toEqual(NETNS_GUARD_ENTRYPOINT);
    expect(out.binds).toEqual(["/run/node2/docker.sock:/var/run/docker.sock"]);
  });

  it("refuses that entry point for anything but the guard verb, and any other node script", () => {
    const entry = [...NETNS_GUARD_ENTRYPOINT];
    expect(() => admitHelper({ ...guard, entrypoint: entry, cmd: ["controller", "--dir", "/"] }, policy)).toThrow(
      PolicyRefusal,
    );
    expect(() => admitHelper({ ...guard, entrypoint: ["node", "/app/dist/src/cli/main.js"] }, policy)).toThrow(
      PolicyRefusal,
    );
    expect(() => admitHelper({ ...guard, entrypoint: [...entry, "--inspect"] }, policy)).toThrow(PolicyRefusal);
  });

  it("admits a network tool in a target's namespace", () => {
    expect(admitHelper(tool, policy)).toEqual(tool);
  });

  it.each<[string, Partial<HelperSpec>]>([
    ["another image", { image: "busybox" }],
    ["no chaosctl role", { labels: {} }],
    ["an environment", { env: ["A=1"] }],
    ["a host path bind", { binds: ["/:/host"] }],
    ["a second bind", { binds: ["/var/run/docker.sock:/var/run/docker.sock", "/etc:/etc"] }],
    ["a shell entrypoint", { entrypoint: ["/bin/sh"], cmd: ["-c", "id"], binds: [] }],
    ["a capability beyond NET_ADMIN", { capAdd: ["SYS_ADMIN"] }],
    ["another verb", { cmd: ["controller", "--dir", "/"] }],
    ["a foreign name", { name: "web" }],
    ["a network mode of another kind", { networkMode: "bridge" }],
  ])("refuses a guard with %s", (_what, change) => {
    expect(() => admitHelper({ ...guard, ...change }, policy)).toThrow(PolicyRefusal);
  });

  it("refuses a network tool with the socket bound, a tool outside the list, or host networking", () => {
    expect(() => admitHelper({ ...tool, binds: ["/var/run/docker.sock:/var/run/docker.sock"] }, policy)).toThrow(
      PolicyRefusal,
    );
    expect(() => admitHelper({ ...tool, entrypoint: ["nsenter"] }, policy)).toThrow(PolicyRefusal);
    expect(() => admitHelper({ ...tool, networkMode: "host" }, policy)).toThrow(PolicyRefusal);
  });

  it("lets only the guard verb use the host network (node faults)", () => {
    expect(admitHelper({ ...guard, networkMode: "host" }, policy).networkMode).toBe("host");
  });
});

describe("container operations", () => {
  it("removes and reads logs of chaosctl's own guards and helpers only", () => {
    expect(() => admitOwn(container({ "chaosctl.io/role": "guard" }), "remove")).not.toThrow();
    expect(() => admitOwn(container({}, "task1"), "remove")).toThrow(PolicyRefusal);
  });

  it("execs network tools in guards only", () => {
    expect(() =>
      admitExec(container({ "chaosctl.io/role": "guard" }), ["iptables-save", "-t", "filter"]),
    ).not.toThrow();
    expect(() => admitExec(container({ "chaosctl.io/role": "guard" }), ["sh", "-c", "id"])).toThrow(PolicyRefusal);
    expect(() => admitExec(container({}, "task1"), ["tc", "qdisc", "show"])).toThrow(PolicyRefusal);
  });
});
