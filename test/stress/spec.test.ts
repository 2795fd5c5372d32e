// fault.stress resolved and turned into stress-ng argv, and process matching: pure, table-tested.
import { describe, expect, it } from "vitest";
import {
  StressSpecError,
  diskBytes,
  fillPath,
  memoryBytes,
  parseBytes,
  stressArgv,
  stressId,
  targetCgroup,
  cgroupFromProc,
  unwrap,
} from "../../src/faults/stress/spec.js";
import { matchProcesses } from "../../src/faults/process/match.js";
import { signalArgv } from "../../src/faults/process/driver.js";
import { checkStressPlan } from "../../src/faults/stress/plan-note.js";
import { OOM_TARGET_WRAPPER, stressorSpec } from "../../src/faults/stress/effect.js";

const MiB = 1024 ** 2;

describe("sizes", () => {
  it.each([
    ["512", 512],
    ["512b", 512],
    ["4k", 4096],
    ["4KB", 4096],
    ["256M", 256 * MiB],
    ["256MB", 256 * MiB],
    ["256MiB", 256 * MiB],
    ["1.5G", 1.5 * 1024 * MiB],
    ["1GiB", 1024 * MiB],
  ])("%s is %d bytes, as Docker reads --limit-memory", (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  it.each(["", "M", "12X", "50%", "-1M"])("%j is not a size", (text) => {
    expect(parseBytes(text)).toBeUndefined();
  });

  it("memory: bytes, or a percent of the target's limit; a percent without a limit is refused", () => {
    expect(memoryBytes("256M", 0)).toBe(256 * MiB);
    expect(memoryBytes("50%", 512 * MiB)).toBe(256 * MiB);
    expect(() => memoryBytes("50%", 0)).toThrow(/percent of the target's memory limit, but the target has none/);
  });

  it("disk: bytes, or a percent of the free space; more than is free is refused", () => {
    expect(diskBytes("10M", 100 * MiB)).toBe(10 * MiB);
    expect(diskBytes("25%", 100 * MiB)).toBe(25 * MiB);
    expect(() => diskBytes("200M", 100 * MiB)).toThrow(StressSpecError);
  });
});

describe("stress-ng argv", () => {
  it("cpu, memory (split over workers, held), io (in the helper's own /tmp), and the timeout", () => {
    expect(
      stressArgv(
        { cpu: { workers: 2, load: 50 }, memory: { size: "256M", workers: 2 }, io: { workers: 1, size: "16M" } },
        256 * MiB,
        59.2,
      ),
    ).toEqual([
      "--cpu",
      "2",
      "--cpu-load",
      "50",
      "--vm",
      "2",
      "--vm-bytes",
      `${128 * MiB}b`,
      "--vm-keep",
      "--hdd",
      "1",
      "--hdd-bytes",
      `${16 * MiB}b`,
      "--temp-path",
      "/tmp",
      "--timeout",
      "60s",
    ]);
  });

  it("defaults: one worker at full load; a timeout of at least a second", () => {
    expect(stressArgv({ cpu: {} }, undefined, 0)).toEqual(["--cpu", "1", "--cpu-load", "100", "--timeout", "1s"]);
  });

  it("the helper: a child cgroup of the target's, its PID namespace, no network, removed when done", () => {
    const g = unwrap({
      image: "local/chaosctl-stress:1",
      id: "0123456789abcdef",
      until: new Date(Date.now() + 30_000).toISOString(),
      labels: { "chaosctl.io/run": "r1" },
      spec: { memory: { size: "64M" } },
    });
    const hs = stressorSpec(g, "c".repeat(64), targetCgroup("c".repeat(64), ""), true, 64 * MiB);
    expect(hs).toMatchObject({
      name: "chaosctl-stress-0123456789abcdef",
      cgroupParent: `/docker/${"c".repeat(64)}`,
      pidMode: `container:${"c".repeat(64)}`,
      networkMode: "none",
      autoRemove: true,
      labels: { "chaosctl.io/run": "r1", "chaosctl.io/role": "helper" },
    });
    // At a memory limit: the target's PID 1 becomes the OOM killer's first choice for the stress
    // (and gets its value back after), the stressor keeps 0; no capability asked of the engine.
    expect(hs).not.toHaveProperty("oomScoreAdj");
    expect(hs.entrypoint).toEqual(["/bin/sh", "-c", OOM_TARGET_WRAPPER, "stress-ng"]);
    expect(OOM_TARGET_WRAPPER).toMatch(/echo 1000 >"\$adj"/);
    expect(OOM_TARGET_WRAPPER).toMatch(/echo "\$orig" >"\$adj"/);
    expect(hs.cmd).toContain("--no-oom-adjust");
    expect(hs.cmd).toContain("--vm-keep");
    // Without a memory limit the stressor stays the OOM killer's first choice (stress-ng's own setting).
    const free = stressorSpec(g, "c".repeat(64), targetCgroup("c".repeat(64), "/custom"), false, 64 * MiB);
    expect(free.entrypoint).toBeUndefined();
    expect(free.cmd).not.toContain("--no-oom-adjust");
    expect(free.cgroupParent).toBe(`/custom/${"c".repeat(64)}`);
  });

  it("names: one id per run and target; the fill file under the target's root; no way out of it", () => {
    const a = stressId(
      { schedule: "default/s", generation: 1, run: "r1" },
      { kind: "container", nodeId: "n", containerId: "c1" },
    );
    const b = stressId(
      { schedule: "default/s", generation: 1, run: "r2" },
      { kind: "container", nodeId: "n", containerId: "c1" },
    );
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(fillPath("/data/", a)).toBe(`/proc/1/root/data/.chaosctl-fill-${a}`);
    expect(() => fillPath("/tmp/../../etc", a)).toThrow(/without "\.\."/);
    expect(targetCgroup("abc", "")).toBe("/docker/abc");
    // The engine's own parent, from the kernel's account of the target's PID 1.
    const id = "a".repeat(64);
    const v1 = `12:memory:/chaosctl-s91u-2/${id}\n4:cpu,cpuacct:/chaosctl-s91u-2/${id}\n1:name=systemd:/x\n0::/\n`;
    expect(cgroupFromProc(v1, id)).toBe(`/chaosctl-s91u-2/${id}`);
    expect(cgroupFromProc(`0::/docker/${id}\n`, id)).toBe(`/docker/${id}`);
    expect(cgroupFromProc(`0::/\n`, id)).toBeUndefined(); // a private cgroup namespace: no answer
    expect(cgroupFromProc(`12:memory:/docker/${"b".repeat(64)}\n`, id)).toBeUndefined();
  });

  it("a guard spec without its parts is refused", () => {
    expect(() => unwrap({ image: "x", id: "short", until: "now", spec: {} })).toThrow(StressSpecError);
  });
});

describe("process matching", () => {
  const procs = [
    { pid: 1, comm: "sh", cmdline: "/bin/sh -c worker" },
    { pid: 7, comm: "worker", cmdline: "/usr/bin/worker --queue a" },
    { pid: 8, comm: "worker", cmdline: "/usr/bin/worker --queue b" },
    { pid: 9, comm: "node", cmdline: "node main.js signal-processes --name worker" },
    { pid: 12, comm: "a-very-long-pro", cmdline: "/bin/a-very-long-process-name" },
  ];

  it("by exact name, never PID 1 nor itself", () => {
    expect(matchProcesses(procs, { name: "worker" }, 9).map((p) => p.pid)).toEqual([7, 8]);
    expect(matchProcesses(procs, { name: "sh" }, 9)).toEqual([]);
    expect(matchProcesses(procs, { name: "work" }, 9)).toEqual([]);
  });

  it("a name longer than the kernel's 15 bytes matches its truncation", () => {
    expect(matchProcesses(procs, { name: "a-very-long-process-name" }, 9).map((p) => p.pid)).toEqual([12]);
  });

  it("by pattern on the command line", () => {
    expect(matchProcesses(procs, { pattern: "--queue b$" }, 9).map((p) => p.pid)).toEqual([8]);
    expect(matchProcesses(procs, { pattern: "worker" }, 9).map((p) => p.pid)).toEqual([7, 8]);
  });

  it("the helper's argv", () => {
    expect(signalArgv({ name: "worker", signal: "SIGTERM" })).toEqual([
      "signal-processes",
      "--signal",
      "SIGTERM",
      "--name",
      "worker",
    ]);
    expect(signalArgv({ pattern: "w.*" })).toEqual(["signal-processes", "--signal", "SIGKILL", "--pattern", "w.*"]);
  });
});

describe("the plan's word on a memory stress", () => {
  const svc = (name: string, memoryLimitBytes?: number) => ({
    id: name,
    name,
    labels: {},
    mode: "replicated" as const,
    replicas: 2,
    hasHealthcheck: false,
    version: 1,
    ...(memoryLimitBytes ? { memoryLimitBytes } : {}),
  });

  it("says when the stress reaches the limit (an OOM test), and is silent below it", () => {
    expect(checkStressPlan({ memory: { size: "512M" } }, [svc("web", 256 * MiB)])).toEqual({
      note: expect.stringMatching(
        /memory stress 512MiB reaches the memory limit of service web \(256MiB\): the kernel will OOM-kill/,
      ),
    });
    expect(checkStressPlan({ memory: { size: "100%" } }, [svc("web", 256 * MiB)])).toHaveProperty("note");
    expect(checkStressPlan({ memory: { size: "128M" } }, [svc("web", 256 * MiB)])).toEqual({});
    expect(checkStressPlan({ memory: { size: "128M" } }, [svc("web")])).toEqual({});
    expect(checkStressPlan({ cpu: {} }, [svc("web")])).toEqual({});
  });

  it("refuses a percent of a limit the service does not have", () => {
    expect(checkStressPlan({ memory: { size: "50%" } }, [svc("web")])).toEqual({
      error: "memory size 50% is a percent of the memory limit, but service web has none",
    });
  });
});
