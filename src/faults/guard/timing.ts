// The guard's one decision, pure: revert now, or hold for how long. Timers only wake the guard;
// this function decides (a timer firing early just leads to another hold).

/** setTimeout's largest delay; longer holds are slept in chunks. */
export const MAX_TIMER_MS = 2_147_483_647;

export type GuardDecision = { revert: true } | { revert: false; holdMs: number };

export function guardDecision(until: Date, now: Date): GuardDecision {
  const left = until.getTime() - now.getTime();
  return left <= 0 ? { revert: true } : { revert: false, holdMs: Math.min(left, MAX_TIMER_MS) };
}

/**
 * How far past `until` a guard holding from its applied moment (--hold) may go: the lead of a fault
 * that lands with its guard's start (the container start and the prelude, ~100-200 ms) with room
 * to spare, and well inside the controller's grace before it reverts an expired run itself.
 */
export const HOLD_LEAD_MAX_MS = 1_000;

/**
 * When a guard reverts. Without a hold: at `until`. With one: `holdMs` after the fault was
 * applied, so the window is whole even when the fault landed late, but never before `until` nor
 * after `until` + HOLD_LEAD_MAX_MS (the hard bound: a restarted guard that applies again cannot
 * stretch it).
 */
export function holdDeadline(until: Date, holdMs: number | undefined, appliedAt: Date): Date {
  if (holdMs === undefined) return until;
  const u = until.getTime();
  return new Date(Math.max(u, Math.min(appliedAt.getTime() + holdMs, u + HOLD_LEAD_MAX_MS)));
}
