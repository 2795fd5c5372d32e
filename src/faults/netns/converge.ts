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

/** Runs one argv (never a shell string) in the target's network namespace. */
export type NetnsExec = (argv: string[]) => Promise<ExecResult>;

export async function observe(exec: NetnsExec): Promise<Observed> {
  const qdiscs = parseQdiscs(await must(exec, tc.qdiscShow()));
  const classes: Observed["classes"] = {};
  const classMinors: Record<string, number[]> = {};
  const filterPrefs: Record<string, number[]> = {};
  for (const dev of devsWithOurRoot(qdiscs)) {
    classes[dev] = parseClasses(await must(exec, tc.classShow(dev)));
    classMinors[dev] = injectionMinors(classes[dev]);
    filterPrefs[dev] = parseFilterPrefs(await must(exec, tc.filterShow(dev)));
  }
  const ipt_ = parseIptablesSave(await must(exec, ipt.save()));
  return { qdiscs, classes, classMinors, filterPrefs, ipt: ipt_ };
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
  let steps = planApply(inj, await observe(exec), mode); // ForeignQdisc: thrown before any change
  try {
    for (let round = 1; ; round++) {
      let failed: CommandFailed | undefined;
      await runSteps(exec, steps).catch((err: unknown) => {
        if (!(err instanceof CommandFailed)) throw err;
        failed = err;
      });
      steps = planApply(inj, await observe(exec), "ensure");
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

/** Re-add whatever of the injection is missing; cheap when nothing is (observe only). Returns steps run. */
export async function ensureInjection(exec: NetnsExec, inj: NetnsInjection): Promise<number> {
  const steps = planApply(inj, await observe(exec), "ensure");
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

export async function runSteps(exec: NetnsExec, steps: Step[]): Promise<void> {
  for (const s of steps) {
    const r = await exec(s.argv);
    if (r.exitCode === 0) continue;
    if (s.tolerate?.test(r.stderr)) continue;
    throw classify(s.argv, r);
  }
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
