// pause (durative): freeze the target's container until expiry. Enforced by a guard container
// (faults/guard) that pauses the target itself and unpauses it at expiry, even if the
// controller that asked for it is gone.
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
  // Unpausing needs no helper: the same idempotent revert the guard runs, from here.
  async revertDirect(ctx, target, spec) {
    await pauseEffect({ engine: ctx.engine, targetId: requireContainer(target), spec, log: silentLogger }).revert();
  },
});
