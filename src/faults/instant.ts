// Shared shape of the instantaneous container faults (kill, stop, restart): one engine call on
// the target's container, nothing to revert afterwards.
import type { Engine } from "../engine/engine.js";
import { ContainerNotFound, ContainerStateConflict, EngineError } from "../engine/errors.js";
import { parseDuration } from "../api/duration.js";
import type { ApplyResult, DriverContext, FaultDriver, FaultKind, RecoverResult, Target } from "./driver.js";

/** Maps a failed engine call to a stable Failed reason. */
export function failedFrom(err: unknown): Extract<ApplyResult, { phase: "Failed" }> {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ContainerNotFound) return { phase: "Failed", reason: "TargetGone", message };
  if (err instanceof ContainerStateConflict) return { phase: "Failed", reason: "TargetNotRunning", message };
  if (err instanceof EngineError) return { phase: "Failed", reason: err.code, message };
  return { phase: "Failed", reason: "Error", message };
}

export function requireContainer(target: Target): string {
  if (target.kind !== "container" || !target.containerId)
    throw new Error(`target is not a container: ${JSON.stringify(target)}`);
  return target.containerId;
}

/** Whole seconds for Docker's stop timeout, rounding up ("1500ms" → 2). */
export function timeoutSeconds(text: string | undefined, fallbackSeconds: number): number {
  return text === undefined ? fallbackSeconds : Math.ceil(parseDuration(text) / 1000);
}

export function instantDriver<Spec>(
  kind: FaultKind,
  act: (engine: Engine, containerId: string, spec: Spec) => Promise<void>,
): FaultDriver<Spec> {
  return {
    kind,
    durative: false,
    targets: "container",
    async apply(ctx: DriverContext, target: Target, spec: Spec): Promise<ApplyResult> {
      try {
        await act(ctx.engine, requireContainer(target), spec);
        return { phase: "Done" };
      } catch (err) {
        return failedFrom(err);
      }
    },
    // Nothing stays injected: Swarm heals the service by itself.
    async recover(): Promise<RecoverResult> {
      return { phase: "Recovered" };
    },
  };
}
