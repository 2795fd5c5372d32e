// observe -> plan -> execute, the side-effect part: runs argv in the target's namespace
// through a NetnsExec (local execFile inside a guard, or docker exec into a helper).
import type { ExecResult } from "../../engine/engine.js";
import type { InjectionKey } from "./ids.js";
import { CommandFailed, KernelUnsupported, NoSuchInterface, NetworkFaultError } from "./errors.js";
import {
  injectionMinors,
  parseClasses,
  parseFilterPrefs,
  parseIptablesSave,
  parseQdiscs,
  devsWithOurRoot,
} from "./parse.js";
import {
  planApply,
  planRevert,
  planSweep,
  isClean,
  type ApplyMode,
  type NetnsInjection,
  type Observed,
  type Step,
} from "./plan.js";
import * as tc from "./tc.js";
import * as ipt from "./iptables.js";

/**
 * Runs one argv (never a shell string) in the target's network namespace. An exec that says
 * `stdin` also hands `input` to the command's standard input: runSteps then runs consecutive
 * `tc` steps as one `tc -batch -` process.
 */
export interface NetnsExec {
  (argv: string[], input?: string): Promise<ExecResult>;
  readonly stdin?: boolean;
}

/** What of the namespace to read: the tc tree, the filter table's CHAOS-* chains; both by default. */
export interface ObserveParts {
  tc: boolean;
  ipt: boolean;
}

const ALL: ObserveParts = { tc: true, ipt: true };

/**
 * Read the namespace: `tc qdisc show` beside `iptables-save`, then the classes and filters of each
 * interface with our root, all at once (independent reads; a snapshot taken one read after the
 * other was no more atomic). A part not asked for reads as empty. On failures, the error of the
 * first read in the order above is thrown, as when they ran one after the other.
 */
export async function observe(exec: NetnsExec, parts: ObserveParts = ALL): Promise<Observed> {
  const [qdiscText = "", iptText = ""] = await all([
    parts.tc ? must(exec, tc.qdiscShow()) : Promise.resolve(""),
    parts.ipt ? must(exec, ipt.save()) : Promise.resolve(""),
  ]);
  const qdiscs = parseQdiscs(qdiscText);
  const devs = devsWithOurRoot(qdiscs);
  const perDev = await all(devs.flatMap((dev) => [must(exec, tc.classShow(dev)), must(exec, tc.filterShow(dev))]));
  const classes: Observed["classes"] = {};
  const classMinors: Record<string, number[]> = {};
  const filterPrefs: Record<string, number[]> = {};
  devs.forEach((dev, i) => {
    classes[dev] = parseClasses(perDev[2 * i] ?? "");
    classMinors[dev] = injectionMinors(classes[dev]);
    filterPrefs[dev] = parseFilterPrefs(perDev[2 * i + 1] ?? "");
  });
  return { qdiscs, classes, classMinors, filterPrefs, ipt: parseIptablesSave(iptText) };
}

/** Promise.all that waits for every read and rejects with the first failure in array order. */
async function all<T>(ps: Promise<T>[]): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** What planApply reads of the namespace for `inj`: the tc tree only with a leaf, the chains only with rules. */
export function partsFor(inj: NetnsInjection): ObserveParts {
  return { tc: inj.leaf !== undefined, ipt: inj.egress.length > 0 || inj.ingress.length > 0 };
}

/**
 * Apply one injection and verify it holds. A concurrent guard in the same namespace may
 * delete the shared root between our observe and our step (the command then fails, or the
 * class silently goes with the root): re-observe and re-run what is missing, a few rounds.
 * On a failure that will not heal (kernel, foreign root, bad interface) or when the rounds
 * run out, whatever this injection added is reverted before the error is rethrown: nothing
 * is left half-applied (a tbf added before a netem the kernel lacks is removed again).
 */
export async function applyInjection(
  exec: NetnsExec,
  inj: NetnsInjection,
  mode: ApplyMode = "write",
  rounds = 4,
): Promise<void> {
  const parts = partsFor(inj);
  let steps = planApply(inj, await observe(exec, parts), mode); // ForeignQdisc: thrown before any change
  // Nothing to add (an adoption of what the prelude applied and verified): nothing to verify again.
  if (steps.length === 0) return;
  try {
    for (let round = 1; ; round++) {
      let failed: CommandFailed | undefined;
      await runSteps(exec, steps).catch((err: unknown) => {
        if (!(err instanceof CommandFailed)) throw err;
        failed = err;
      });
      steps = planApply(inj, await observe(exec, parts), "ensure");
      if (steps.length === 0) return;
      if (round >= rounds)
        throw (
          failed ??
          new NetworkFaultError(
            `injection did not converge in ${rounds} rounds (another process keeps changing the namespace)`,
          )
        );
    }
  } catch (err) {
    await revertInjection(exec, inj.key).catch(() => undefined);
    throw err;
  }
}

