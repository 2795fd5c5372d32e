// The FaultDriver of a network fault (netem or network), on top of the guard machinery
// (faults/guard/driver.ts): the guard shares the target's namespace and applies, holds and
// reverts the fault itself. This module adds what the controller sees from outside:
// - inEffect: every part of the injection is in the namespace (read back with helpers);
// - a target that is not running has no namespace any more: recover reports Gone;
// - after a recover, a sweep of this injection's leftovers (a guard killed mid-apply).
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import type { FaultDriver, Target } from "../driver.js";
import { guardedDriver, type GuardedFault } from "../guard/driver.js";
import { requireContainer } from "../instant.js";
import { revertInjection } from "./converge.js";
import { helperExec } from "./exec-helper.js";
import { unwrapSpec, wrapSpec, type NetGuardSpec } from "./guard-spec.js";
import { ownedNames, type NetFaultKind } from "./ids.js";
import * as ipt from "./iptables.js";
import { parseIptablesSave, parseQdiscs } from "./parse.js";
import type { BuildInjection } from "./effect.js";
import * as tc from "./tc.js";
import { NetworkFaultError } from "./errors.js";

export function netnsDriver<S>(fault: NetFaultKind, build: BuildInjection<S>): FaultDriver<S> {
  const guarded = (image: string) => guardedDriver<NetGuardSpec<S>>(guardedFault(fault, build, image));
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
      return guarded(ctx.image).apply(ctx, target, wrapSpec(owner, spec), owner);
    },
    async recover(ctx, handle) {
      const r = await guarded(ctx.image).recover(ctx, handle);
      if (r.phase !== "Recovered") return r;
      try {
        const { key } = unwrapSpec<S>(fault, handle.spec);
        const id = requireContainer(handle.target);
        if (await present(ctx.engine, ctx.image, id, fault, key, "any")) await revertInjection(helperExec(ctx.engine, ctx.image, id), key);
        return r;
      } catch (err) {
        if (err instanceof ContainerNotFound) return { phase: "Gone" };
        return { phase: "Failed", reason: "RevertFailed", message: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

function guardedFault<S>(fault: NetFaultKind, build: BuildInjection<S>, image: string): GuardedFault<NetGuardSpec<S>> {
  return {
    kind: fault,
    guardContainer: (target: Target) => ({ networkMode: `container:${requireContainer(target)}`, capAdd: ["NET_ADMIN"] }),
    async inEffect(engine, target, wrapped) {
      const { key } = unwrapSpec<S>(fault, wrapped);
      return present(engine, image, requireContainer(target), fault, key, "all", build(key, wrapped.spec));
    },
    async revertDirect(ctx, target, wrapped) {
      const { key } = unwrapSpec<S>(fault, wrapped);
      await revertInjection(helperExec(ctx.engine, image, requireContainer(target)), key);
    },
  };
}

/**
 * Is the injection in the target's namespace: "all" of its parts (apply), or "any" (a leftover)?
 * A target that is not running has no namespace: ContainerNotFound, which recover maps to Gone.
 */
async function present(
  engine: Engine,
  image: string,
  targetId: string,
  fault: NetFaultKind,
  key: { schedule: string; run: string },
  need: "all" | "any",
  inj?: ReturnType<BuildInjection<unknown>>,
): Promise<boolean> {
  const c = await engine.inspectContainer(targetId);
  if (c.state !== "running" && c.state !== "paused") throw new ContainerNotFound(`target ${targetId} is ${c.state}: its network namespace is gone`);
  const n = ownedNames({ ...key, fault });
  const exec = helperExec(engine, image, targetId);
  const [ipSave, qd] = await Promise.all([exec(ipt.save()), exec(tc.qdiscShow())]);
  if (ipSave.exitCode !== 0 || qd.exitCode !== 0) throw new Error(`cannot read the target's namespace: ${ipSave.stderr}${qd.stderr}`.trim());
  const st = parseIptablesSave(ipSave.stdout);
  const leaf = parseQdiscs(qd.stdout).some((q) => q.parent === n.classId);
  const jumpTo = (chain: string) => st.jumps.some((j) => j.target === chain);
  if (need === "any") return leaf || st.chains.includes(n.chainOut) || st.chains.includes(n.chainIn) || jumpTo(n.chainOut) || jumpTo(n.chainIn);
  if (!inj) return false;
  return (!inj.leaf || leaf) && (inj.egress.length === 0 || jumpTo(n.chainOut)) && (inj.ingress.length === 0 || jumpTo(n.chainIn));
}
