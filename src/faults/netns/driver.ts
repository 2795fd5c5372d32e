// The FaultDriver of a network fault (netem or network), on top of the guard machinery
// (faults/guard/driver.ts): the guard shares the target's namespace and applies, holds and
// reverts the fault itself; its entry point applies before chaosctl loads (prelude.ts). This
// module adds what the controller sees from outside:
// - apply: bad input fails before any guard; Injected once the guard logged `applied` (its apply
//   re-observes the namespace until every part is there), so a guard that refuses
//   (KernelUnsupported) is a failure;
// - recover: stop the guard (it reverts on SIGTERM); a guard that exited 0 saying it reverted
//   has verified the namespace clean. Otherwise read the namespace back and remove any leftover
//   of this injection directly (a guard killed mid-apply); a target that is not running has no
//   namespace any more: Gone, once, no error loop.
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import type { FaultDriver, RecoverResult, Target } from "../driver.js";
import { guardLogged, ignoreGone } from "../guard/client.js";
import { guardedDriver, type GuardedDriverOptions, type GuardedFault } from "../guard/driver.js";
import { guardName } from "../guard/spec.js";
import { requireContainer } from "../instant.js";
import { revertInjection, type NetnsExec } from "./converge.js";
import { helperExec } from "./exec-helper.js";
import { NETNS_GUARD_ENTRYPOINT, unwrapSpec, wrapSpec, type NetGuardSpec } from "./guard-spec.js";
import { netnsGuardCommand } from "./shell-prelude.js";
import { ownedNames, type InjectionKey, type NetFaultKind } from "./ids.js";
import * as ipt from "./iptables.js";
import { parseIptablesSave, parseQdiscs } from "./parse.js";
import type { BuildInjection } from "./effect.js";
import type { NetnsInjection } from "./plan.js";
import * as tc from "./tc.js";
import { NetworkFaultError } from "./errors.js";

const STOP_TIMEOUT_S = 15;

/**
 * How often apply reads the guard's log for its `applied` record (the guards' default is 50 ms).
 * A network guard's prelude lands its fault within ~100 ms of the start on a real host, so a
 * 50 ms poll added ~25 ms on average to apply's return; each poll is three short API calls.
 */
const APPLIED_POLL_MS = 20;

export interface NetnsDriverOptions extends GuardedDriverOptions {
  /**
   * The guard's prelude: "shell" (default), the image's netns-guard.sh where the clean plan
   * batches (shell-prelude.ts), else Node.js's; "node": always Node.js's (an image from before the
   * shell prelude, e.g. the benches' A/B).
   */
  prelude?: "shell" | "node";
}

/** `opts`: the guard's apply bound etc.; a slow node (e.g. an emulated VM, scripts/vm) needs more than the default 10 s. */
export function netnsDriver<S>(
  fault: NetFaultKind,
  build: BuildInjection<S>,
  { prelude = "shell", ...opts }: NetnsDriverOptions = {},
): FaultDriver<S> {
  return {
    kind: fault,
    durative: true,
    targets: "container",

    async apply(ctx, target, spec, owner) {
      try {
        build({ schedule: owner.schedule, run: owner.run, fault }, spec); // bad input fails here, before any guard
      } catch (err) {
        if (err instanceof NetworkFaultError) return { phase: "Failed", reason: err.reason, message: err.message };
        throw err;
      }
      return guardedDriver<NetGuardSpec<S>>(guardedFault<S>(fault, prelude), {
        pollMs: APPLIED_POLL_MS,
        ...opts,
      }).apply(ctx, target, wrapSpec(owner, spec), owner);
    },

    async recover(ctx, handle): Promise<RecoverResult> {
      const { engine } = ctx;
      if (handle.guardId) {
        await engine.stopContainer(handle.guardId, STOP_TIMEOUT_S).catch(ignoreGone);
        // The guard reverted on SIGTERM and exited 0: its revert re-observed the namespace until
        // nothing of the injection was left (converge.ts), so no helper needs to look again.
        if (await revertedByGuard(engine, handle.guardId)) {
          await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
          return { phase: "Recovered" };
        }
      }
      try {
        const { key } = unwrapSpec<S>(fault, handle.spec);
        const id = requireContainer(handle.target);
        const exec = helperExec(engine, ctx.image, id);
        if (await present(engine, exec, id, key, "any")) {
          await revertInjection(exec, key);
          if (await present(engine, exec, id, key, "any")) {
            return {
              phase: "Failed",
              reason: "RevertFailed",
              message: `${fault} of ${key.schedule} run ${key.run} still in ${id}'s namespace`,
            };
          }
        }
      } catch (err) {
        if (!(err instanceof ContainerNotFound)) {
          // Keep the guard: it is the cluster's record that something may still be injected.
          return {
            phase: "Failed",
            reason: err instanceof NetworkFaultError ? err.reason : "RevertFailed",
            message: err instanceof Error ? err.message : String(err),
          };
        }
        if (handle.guardId) await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
        return { phase: "Gone" };
      }
      if (handle.guardId) await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
      return { phase: "Recovered" };
    },
  };
}