/** What a clean namespace reads as: nothing of ours, no root but the default. */
const CLEAN: Observed = {
  qdiscs: [],
  classes: {},
  classMinors: {},
  filterPrefs: {},
  ipt: { chains: [], jumps: [], ruleCount: {} },
};

/**
 * The plan of `inj` for a clean namespace, made to fail unless each part it writes is clean: its
 * only steps that tolerate "already so" are the ones that create the shared root (`tc qdisc add
 * ... root`) and the injection's chains (`iptables -N`); without that tolerance they fail, having
 * changed nothing, where the root or a chain exists. Everything of ours on an interface hangs from
 * its root, and no jump can point at a chain that does not exist, so when these succeed the
 * namespace held nothing of ours there and the plan is the one an observe would have given.
 */
export function planClean(inj: NetnsInjection): Step[] {
  return planApply(inj, CLEAN, "write").map(({ argv }) => ({ argv }));
}

/**
 * Apply in a namespace that is most likely clean (a guard that has just started): the clean plan
 * first, with no read before it, so the fault lands one read sooner; then the same verification
 * as applyInjection (observe until the plan is empty, everything reverted on a failure). When a
 * step of the clean plan fails (the namespace was not clean, or the kernel refuses), nothing is
 * assumed: applyInjection runs as it always does, observing first, and reports what it finds.
 */
export async function applyToClean(exec: NetnsExec, inj: NetnsInjection, rounds = 4): Promise<void> {
  try {
    await runSteps(exec, planClean(inj));
  } catch (err) {
    if (err instanceof NetworkFaultError) return applyInjection(exec, inj, "write", rounds);
    await revertInjection(exec, inj.key).catch(() => undefined);
    throw err;
  }
  try {
    await applyInjection(exec, inj, "ensure", rounds);
  } catch (err) {
    await revertInjection(exec, inj.key).catch(() => undefined);
    throw err;
  }
}

/** Re-add whatever of the injection is missing; cheap when nothing is (observe only). Returns steps run. */
export async function ensureInjection(exec: NetnsExec, inj: NetnsInjection): Promise<number> {
  const steps = planApply(inj, await observe(exec, partsFor(inj)), "ensure");
  await runSteps(exec, steps);
  return steps.length;
}

/**
 * Remove what `key` owns and re-derive the shared cap from what remains; idempotent. Like apply,
 * it re-observes until its plan is empty: a guard applying or reverting at the same time may
 * have changed the records the cap was derived from. Returns the steps run (0: nothing to do).
 */
export async function revertInjection(exec: NetnsExec, key: InjectionKey, rounds = 4): Promise<number> {
  let total = 0;
  for (let round = 1; ; round++) {
    const steps = planRevert(key, await observe(exec));
    if (steps.length === 0) return total;
    if (round > rounds)
      throw new NetworkFaultError(
        `revert did not converge in ${rounds} rounds (another process keeps changing the namespace)`,
      );
    total += steps.length;
    await runSteps(exec, steps).catch((err: unknown) => {
      if (!(err instanceof CommandFailed) || round === rounds) throw err;
    });
  }
}

/** Remove everything of chaosctl's from the namespace (audit/cleanup, tests). */
export async function sweep(exec: NetnsExec): Promise<boolean> {
  await runSteps(exec, planSweep(await observe(exec)));
  return isClean(await observe(exec));
}

/**
 * Run the steps in order; the first failure not tolerated by its step stops them (thrown, typed).
 * With an exec that takes stdin, each run of two or more consecutive steps of one tool goes to one
 * process, and a batch that fails leaves the meaning of each step as it was:
 * - `tc` steps to ONE `tc -batch -`, which applies its lines in order and stops at the first that
 *   fails, saying which ("Command failed -:N"). The lines before N are done; step N is run again
 *   on its own, so its own stderr meets its own `tolerate` (or classify) exactly as without the
 *   batch, and the rest is batched again. A failed command changed nothing, so running it again
 *   is running it a little later. If tc's answer names no line (killed, timed out), the batch's
 *   first step is run on its own and the rest batched again: a step may then run twice, which
 *   every tc step here takes (a replace, a delete tolerating "gone", an add tolerating "exists"),
 *   but a filter add, whose second copy is a duplicate its injection's `filter del ... prio`
 *   removes with the first;
 * - `iptables` steps to ONE `iptables-restore --noflush` of the filter table, which commits all
 *   its lines or none (one transaction): when it fails nothing changed, so the first step is run
 *   on its own (its own stderr, its own tolerate) and the rest batched again.
 */
