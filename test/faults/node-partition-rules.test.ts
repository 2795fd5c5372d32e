// The node partition's iptables argv (pure): Swarm's ports in both directions, loopback and the
// agent's port never cut, names derived from the owner alone.
import { describe, expect, it } from "vitest";
import {
  applyArgv,
  chainRules,
  isAbsent,
  ownedLines,
  partitionNames,
  revertArgv,
} from "../../src/faults/node/partition-rules.js";

const n = partitionNames({ schedule: "default/p", run: "r1" });

describe("partition rules", () => {
  it("names are stable, owner-specific, and fit iptables' 28-character chain limit", () => {
    expect(partitionNames({ schedule: "default/p", run: "r1" })).toEqual(n);
    expect(partitionNames({ schedule: "default/p", run: "r2" }).chain).not.toBe(n.chain);
    expect(n.chain).toMatch(/^CHAOS-NODE-[0-9a-f]{10}$/);
    expect(n.chain.length).toBeLessThanOrEqual(28);
    expect(n.comment).not.toMatch(/\s/);
  });

  it("drops 2377/tcp, 7946/tcp+udp and 4789/udp as destination and as source", () => {
    expect(chainRules()).toEqual([
      ["-p", "tcp", "--dport", "2377", "-j", "DROP"],
      ["-p", "tcp", "--sport", "2377", "-j", "DROP"],
      ["-p", "tcp", "--dport", "7946", "-j", "DROP"],
      ["-p", "tcp", "--sport", "7946", "-j", "DROP"],
      ["-p", "udp", "--dport", "7946", "-j", "DROP"],
      ["-p", "udp", "--sport", "7946", "-j", "DROP"],
      ["-p", "udp", "--dport", "4789", "-j", "DROP"],
      ["-p", "udp", "--sport", "4789", "-j", "DROP"],
    ]);
  });

  it("the agent's port returns before any drop", () => {
    const rules = chainRules([7950]);
    expect(rules.slice(0, 2)).toEqual([
      ["-p", "tcp", "--dport", "7950", "-j", "RETURN"],
      ["-p", "tcp", "--sport", "7950", "-j", "RETURN"],
    ]);
    expect(() => chainRules([70000])).toThrow(/port/);
  });

  it("apply: chain, rules, then jumps first in INPUT and OUTPUT that skip loopback", () => {
    const argv = applyArgv(n, [7950]);
    expect(argv[0]).toEqual(["iptables", "-w", "5", "-N", n.chain]);
    expect(argv.slice(1, -2).every((a) => a[3] === "-A" && a[4] === n.chain)).toBe(true);
    expect(argv.slice(-2)).toEqual([
      [
        "iptables",
        "-w",
        "5",
        "-I",
        "INPUT",
        "1",
        "!",
        "-i",
        "lo",
        "-m",
        "comment",
        "--comment",
        n.comment,
        "-j",
        n.chain,
      ],
      [
        "iptables",
        "-w",
        "5",
        "-I",
        "OUTPUT",
        "1",
        "!",
        "-o",
        "lo",
        "-m",
        "comment",
        "--comment",
        n.comment,
        "-j",
        n.chain,
      ],
    ]);
    // argv arrays only: no element is a shell string.
    expect(argv.flat().some((a) => /[;&|`$]/.test(a))).toBe(false);
  });

  it("revert: the jumps first (the fault ends at once), then flush and delete the chain", () => {
    expect(revertArgv(n).map((a) => a.slice(3, 5))).toEqual([
      ["-D", "INPUT"],
      ["-D", "OUTPUT"],
      ["-F", n.chain],
      ["-X", n.chain],
    ]);
  });

  it("recognises 'already gone' answers and finds leftovers in iptables-save", () => {
    expect(isAbsent("iptables: Bad rule (does a matching rule exist in that chain?).")).toBe(true);
    expect(isAbsent("iptables: No chain/target/match by that name.")).toBe(true);
    expect(isAbsent("iptables v1.8.9 (nf_tables): Chain 'CHAOS-NODE-x' does not exist")).toBe(true);
    expect(isAbsent("iptables: Permission denied (you must be root).")).toBe(false);
    const save = `*filter\n:INPUT ACCEPT [0:0]\n:${n.chain} - [0:0]\n-A INPUT ! -i lo -m comment --comment ${n.comment} -j ${n.chain}\n-A DOCKER -j RETURN\nCOMMIT\n`;
    expect(ownedLines(save, n.chain)).toHaveLength(2);
    expect(ownedLines(save)).toHaveLength(2);
    expect(ownedLines("*filter\nCOMMIT\n")).toEqual([]);
  });
});
