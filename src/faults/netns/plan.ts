// observe -> plan -> execute, the plan part (pure). What one injection wants in a namespace,
// compared with what the namespace holds, gives the argv steps to run.
//
// Concurrency rule (guards of one target share its namespace but nothing else, not even a
// lock file): every step is idempotent or tolerates "already so"; each injection adds and
// removes only its own class, leaf, filter priority and chains; the shared root is created by
// whoever needs it first ("exists" is fine) and deleted only by a revert that observed no other
// class or filter of ours under it; the shared cap and rest classes (shared.ts) are a function
// of the bandwidth records present, which every apply and revert re-derives from what it
// observes. A step planned on a view another guard has since changed is healed by
// re-converging: apply and revert both re-observe after writing and re-run until the plan is
// empty, so the last one to finish has seen every record (see converge.ts).
import type { Destinations, LeafQdisc } from "./tc.js";
import * as tc from "./tc.js";
import * as ipt from "./iptables.js";
import type { Hook } from "./iptables.js";
import { ownedNames, type InjectionKey, type OwnedNames } from "./ids.js";
import { devsWithOurRoot, rootOwnership, type IptablesState, type TcClass, type TcQdisc } from "./parse.js";
import { capRecords, chooseCap, GONE, planNetemChild, planShared, type Step } from "./shared.js";
import { ForeignQdisc } from "./errors.js";
import * as v from "./validate.js";

/** Everything one network injection wants in the target's namespace. */
export interface NetnsInjection {
  key: InjectionKey;
  dev: string;
  /**
   * The tc part: netem, steered by filters (all traffic, or `to` only) into its class; or tbf,
   * the bandwidth record the shared cap follows (all traffic, no filter of its own).
   */
  leaf?: LeafQdisc;
  /** netem only. */
  to?: Destinations;
  /** Rules of the egress chain (jumped to from OUTPUT -o dev). */
  egress: string[][];
  /** Rules of the ingress chain (jumped to from INPUT -i dev). */
  ingress: string[][];
}

export interface Observed {
  qdiscs: TcQdisc[];
  /** Per interface with our root: every class of ours (shared ones too), the minors of injections' classes, priorities of our filters. */
  classes: Record<string, TcClass[]>;
  classMinors: Record<string, number[]>;
  filterPrefs: Record<string, number[]>;
  ipt: IptablesState;
}

export type { Step };

const EXISTS = /File exists|Exclusivity flag on|already exists/i;

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
    // The shared classes first (an injection's class hangs from the cap), with this one's record counted.
    const view = root.state === "ours" ? sharedView(obs, dev) : undefined;
    const caps = view ? capRecords(dev, view, n.minor) : [];
    const all = inj.leaf.kind === "tbf" ? [...caps, inj.leaf.cap] : caps;
    steps.push(...planShared(dev, view, all, n.minor));
    if (mode === "write" || !haveClass) steps.push({ argv: tc.classReplace(dev, n) });
    if (mode === "write" || !haveLeaf) steps.push({ argv: tc.leafReplace(dev, n, inj.leaf) });
    if (inj.leaf.kind === "netem") {
      // A new leaf has no child yet; an existing one keeps its child through `replace`.
      steps.push(...planNetemChild(dev, haveLeaf ? obs.qdiscs.filter((q) => q.dev === dev) : [], n, chooseCap(all)));
      if (mode === "write" && haveFilter) steps.push({ argv: tc.filtersDel(dev, n), tolerate: GONE });
      if (mode === "write" || !haveFilter) steps.push(...tc.filtersAdd(dev, n, inj.to).map((argv) => ({ argv })));
    }
  }
  steps.push(...planChain(obs.ipt, n, dev, "OUTPUT", n.chainOut, inj.egress, mode));
  steps.push(...planChain(obs.ipt, n, dev, "INPUT", n.chainIn, inj.ingress, mode));
  return steps;
}

function planChain(
  st: IptablesState,
  n: OwnedNames,
  dev: string,
  hook: Hook,
  chain: string,
  rules: string[][],
  mode: ApplyMode,
): Step[] {
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

/**
 * Remove exactly what `key` owns, wherever it is, and re-derive the shared cap from the records
 * that remain (a bandwidth revert lifts its cap, or hands it to the next lowest); the root goes
 * only with the last of ours.
 */
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
    else {
      const view = sharedView(obs, dev);
      steps.push(...planShared(dev, view, capRecords(dev, view, n.minor), n.minor));
    }
  }
  return steps;
}

/** Remove everything of chaosctl's in the namespace (every CHAOS-* chain, every owned root). */
export function planSweep(obs: Observed): Step[] {
  const steps: Step[] = obs.ipt.jumps.map((j) => ({ argv: ipt.jumpDelete(j), tolerate: GONE }));
  for (const chain of obs.ipt.chains)
    steps.push({ argv: ipt.chainFlush(chain), tolerate: GONE }, { argv: ipt.chainDel(chain), tolerate: GONE });
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

function sharedView(obs: Observed, dev: string): { qdiscs: TcQdisc[]; classes: TcClass[] } {
  return { qdiscs: obs.qdiscs.filter((q) => q.dev === dev), classes: obs.classes[dev] ?? [] };
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