export async function runSteps(exec: NetnsExec, steps: Step[]): Promise<void> {
  let i = 0;
  while (i < steps.length) {
    const b = exec.stdin === true ? batchAt(steps, i) : undefined;
    if (b && b.lines.length >= 2) {
      const n = b.lines.length;
      const r =
        b.kind === "tc"
          ? await exec(TC_BATCH, b.lines.map((l) => `${l}\n`).join(""))
          : await exec(IPT_RESTORE, `*filter\n${b.lines.map((l) => `${l}\n`).join("")}COMMIT\n`);
      if (r.exitCode === 0) {
        i += n;
        continue;
      }
      const line = b.kind === "tc" ? failedLine(r.stderr) : undefined;
      if (line !== undefined && line <= n) i += line - 1;
    }
    const s = steps[i] as Step;
    const r = await exec(s.argv);
    i++;
    if (r.exitCode === 0) continue;
    if (s.tolerate?.test(r.stderr)) continue;
    throw classify(s.argv, r);
  }
}

export const TC_BATCH = ["tc", "-batch", "-"];
export const IPT_RESTORE = ["iptables-restore", "-w", "5", "--noflush"];

/** A word tc's batch reader and iptables-restore take as one argument as it is: no blank, quote, backslash, `#` or `!`. */
const PLAIN_WORD = /^[A-Za-z0-9_.:/+,=@%-]+$/;
const IPT_OPS = new Set(["-N", "-F", "-X", "-A", "-I", "-D"]);

/** The step as a batch line of `kind`: `tc <object> ...` or `iptables -w 5 <op> ...` (filter table), plain words only. */
function batchLine(kind: "tc" | "iptables", argv: readonly string[]): string | undefined {
  let words: readonly string[];
  if (kind === "tc") {
    if (argv[0] !== "tc" || argv[1] === undefined || argv[1].startsWith("-")) return undefined;
    words = argv.slice(1);
  } else {
    if (argv[0] !== "iptables" || argv[1] !== "-w" || argv[2] !== "5" || !IPT_OPS.has(argv[3] ?? "")) return undefined;
    words = argv.slice(3);
  }
  return words.every((w) => PLAIN_WORD.test(w)) ? words.join(" ") : undefined;
}

/** The batch lines of the steps from `from` on that one process of the first step's tool can run. */
export function batchAt(
  steps: readonly Step[],
  from: number,
): { kind: "tc" | "iptables"; lines: string[] } | undefined {
  const kind = steps[from]?.argv[0] === "tc" ? "tc" : "iptables";
  const lines: string[] = [];
  for (const s of steps.slice(from)) {
    const l = batchLine(kind, s.argv);
    if (l === undefined) break;
    lines.push(l);
  }
  return lines.length > 0 ? { kind, lines } : undefined;
}

/** The 1-based line a `tc -batch -` stopped at, from its "Command failed -:N". */
export function failedLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

async function must(exec: NetnsExec, argv: string[]): Promise<string> {
  const r = await exec(argv);
  if (r.exitCode !== 0) throw classify(argv, r);
  return r.stdout;
}

const QDISC_KINDS = ["netem", "tbf", "htb", "bfifo"];

/** Map a failed command to a typed error; KernelUnsupported names the missing kernel piece. */
export function classify(argv: readonly string[], r: ExecResult): NetworkFaultError {
  const err = r.stderr;
  if (/Specified qdisc kind is unknown|qdisc kind is unknown/i.test(err)) {
    const kind = argv.find((a, i) => i > 2 && QDISC_KINDS.includes(a)) ?? "the requested qdisc";
    return new KernelUnsupported(`sch_${kind}`, err.trim());
  }
  if (/Unknown filter|Specified filter kind|filter kind not found/i.test(err))
    return new KernelUnsupported("cls_u32", err.trim());
  if (/Couldn't load match `?statistic|match `?statistic'? not found/i.test(err))
    return new KernelUnsupported("xt_statistic", err.trim());
  if (/Couldn't load match `?comment|match `?comment'? not found/i.test(err))
    return new KernelUnsupported("xt_comment", err.trim());
  if (/Cannot find device/i.test(err)) {
    const i = argv.indexOf("dev");
    return new NoSuchInterface(`no interface ${JSON.stringify(i >= 0 ? argv[i + 1] : "?")} in the target's namespace`);
  }
  return new CommandFailed(argv, r.exitCode, err);
}
