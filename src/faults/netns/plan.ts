// observe -> plan -> execute, the plan part (pure). What one injection wants in a namespace,
// compared with what the namespace holds, gives the argv steps to run.
//
// Concurrency rule (guards of one target share its namespace but nothing else, not even a
// lock file): every step is idempotent or tolerates "already so", each injection touches only
// its own class, leaf, filter priority and chains, and the shared root is created by whoever
// needs it first ("exists" is fine) and deleted only by a revert that observed no other class
// or filter of ours under it. The one race left (a revert deleting the root while another
// guard is adding its class) is healed by re-converging: apply verifies after writing and
// re-runs the missing steps, and a guard may call `ensure` at any time (see converge.ts).
import type { Destinations, LeafQdisc } from "./tc.js";
import * as tc from "./tc.js";
import * as ipt from "./iptables.js";
import type { Hook } from "./iptables.js";
import { ownedNames, type InjectionKey, type OwnedNames } from "./ids.js";
import { devsWithOurRoot, rootOwnership, type IptablesState, type TcQdisc } from "./parse.js";
import { ForeignQdisc } from "./errors.js";
import * as v from "./validate.js";

/** Everything one network injection wants in the target's namespace. */
export interface NetnsInjection {
  key: InjectionKey;
  dev: string;
  /** The tc part: a leaf qdisc under the owned root, for all traffic or for `to` only. */
  leaf?: LeafQdisc;
  to?: Destinations;
  /** Rules of the egress chain (jumped to from OUTPUT -o dev). */
  egress: string[][];
  /** Rules of the ingress chain (jumped to from INPUT -i dev). */
  ingress: string[][];
}

export interface Observed {
  qdiscs: TcQdisc[];
  /** Per interface with our root: minors of our classes, priorities of our filters. */
  classMinors: Record<string, number[]>;
  filterPrefs: Record<string, number[]>;
  ipt: IptablesState;
}

export interface Step {
  argv: string[];
  /** stderr meaning the step's goal already holds (a concurrent guard got there first). */
  tolerate?: RegExp;
}

const EXISTS = /File exists|Exclusivity flag on|already exists/i;
const GONE = /No such file or directory|Cannot find specified filter chain|Invalid handle|No chain\/target\/match|Bad rule|does a matching rule exist|Cannot delete qdisc with handle of zero|Filter with specified priority\/protocol not found/i;

/**
 * "write": (re)write every part (first apply, or a re-resolved spec);
 * "ensure": add only what is missing (re-converge after a race or a lost piece).
 */
export type ApplyMode = "write" | "ensure";

export function planApply(inj: NetnsInjection, obs: Observed, mode: ApplyMode): Step[] {
  const n = ownedNames(inj.key);
  const dev = v.iface(inj.dev);
  const steps: Step[] = [];
  if (inj.leaf) {
    const root = rootOwnership(obs.qdiscs, dev);
    if (root.state === "foreign") throw new ForeignQdisc(dev, root.kind ?? "?", root.handle ?? "?");
    const haveClass = root.state === "ours" && (obs.classMinors[dev] ?? []).includes(n.minor);
    const haveLeaf = root.state === "ours" && obs.qdiscs.some((q) => q.dev === dev && q.parent === n.classId);
    const haveFilter = root.state === "ours" && (obs.filterPrefs[dev] ?? []).includes(n.minor);
    if (root.state === "none") steps.push({ argv: tc.rootAdd(dev), tolerate: EXISTS });
    if (mode === "write" || !haveClass) steps.push({ argv: tc.classReplace(dev, n) });
    if (mode === "write" || !haveLeaf) steps.push({ argv: tc.leafReplace(dev, n, inj.leaf) });
    if (mode === "write" && haveFilter) steps.push({ argv: tc.filtersDel(dev, n), tolerate: GONE });
    if (mode === "write" || !haveFilter) steps.push(...tc.filtersAdd(dev, n, inj.to).map((argv) => ({ argv })));
  }
  steps.push(...planChain(obs.ipt, n, dev, "OUTPUT", n.chainOut, inj.egress, mode));
  steps.push(...planChain(obs.ipt, n, dev, "INPUT", n.chainIn, inj.ingress, mode));
  return steps;
}

