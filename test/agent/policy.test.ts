// What the agent lets a valid request do, pure: the helpers the drivers really build pass;
// anything else is refused.
import { describe, expect, it } from "vitest";
import { NETNS_GUARD_ENTRYPOINT } from "../../src/faults/netns/guard-spec.js";
import { admitExec, admitHelper, admitOwn, guardVerbArgv, PolicyRefusal } from "../../src/agent/policy.js";
import { NETNS_SHELL_ENTRYPOINT, netnsGuardCommand } from "../../src/faults/netns/shell-prelude.js";
import { guardHelperSpec, type GuardSpecInput } from "../../src/faults/guard/spec.js";
import { processDriver } from "../../src/faults/process/driver.js";
import { toolHelper } from "../../src/faults/stress/effect.js";
import { fillPath, unwrap } from "../../src/faults/stress/spec.js";
import type { Engine } from "../../src/engine/engine.js";
import type { ContainerInfo, HelperSpec } from "../../src/engine/engine.js";

const policy = {
  image: "local/chaosctl:dev",
  stressImage: "local/chaosctl-stress:1",
  dockerSocket: "/run/node2/docker.sock",
};
/** A network guard of run r1 on node n2, as the network driver builds it. */
const networkGuard = (extra: Partial<GuardSpecInput> = {}): HelperSpec =>
  guardHelperSpec({
    image: "local/chaosctl:dev",
    fault: "network",
    owner: { schedule: "default/loss", generation: 1, run: "r1" },
    target: { kind: "container", nodeId: "n2", containerId: "c".repeat(64) },
    until: new Date("2026-11-25T12:00:00Z"),
    spec: {},
    networkMode: `container:${"c".repeat(64)}`,
    capAdd: ["NET_ADMIN"],
    ...extra,
  });
