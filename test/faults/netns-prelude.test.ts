// The network guard's prelude (faults/netns/prelude.ts): when it applies and when it leaves the
// apply to the guard verb. Its apply itself is the converge code, proven on the real engine
// (network-driver.docker.test.ts, guard-direct.docker.test.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ExecResult } from "../../src/engine/engine.js";
import { guardArgv } from "../../src/faults/guard/args.js";
import { prelude, preludeStopped } from "../../src/faults/netns/prelude.js";
import { preludeApplied, preludeAppliedAt, takeOverFromPrelude } from "../../src/faults/netns/prelude-state.js";
import { wrapNodeSpec } from "../../src/faults/node/spec.js";
import { ownedNames } from "../../src/faults/netns/ids.js";
import * as ipt from "../../src/faults/netns/iptables.js";
import { IPT_RESTORE } from "../../src/faults/netns/converge.js";
import { applyRestoreText, partitionNames } from "../../src/faults/node/partition-rules.js";

const now = Date.parse("2026-12-07T01:00:00Z");
const spec = { injection: { schedule: "default/loss", run: "r1" }, spec: { loss: { probability: 0.3 } } };
const argv = (fault: "network" | "netem" | "pause" | "node", untilMs: number, s: unknown = spec): string[] =>
  guardArgv({ fault, target: "abc123", until: new Date(untilMs), spec: s });

function recorder(answer: ExecResult = { exitCode: 1, stdout: "", stderr: "nope" }) {
  const calls: string[][] = [];
  return { calls, exec: async (a: string[]): Promise<ExecResult> => (calls.push(a), answer) };
}

afterEach(() => {
  vi.restoreAllMocks();
  expect(takeOverFromPrelude()).toBeUndefined(); // the prelude's signal handlers go; no revert was under way
});

