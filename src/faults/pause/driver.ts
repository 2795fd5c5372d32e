// pause (durative): freeze the target's container until expiry. The controller pauses it
// directly once a guard container's start is with the engine (faults/guard); the guard pauses
// too when it boots (a no-op by then) and unpauses at expiry, even if the controller is gone.
import type { PauseFault } from "../../api/types.js";
import { guardedDriver } from "../guard/driver.js";
import { requireContainer } from "../instant.js";
import { silentLogger } from "../../util/log.js";
import { pauseEffect } from "./effect.js";

export const pauseDriver = guardedDriver<PauseFault>({
  kind: "pause",
  async inEffect(engine, target) {
    return (await engine.inspectContainer(requireContainer(target))).state === "paused";
  },
  // The direct way, once the guard's start is with the engine: the same idempotent apply the guard runs.
  async applyDirect(ctx, target, spec) {
    await pauseEffect({ engine: ctx.engine, targetId: requireContainer(target), spec, log: silentLogger }).apply();
  },
  // Unpausing needs no helper: the same idempotent revert the guard runs, from here.
  async revertDirect(ctx, target, spec) {
    await pauseEffect({ engine: ctx.engine, targetId: requireContainer(target), spec, log: silentLogger }).revert();
  },
});
