// iptables argv builders (pure). One injection owns two chains, CHAOS-<id>-O (egress, jumped
// to from OUTPUT -o <dev>) and CHAOS-<id>-I (ingress, from INPUT -i <dev>); each jump carries
// a comment naming the owner. Chains of different injections compose: every packet walks
// every jump, so loss from one schedule and a partition from another both apply.
import type { JumpRule } from "./parse.js";
import * as v from "./validate.js";

export type Argv = string[];
export type Hook = "OUTPUT" | "INPUT";

/** `-w 5`: wait for the xtables lock (legacy backend) instead of failing when guards race. */
function ipt(...args: string[]): Argv {
  return ["iptables", "-w", "5", ...args];
}

export const chainNew = (chain: string): Argv => ipt("-N", chain);
export const chainFlush = (chain: string): Argv => ipt("-F", chain);
export const chainDel = (chain: string): Argv => ipt("-X", chain);
export const ruleAppend = (chain: string, rule: string[]): Argv => ipt("-A", chain, ...rule);
export const save = (): Argv => ["iptables-save", "-t", "filter"];

/** Jump args exactly as iptables-save prints them back, so observed and desired compare equal. */
export function jumpArgs(hook: Hook, dev: string, chain: string, comment: string): string[] {
  return [hook === "OUTPUT" ? "-o" : "-i", v.iface(dev), "-m", "comment", "--comment", comment, "-j", chain];
}

/** Inserted first, so an ACCEPT earlier in OUTPUT/INPUT cannot hide the fault. */
export function jumpInsert(hook: Hook, dev: string, chain: string, comment: string): Argv {
  return ipt("-I", hook, "1", ...jumpArgs(hook, dev, chain, comment));
}

export function jumpDelete(j: JumpRule): Argv {
  return ipt("-D", j.from, ...j.args);
}

/** Random drop with the statistic match. */
export function lossRule(probability: number): string[] {
  return ["-m", "statistic", "--mode", "random", "--probability", v.probability(probability), "-j", "DROP"];
}

/** Drop to (egress chain, match -d) or from (ingress chain, match -s) a CIDR; no CIDR: everything. */
export function dropRule(dir: "to" | "from", cidr?: string): string[] {
  if (cidr === undefined) return ["-j", "DROP"];
  return [dir === "to" ? "-d" : "-s", v.cidr(cidr), "-j", "DROP"];
}