function planChain(st: IptablesState, n: OwnedNames, dev: string, hook: Hook, chain: string, rules: string[][], mode: ApplyMode): Step[] {
  if (rules.length === 0) return [];
  const steps: Step[] = [];
  const exists = st.chains.includes(chain);
  if (!exists) steps.push({ argv: ipt.chainNew(chain), tolerate: EXISTS });
  if (!exists || mode === "write" || st.ruleCount[chain] !== rules.length) {
    if (exists) steps.push({ argv: ipt.chainFlush(chain) });
    steps.push(...rules.map((r) => ({ argv: ipt.ruleAppend(chain, r) })));
  }
  // The jump goes in last, once its chain is complete.
  const want = ipt.jumpArgs(hook, dev, chain, n.comment);
  const jumped = st.jumps.some((j) => j.from === hook && j.target === chain && sameArgs(j.args, want));
  if (!jumped) steps.push({ argv: ipt.jumpInsert(hook, dev, chain, n.comment) });
  return steps;
}

/** Remove exactly what `key` owns, wherever it is; the root goes only with the last of ours. */
export function planRevert(key: InjectionKey, obs: Observed): Step[] {
  const n = ownedNames(key);
  const steps: Step[] = [];
  for (const j of obs.ipt.jumps) {
    if (j.target === n.chainOut || j.target === n.chainIn) steps.push({ argv: ipt.jumpDelete(j), tolerate: GONE });
  }
  for (const chain of [n.chainOut, n.chainIn]) {
    if (!obs.ipt.chains.includes(chain)) continue;
    steps.push({ argv: ipt.chainFlush(chain), tolerate: GONE }, { argv: ipt.chainDel(chain), tolerate: GONE });
  }
  for (const dev of devsWithOurRoot(obs.qdiscs)) {
    const classes = obs.classMinors[dev] ?? [];
    const prefs = obs.filterPrefs[dev] ?? [];
    if (prefs.includes(n.minor)) steps.push({ argv: tc.filtersDel(dev, n), tolerate: GONE });
    if (classes.includes(n.minor)) steps.push({ argv: tc.classDel(dev, n), tolerate: GONE });
    const others = classes.some((m) => m !== n.minor) || prefs.some((p) => p !== n.minor);
    if (!others) steps.push({ argv: tc.rootDel(dev), tolerate: GONE });
  }
  return steps;
}

/** Remove everything of chaosctl's in the namespace (every CHAOS-* chain, every owned root). */
export function planSweep(obs: Observed): Step[] {
  const steps: Step[] = obs.ipt.jumps.map((j) => ({ argv: ipt.jumpDelete(j), tolerate: GONE }));
  for (const chain of obs.ipt.chains) steps.push({ argv: ipt.chainFlush(chain), tolerate: GONE }, { argv: ipt.chainDel(chain), tolerate: GONE });
  for (const dev of devsWithOurRoot(obs.qdiscs)) steps.push({ argv: tc.rootDel(dev), tolerate: GONE });
  return steps;
}

/** What of chaosctl's the namespace holds; empty means clean. */
export function ownedSummary(obs: Observed): { roots: string[]; chains: string[]; jumps: string[] } {
  return {
    roots: devsWithOurRoot(obs.qdiscs),
    chains: [...obs.ipt.chains],
    jumps: obs.ipt.jumps.map((j) => `${j.from}->${j.target}`),
  };
}

export function isClean(obs: Observed): boolean {
  const s = ownedSummary(obs);
  return s.roots.length === 0 && s.chains.length === 0 && s.jumps.length === 0;
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