const guard = networkGuard();
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

  it("admits the network guard's shell prelude only with the batches the agent computes from its --until and --spec", () => {
    const shellGuard = networkGuard({
      spec: { injection: { schedule: "default/loss", run: "r1" }, spec: { loss: { probability: 0.3 } } },
      command: netnsGuardCommand,
    });
    expect(shellGuard.entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    const out = admitHelper(shellGuard, policy);
    expect(out.cmd).toEqual(shellGuard.cmd);
    expect(out.binds).toEqual(["/run/node2/docker.sock:/var/run/docker.sock"]);
    expect(guardVerbArgv(shellGuard)).toEqual(shellGuard.cmd.slice(3));
    // A text that is not the plan of its own spec runs nothing: refused, whatever was changed.
    const withArg = (i: number, v: string): HelperSpec => ({
      ...shellGuard,
      cmd: shellGuard.cmd.map((a, j) => (j === i ? v : a)),
    });
    const ipt = shellGuard.cmd[2]!;
    expect(() => admitHelper(withArg(2, ipt.replace("-j DROP", "-j ACCEPT")), policy)).toThrow(/not the plan/);
    expect(() => admitHelper(withArg(1, "filter add dev eth0 parent ffff: bpf obj /x.o action exec"), policy)).toThrow(
      /not the plan/,
    );
    expect(() => admitHelper(withArg(0, String(Date.parse("2026-11-25T13:00:00Z"))), policy)).toThrow(PolicyRefusal);
    // The spec changed and the texts not: refused as well.
    const spec = shellGuard.cmd.indexOf("--spec") + 1;
    expect(() => admitHelper(withArg(spec, shellGuard.cmd[spec]!.replace("0.3", "0.9")), policy)).toThrow(
      /not the plan/,
    );
    // Only before a network guard verb.
    expect(() =>
      admitHelper({ ...shellGuard, cmd: [...shellGuard.cmd.slice(0, 3), "controller", "--dir", "/"] }, policy),
    ).toThrow(PolicyRefusal);
    expect(() => admitHelper({ ...shellGuard, entrypoint: ["/bin/sh", "-c"] }, policy)).toThrow(PolicyRefusal);
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

describe("admitHelper: the process fault and a disk fill's tools", () => {
  const target = "c".repeat(64);
  /** The helper the process driver really builds, caught from its engine call. */
  async function signalHelper(): Promise<HelperSpec> {
    let caught: HelperSpec | undefined;
    const engine = {
      runHelper: async (hs: HelperSpec) => {
        caught = hs;
        return { exitCode: 0, stdout: "", stderr: "" };
      },
    } as unknown as Engine;
    await processDriver.apply(
      { engine, image: "local/chaosctl:dev", now: new Date() },
      { kind: "container", nodeId: "n2", containerId: target },
      { name: "worker", signal: "SIGKILL" },
      { schedule: "default/p", generation: 1, run: "r1" },
    );
    return caught!;
  }
  const g = unwrap({
    image: "local/chaosctl-stress:1",
    id: "0123456789abcdef",
    until: "2026-11-25T12:00:00Z",
    labels: { "chaosctl.io/run": "r1", "chaosctl.io/role": "helper" },
    spec: { disk: { size: "10M" } },
  });
  const fill = fillPath("/tmp", g.id);

  it("admits signal-processes in a target's PID namespace, as the process driver builds it", async () => {
    const hs = await signalHelper();
    expect(admitHelper(hs, policy)).toEqual(hs);
  });

  it.each<[string, Partial<HelperSpec>]>([
    ["no PID namespace", { pidMode: undefined }],
    ["the host's PID namespace", { pidMode: "host" }],
    ["a network", { networkMode: `container:${target}` }],
    ["the socket bound", { binds: ["/var/run/docker.sock:/var/run/docker.sock"] }],
    ["a capability", { capAdd: ["NET_ADMIN"] }],
    ["the stress image", { image: "local/chaosctl-stress:1" }],
  ])("refuses signal-processes with %s", async (_what, change) => {
    const hs = await signalHelper();
    expect(() => admitHelper({ ...hs, ...change }, policy)).toThrow(PolicyRefusal);
  });

  it("admits a disk fill's tools on the fill file, from the stress image, in a target's PID namespace", () => {
    for (const [tool, args] of [
      ["test", ["-e", fill]],
      ["rm", ["-f", fill]],
      ["fallocate", ["-l", "10485760", fill]],
      ["stat", ["-f", "-c", "%a %S", "/proc/1/root/tmp"]],
    ] as const) {
      const hs = toolHelper(g, target, tool, [...args]);
      expect(admitHelper(hs, policy)).toEqual(hs);
    }
  });

  it.each<[string, string, string[], Partial<HelperSpec>?]>([
    ["rm of another file", "rm", ["-f", "/proc/1/root/etc/passwd"]],
    ["rm recursive", "rm", ["-rf", fill]],
    ["a path out of the target's root", "rm", ["-f", "/proc/1/root/../../etc/.chaosctl-fill-0123456789abcdef"]],
    ["the agent's image", "rm", ["-f", fill], { image: "local/chaosctl:dev" }],
    ["no PID namespace", "rm", ["-f", fill], { pidMode: undefined }],
    ["a network", "test", ["-e", fill], { networkMode: "bridge" }],
    ["a tool outside the list", "dd", ["if=/dev/zero", `of=${fill}`]],
    ["a shell", "sh", ["-c", "id"]],
  ])("refuses a file tool with %s", (_what, tool, args, change = {}) => {
    expect(() => admitHelper({ ...toolHelper(g, target, tool, args), ...change }, policy)).toThrow(PolicyRefusal);
  });

  it("gives a PID namespace to nothing else", () => {
    expect(() => admitHelper({ ...guard, pidMode: `container:${target}` }, policy)).toThrow(PolicyRefusal);
    expect(() => admitHelper({ ...tool, pidMode: `container:${target}` }, policy)).toThrow(PolicyRefusal);
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
