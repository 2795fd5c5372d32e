// pause inside a guard: freeze the target's processes (cgroup freezer), thaw at revert.
import { ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import { EffectRefused, TargetGone, type GuardEffect, type GuardEffectContext } from "../guard/effect.js";

export function pauseEffect({ engine, targetId }: GuardEffectContext): GuardEffect {
  return {
    async apply() {
      try {
        await engine.pauseContainer(targetId);
      } catch (err) {
        if (err instanceof ContainerNotFound) throw new TargetGone(err.message, { cause: err });
        if (!(err instanceof ContainerStateConflict)) throw err;
        // Conflict: already paused (a restarted guard) is fine; anything else cannot be paused.
        const c = await engine.inspectContainer(targetId).catch((e: unknown) => {
          throw e instanceof ContainerNotFound ? new TargetGone(e.message, { cause: e }) : e;
        });
        if (c.state !== "paused")
          throw new EffectRefused("TargetNotRunning", `cannot pause ${targetId}: it is ${c.state}`, { cause: err });
      }
    },
    async revert() {
      try {
        await engine.unpauseContainer(targetId);
      } catch (err) {
        // Already unpaused (or stopped), or gone: the fault is not in effect, which is the goal.
        if (err instanceof ContainerNotFound || err instanceof ContainerStateConflict) return;
        throw err;
      }
    },
  };
}
