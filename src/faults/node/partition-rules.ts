// The node partition as iptables argv (pure). One owned chain per injection, jumped to from INPUT
// and OUTPUT of the node's own network namespace, dropping Swarm's control and data plane in both
// directions: 2377/tcp (raft, managers), 7946/tcp+udp (gossip), 4789/udp (VXLAN). Loopback is
// never cut (the jumps skip lo), and the ports in keepTcpPorts (the agent's) return first.
// The chain and its comment are derived from the owner alone, so the guard, a direct revert and a
// leftover check find them again without stored state.
import { createHash } from "node:crypto";
import { isPort } from "./spec.js";

export type Argv = string[];

export const NODE_CHAIN_PREFIX = "CHAOS-NODE-";

/** Swarm's ports (docs.docker.com: "Open protocols and ports between the hosts"). */
export const SWARM_PORTS: ReadonlyArray<{ proto: "tcp" | "udp"; port: number }> = [
  { proto: "tcp", port: 2377 },
  { proto: "tcp", port: 7946 },
  { proto: "udp", port: 7946 },
  { proto: "udp", port: 4789 },
];

export interface PartitionNames {
  chain: string;
  /** Comment on both jumps; no spaces, so iptables-save prints it unquoted. */
  comment: string;
}

export function partitionNames(owner: { schedule: string; run: string }): PartitionNames {
  const id = createHash("sha256").update(`${owner.schedule}\n${owner.run}\nnode-partition`).digest("hex").slice(0, 10);
  return { chain: `${NODE_CHAIN_PREFIX}${id}`, comment: `chaosctl-node-${id}` };
}

const ipt = (...args: string[]): Argv => ["iptables", "-w", "5", ...args];

/** The jump from a built-in chain, loopback excluded (as inserted and as deleted). */
export function jumpArgs(hook: "INPUT" | "OUTPUT", n: PartitionNames): string[] {
  return ["!", hook === "INPUT" ? "-i" : "-o", "lo", "-m", "comment", "--comment", n.comment, "-j", n.chain];
}

/** Rules of the owned chain, in order: kept ports RETURN, then Swarm's ports DROP. */
export function chainRules(keepTcpPorts: readonly number[] = []): string[][] {
  const rules: string[][] = [];
  for (const p of keepTcpPorts) {
    if (!isPort(p)) throw new Error(`not a port: ${String(p)}`);
    rules.push(
      ["-p", "tcp", "--dport", String(p), "-j", "RETURN"],
      ["-p", "tcp", "--sport", String(p), "-j", "RETURN"],
    );
  }
  for (const { proto, port } of SWARM_PORTS) {
    rules.push(
      ["-p", proto, "--dport", String(port), "-j", "DROP"],
      ["-p", proto, "--sport", String(port), "-j", "DROP"],
    );
  }
  return rules;
}

/** Create the chain, fill it, then insert the jumps first in INPUT and OUTPUT (last: the fault starts whole). */
export function applyArgv(n: PartitionNames, keepTcpPorts: readonly number[] = []): Argv[] {
  return [
    ipt("-N", n.chain),
    ...chainRules(keepTcpPorts).map((r) => ipt("-A", n.chain, ...r)),
    ipt("-I", "INPUT", "1", ...jumpArgs("INPUT", n)),
    ipt("-I", "OUTPUT", "1", ...jumpArgs("OUTPUT", n)),
  ];
}

/**
 * The whole apply of applyArgv (the chain, its rules, then the two jumps, in that order) as one
 * `iptables-restore --noflush` input of the filter table, without its final newline. The restore
 * commits the table once, all or nothing: where the chain exists (a restarted guard) its `-N`
 * fails and nothing changes, so the jumps never go in twice. The shell prelude and the Node.js
 * prelude send this same text.
 */
export function applyRestoreText(n: PartitionNames, keepTcpPorts: readonly number[] = []): string {
  const lines = applyArgv(n, keepTcpPorts).map((argv) => {
    const words = argv.slice(3); // after `iptables -w 5`
    if (words.some((w) => !/^[!A-Za-z0-9_.:/+,=@%-]+$/.test(w)))
      throw new Error(`not a restore line: ${argv.join(" ")}`);
    return words.join(" ");
  });
  return ["*filter", ...lines, "COMMIT"].join("\n");
}

/** Jumps first (the fault ends at once), then the chain. Each step may find its object absent. */
export function revertArgv(n: PartitionNames): Argv[] {
  return [
    ipt("-D", "INPUT", ...jumpArgs("INPUT", n)),
    ipt("-D", "OUTPUT", ...jumpArgs("OUTPUT", n)),
    ipt("-F", n.chain),
    ipt("-X", n.chain),
  ];
}

export const saveArgv = (): Argv => ["iptables-save", "-t", "filter"];

/** iptables' answer when what a step removes is already gone (the revert's goal). */
export function isAbsent(stderr: string): boolean {
  return /Bad rule|does a matching rule exist|No chain\/target\/match by that name|doesn't exist|does not exist|No such file or directory/i.test(
    stderr,
  );
}

/** Lines of `iptables-save` that belong to node partitions (all owners, or one chain). */
export function ownedLines(save: string, chain?: string): string[] {
  return save.split("\n").filter((l) => (chain ? l.includes(chain) : l.includes(NODE_CHAIN_PREFIX)));
}