function guardedFault<S>(fault: NetFaultKind, prelude: "shell" | "node"): GuardedFault<NetGuardSpec<S>> {
  return {
    kind: fault,
    // The fault lands once its guard's container has started (~100-200 ms after the call): the
    // guard holds the run's duration from that moment, so the window is whole.
    holdFromApplied: true,
    guardContainer: (target: Target) => ({
      networkMode: `container:${requireContainer(target)}`,
      capAdd: ["NET_ADMIN"],
      // The prelude applies the fault as soon as the guard's container runs: the shell's before
      // Node.js starts (netns-guard.sh, shell-prelude.ts), or Node.js's (prelude.ts).
      entrypoint: NETNS_GUARD_ENTRYPOINT,
      ...(prelude === "shell" ? { command: netnsGuardCommand } : {}),
    }),
    // The guard's word: it logs `applied` once its apply (the prelude's or the guard verb's)
    // re-observed the namespace and found every part in place (converge.ts), which is the
    // read-back, done from inside the namespace instead of through a `docker exec` per command.
    async inEffect(engine, target, wrapped) {
      const { key } = unwrapSpec<S>(fault, wrapped);
      const id = requireContainer(target);
      const guard = guardName({ schedule: key.schedule, run: key.run, generation: 0 }, target, fault);
      const [c, applied] = await Promise.all([engine.inspectContainer(id), guardLogged(engine, guard, "applied")]);
      if (c.state !== "running" && c.state !== "paused")
        throw new ContainerNotFound(`target ${id} is ${c.state}: its network namespace is gone`);
      return applied;
    },
    async revertDirect(ctx, target, wrapped) {
      await revertInjection(
        helperExec(ctx.engine, ctx.image, requireContainer(target)),
        unwrapSpec<S>(fault, wrapped).key,
      );
    },
  };
}

async function revertedByGuard(engine: Engine, guardId: string): Promise<boolean> {
  const g = await engine.inspectContainer(guardId).catch((e: unknown) => {
    if (e instanceof ContainerNotFound) return undefined;
    throw e;
  });
  return (
    !!g && g.state === "exited" && g.exitCode === 0 && (await guardLogged(engine, guardId, "reverted", "reverted"))
  );
}

/**
 * Is the injection in the target's namespace: "all" of its parts (apply), or "any" (a leftover)?
 * A target that is not running has no namespace: ContainerNotFound (recover maps it to Gone).
 */
async function present(
  engine: Engine,
  exec: NetnsExec,
  targetId: string,
  key: InjectionKey,
  need: "all" | "any",
  inj?: NetnsInjection,
): Promise<boolean> {
  const c = await engine.inspectContainer(targetId);
  if (c.state !== "running" && c.state !== "paused")
    throw new ContainerNotFound(`target ${targetId} is ${c.state}: its network namespace is gone`);
  const n = ownedNames(key);
  const [ipSave, qd] = await Promise.all([exec(ipt.save()), exec(tc.qdiscShow())]);
  if (ipSave.exitCode !== 0 || qd.exitCode !== 0)
    throw new NetworkFaultError(`cannot read ${targetId}'s namespace: ${ipSave.stderr}${qd.stderr}`.trim());
  const st = parseIptablesSave(ipSave.stdout);
  const leaf = parseQdiscs(qd.stdout).some((q) => q.parent === n.classId);
  const jumpTo = (chain: string) => st.jumps.some((j) => j.target === chain);
  if (need === "any") return leaf || [n.chainOut, n.chainIn].some((ch) => st.chains.includes(ch) || jumpTo(ch));
  if (!inj) return false;
  return (
    (!inj.leaf || leaf) &&
    (inj.egress.length === 0 || jumpTo(n.chainOut)) &&
    (inj.ingress.length === 0 || jumpTo(n.chainIn))
  );
}
