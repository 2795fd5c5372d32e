// The guard effect shared by netem and network faults. The guard runs with
// NetworkMode container:<target> and NET_ADMIN, so tc/iptables run locally (execFile, argv)
// and act on the target's namespace.
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import { EffectRefused, TargetGone, type GuardEffectFactory } from "../guard/effect.js";
import { applyInjection, revertInjection, type NetnsExec } from "./converge.js";
import { CommandFailed, NetworkFaultError } from "./errors.js";
import type { InjectionKey, NetFaultKind } from "./ids.js";
import { localExec } from "./exec-local.js";
import type { NetnsInjection } from "./plan.js";
import { unwrapSpec } from "./guard-spec.js";
import { preludeApplied } from "./prelude-state.js";

export type BuildInjection<S> = (key: InjectionKey, spec: S) => NetnsInjection;

export function netnsEffect<S>(
  fault: NetFaultKind,
  build: BuildInjection<S>,
  exec: NetnsExec = localExec(),
): GuardEffectFactory {
  return ({ engine, targetId, spec, log }) => {
    let key: InjectionKey | undefined;
    return {
      async apply() {
        try {
          const u = unwrapSpec<S>(fault, spec);
          key = u.key;
          // After the prelude applied it (prelude.ts), adopt: add only what is missing.
          await applyInjection(exec, build(u.key, u.spec), preludeApplied() ? "ensure" : "write");
        } catch (err) {
          if (!(await targetAlive(engine, targetId)))
            throw new TargetGone(`target ${targetId} is gone`, { cause: err });
          // Transient command failures are retried by the runtime; the rest will not get better.
          if (err instanceof NetworkFaultError && !(err instanceof CommandFailed))
            throw new EffectRefused(err.reason, err.message, { cause: err });
          throw err;
        }
      },
      async revert() {
        try {
          key ??= unwrapSpec<S>(fault, spec).key;
          const steps = await revertInjection(exec, key);
          log.debug({ steps }, "network fault reverted");
        } catch (err) {
          // The namespace died with the target: nothing of ours can remain in it.
          if (!(await targetAlive(engine, targetId)))
            throw new TargetGone(`target ${targetId} is gone`, { cause: err });
          throw err;
        }
      },
    };
  };
}

async function targetAlive(engine: Engine, id: string): Promise<boolean> {
  try {
    const c = await engine.inspectContainer(id);
    return c.state === "running" || c.state === "paused";
  } catch (err) {
    if (err instanceof ContainerNotFound) return false;
    return true; // unknown: assume alive, so errors are not hidden
  }
}