describe("network guard prelude", () => {
  it("runs nothing for another verb or another fault", async () => {
    const r = recorder();
    expect(await prelude(["controller", "--dir", "x"], now, r.exec)).toBe(false);
    expect(await prelude(argv("pause", now + 5_000), now, r.exec)).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it("applies nothing at or after the expiry: the guard only reverts", async () => {
    const r = recorder();
    expect(await prelude(argv("network", now), now, r.exec)).toBe(false);
    expect(await prelude(argv("network", now - 1), now, r.exec)).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it("a spec it cannot read or a namespace it cannot change: leaves the apply to the guard, says why", async () => {
    const lines: string[] = [];
    const write = (l: string): void => void lines.push(l);
    const r = recorder();
    expect(await prelude(argv("network", now + 5_000, { spec: {} }), now, r.exec, write)).toBe(false);
    expect(r.calls).toEqual([]);
    expect(await prelude(argv("network", now + 5_000), now, r.exec, write)).toBe(false);
    // It tried the clean namespace's plan (its first step failed, changing nothing), then observed
    // as any apply does, and gave up on the failed read.
    const n = ownedNames({ schedule: "default/loss", run: "r1", fault: "network" });
    expect(r.calls).toEqual([ipt.chainNew(n.chainOut), ipt.save()]);
    const logged = lines.map((l) => JSON.parse(l) as { event: string; err: string });
    expect(logged.map((l) => l.event)).toEqual(["prelude-skipped", "prelude-skipped"]);
    expect(logged[0]?.err).toMatch(/injection/);
    expect(preludeApplied()).toBe(false);
  });

  it("a node partition: cuts the node's Swarm ports from a clean slate (its own chain, jumped to first), nothing for drain", async () => {
    const lines: string[] = [];
    const write = (l: string): void => void lines.push(l);
    const calls: string[][] = [];
    // Nothing of ours there yet: every removal says so; every addition works.
    const exec = async (a: string[]): Promise<ExecResult> => {
      calls.push(a);
      const removal = a.includes("-D") || a.includes("-F") || a.includes("-X");
      return removal
        ? { exitCode: 1, stdout: "", stderr: "iptables: No chain/target/match by that name." }
        : { exitCode: 0, stdout: "", stderr: "" };
    };
    const owner = { schedule: "default/cut", generation: 1, run: "r2" };
    const until = new Date(now + 5_000);
    expect(await prelude(argv("node", now + 5_000, wrapNodeSpec("drain", owner, until)), now, exec, write)).toBe(false);
    expect(calls).toEqual([]);
    expect(
      await prelude(argv("node", now + 5_000, wrapNodeSpec("partition", owner, until, [8946])), now, exec, write),
    ).toBe(true);
    const added = calls.filter((a) => !(a.includes("-D") || a.includes("-F") || a.includes("-X")));
    expect(added.some((a) => a.includes("-N"))).toBe(true);
    expect(added.some((a) => a.includes("INPUT") && a.includes("-I"))).toBe(true);
    expect(added.some((a) => a.includes("2377") && a.includes("DROP"))).toBe(true);
    expect(added.some((a) => a.includes("8946") && a.includes("RETURN"))).toBe(true);
    expect(preludeApplied()).toBe(true);
    expect(process.listenerCount("SIGTERM")).toBeGreaterThan(0); // a stop before the verb loads reverts here
    const logged = lines.map((l) => JSON.parse(l) as { event: string; by: string });
    expect(logged).toEqual([expect.objectContaining({ event: "applied", by: "prelude" })]);
  });

  it("a node partition where iptables-restore runs: chain, rules and both jumps in one transaction; a chain already there changes nothing and leaves the apply to the guard verb", async () => {
    const owner = { schedule: "default/cut", generation: 1, run: "r3" };
    const args = argv("node", now + 5_000, wrapNodeSpec("partition", owner, new Date(now + 5_000), [8946]));
    const batching = (chainExists: boolean) => {
      const calls: Array<{ argv: string[]; input?: string }> = [];
      const exec = Object.assign(
        async (a: string[], input?: string): Promise<ExecResult> => {
          calls.push(input === undefined ? { argv: a } : { argv: a, input });
          const creates = a[0] === "iptables-restore" || a.includes("-N");
          return chainExists && creates
            ? { exitCode: 1, stdout: "", stderr: "iptables-restore: line 2 failed" }
            : { exitCode: 0, stdout: "", stderr: "" };
        },
        { stdin: true as const },
      );
      return { calls, exec };
    };
    const clean = batching(false);
    const lines: string[] = [];
    expect(await prelude(args, now, clean.exec, (l) => void lines.push(l))).toBe(true);
    // One process, the very text the shell prelude sends (one pure function for both).
    expect(clean.calls).toEqual([{ argv: IPT_RESTORE, input: `${applyRestoreText(partitionNames(owner), [8946])}\n` }]);
    const restore = clean.calls[0]?.input ?? "";
    expect(restore).toMatch(/^\*filter\n-N CHAOS-NODE-[0-9a-f]{10}\n/);
    expect(restore).toMatch(/-p tcp --dport 8946 -j RETURN/);
    // The jumps last, INPUT then OUTPUT, loopback excluded: the fault starts whole.
    expect(restore).toMatch(
      /-p udp --sport 4789 -j DROP\n-I INPUT 1 ! -i lo -m comment --comment chaosctl-node-[0-9a-f]{10} -j CHAOS-NODE-[0-9a-f]{10}\n-I OUTPUT 1 ! -o lo .*\nCOMMIT\n$/,
    );
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ event: "applied", by: "prelude" });
    expect(takeOverFromPrelude()).toBeUndefined(); // drops the stop handler this apply installed

    const restarted = batching(true);
    const said: string[] = [];
    expect(await prelude(args, now, restarted.exec, (l) => void said.push(l))).toBe(false);
    // The transaction failed whole: nothing else was run (no jump inserted on its own).
    expect(restarted.calls.map((c) => c.argv)).toEqual([IPT_RESTORE]);
    expect(JSON.parse(said[0] ?? "{}")).toMatchObject({
      event: "prelude-skipped",
      err: expect.stringMatching(/line 2/),
    });
  });

  it("a node partition after the shell prelude applied: adopted without a command at the shell's moment, a stop reverts the partition here", async () => {
    const owner = { schedule: "default/cut", generation: 1, run: "r4" };
    const args = argv("node", now + 5_000, wrapNodeSpec("partition", owner, new Date(now + 5_000)));
    const r = recorder({ exitCode: 0, stdout: "", stderr: "" });
    const lines: string[] = [];
    const shellAt = now - 30;
    expect(await prelude(args, now, r.exec, (l) => void lines.push(l), "applied", shellAt)).toBe(true);
    expect(r.calls).toEqual([]);
    expect(lines).toEqual([]); // the shell logged `applied`
    expect(preludeAppliedAt()?.getTime()).toBe(shellAt);
    // The stop handler reverts the partition (its jumps and chain) with the light modules.
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    process.emit("SIGTERM", "SIGTERM");
    const reverting = takeOverFromPrelude();
    expect(reverting).toBeDefined();
    await reverting;
    const n = partitionNames(owner);
    expect(r.calls).toContainEqual(["iptables", "-w", "5", "-X", n.chain]);
    expect(exit).toHaveBeenCalled();
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ event: "reverted", by: "prelude" });
  });

  it("a node partition after the shell prelude failed (a restarted guard's chain): the Node.js apply runs, and fails the same way, leaving it to the guard verb", async () => {
    const owner = { schedule: "default/cut", generation: 1, run: "r5" };
    const args = argv("node", now + 5_000, wrapNodeSpec("partition", owner, new Date(now + 5_000)));
    const calls: string[][] = [];
    const exec = Object.assign(
      async (a: string[]): Promise<ExecResult> => (
        calls.push(a),
        { exitCode: 1, stdout: "", stderr: "iptables-restore: line 2 failed" }
      ),
      { stdin: true as const },
    );
    const lines: string[] = [];
    expect(await prelude(args, now, exec, (l) => void lines.push(l), "failed")).toBe(false);
    expect(calls).toEqual([IPT_RESTORE]);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ event: "prelude-skipped" });
  });

  it("after the shell prelude applied: adopts without a command (the guard verb reads once), a stop reverts here", async () => {
    const lines: string[] = [];
    const r = recorder();
    const shellAt = now - 40;
    expect(
      await prelude(argv("network", now + 5_000), now, r.exec, (l) => void lines.push(l), "applied", shellAt),
    ).toBe(true);
    expect(r.calls).toEqual([]);
    expect(lines).toEqual([]); // the shell logged `applied`
    expect(preludeApplied()).toBe(true);
    expect(preludeAppliedAt()?.getTime()).toBe(shellAt); // a guard's --hold counts from the shell's moment
    expect(process.listenerCount("SIGTERM")).toBeGreaterThan(0);
  });

  it("after the shell prelude failed: reads the namespace first (it is not clean, or half written), then converges", async () => {
    const lines: string[] = [];
    const r = recorder();
    expect(await prelude(argv("network", now + 5_000), now, r.exec, (l) => void lines.push(l), "failed")).toBe(false);
    expect(r.calls[0]).toEqual(ipt.save()); // no blind clean plan: an observe first
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(["prelude-skipped"]);
  });

  it("the shell found the expiry passed: nothing here, the guard verb only reverts", async () => {
    const r = recorder();
    expect(await prelude(argv("network", now + 5_000), now, r.exec, () => undefined, "late")).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it("stopped before the guard verb: reverts what the injection owns, says `reverted`, exit 0; a failed revert says so, exit 1", async () => {
    const n = ownedNames({ schedule: "default/loss", run: "r1", fault: "network" });
    const save = `*filter\n:${n.chainOut} - [0:0]\n-A OUTPUT -o eth0 -m comment --comment ${n.comment} -j ${n.chainOut}\n-A ${n.chainOut} -j DROP\nCOMMIT\n`;
    let reverted = false;
    const calls: string[][] = [];
    const exec = async (a: string[]): Promise<ExecResult> => {
      calls.push(a);
      if (a[0] === "iptables-save") return { exitCode: 0, stdout: reverted ? "*filter\nCOMMIT\n" : save, stderr: "" };
      if (a[0] === "tc") return { exitCode: 0, stdout: "", stderr: "" };
      if (a.includes("-X")) reverted = true;
      return { exitCode: 0, stdout: "", stderr: "" };
    };
    const lines: string[] = [];
    expect(await preludeStopped(argv("network", now + 5_000), exec, (l) => void lines.push(l))).toBe(0);
    expect(calls.some((a) => a.includes("-X") && a.includes(n.chainOut))).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: "reverted", result: "reverted", by: "prelude" });
    const failing = recorder();
    lines.length = 0;
    expect(await preludeStopped(argv("network", now + 5_000), failing.exec, (l) => void lines.push(l))).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: "revert", result: "failed" });
  });

  it("stopped before the guard verb, a node partition: removes its jumps and chain, exit 0; a drain has no stopped mode", async () => {
    const owner = { schedule: "default/cut", generation: 1, run: "r6" };
    const n = partitionNames(owner);
    const calls: string[][] = [];
    let jumps = 2;
    const exec = async (a: string[]): Promise<ExecResult> => {
      calls.push(a);
      if (a.includes("-D") && jumps > 0) return (jumps--, { exitCode: 0, stdout: "", stderr: "" });
      if (a.includes("-D"))
        return { exitCode: 1, stdout: "", stderr: "iptables: Bad rule (does a matching rule exist in that chain?)." };
      return { exitCode: 0, stdout: "", stderr: "" };
    };
    const lines: string[] = [];
    const stopped = (action: "partition" | "drain") =>
      preludeStopped(argv("node", now + 5_000, wrapNodeSpec(action, owner, new Date(now + 5_000))), exec, (l) =>
        lines.push(l),
      );
    expect(await stopped("partition")).toBe(0);
    expect(jumps).toBe(0);
    expect(calls.slice(-2)).toEqual([
      ["iptables", "-w", "5", "-F", n.chain],
      ["iptables", "-w", "5", "-X", n.chain],
    ]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: "reverted", result: "reverted", by: "prelude" });
    lines.length = 0;
    expect(await stopped("drain")).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      event: "revert",
      result: "failed",
      err: expect.stringMatching(/drain/),
    });
  });
});
