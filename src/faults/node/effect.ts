// The node fault's guard effect (registered in faults/guard/effects.ts): the guard's --target is
// the node id, --spec a NodeGuardSpec. drain/pause act through the (manager) engine whose socket
// is mounted; partition acts on the namespace the guard runs in (the node's, NetworkMode host).
import { EffectRefused, type GuardEffect, type GuardEffectFactory } from "../guard/effect.js";
import { localExec } from "../netns/exec-local.js";
import type { NetnsExec } from "../netns/converge.js";
import { availabilityEffect } from "./availability-effect.js";
import { partitionEffect } from "./partition-effect.js";
import { InvalidNodeGuardSpec, unwrapNodeSpec } from "./spec.js";
import { preludeApplied } from "../netns/prelude-state.js";

export function nodeEffectWith(exec: NetnsExec): GuardEffectFactory {
  return ({ engine, targetId, spec }) => {
    let effect: GuardEffect | undefined;
    const get = (): GuardEffect => {
      if (effect) return effect;
      let s;
      try {
        s = unwrapNodeSpec(spec);
      } catch (err) {
        if (err instanceof InvalidNodeGuardSpec) throw new EffectRefused("InvalidSpec", err.message, { cause: err });
        throw err;
      }
      effect =
        s.action === "partition"
          ? partitionEffect(exec, s.owner, s.keepTcpPorts ?? [])
          : availabilityEffect(engine, targetId, s.action, s.owner);
      return effect;
    };
    return {
      // A partition its prelude applied in this very process (netns/prelude.ts): adopted as it is.
      apply: async () => (preludeApplied() && unwrapNodeSpec(spec).action === "partition" ? undefined : get().apply()),
      revert: async () => get().revert(),
    };
  };
}

export const nodeEffect: GuardEffectFactory = nodeEffectWith(localExec());
