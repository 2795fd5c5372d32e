// Whether a schedule is halted: an abort set the Halted condition, and no `chaosctl resume`
// (spec.abort.resumedAt) came after it. Pure; read by the controller (start nothing while
// halted) and by the CLI (resume, get, describe).
import type { ChaosScheduleSpec, ChaosScheduleStatus, Condition } from "../api/types.js";

export const HALTED = "Halted";

export function haltedCondition(status: ChaosScheduleStatus | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === HALTED && c.status === "True");
}

/** The Halted condition in force, if any (lifted by abort.resumedAt or haltSchedule: false). */
export function haltInForce(
  spec: Pick<ChaosScheduleSpec, "abort">,
  status: ChaosScheduleStatus | undefined,
): Condition | undefined {
  const c = haltedCondition(status);
  if (!c || spec.abort?.haltSchedule === false) return undefined;
  const resumed = spec.abort?.resumedAt ? Date.parse(spec.abort.resumedAt) : NaN;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  if (!Number.isNaN(resumed) && (Number.isNaN(since) || resumed >= since)) return undefined;
  return c;
}
