// The guard's one decision, pure: revert now, or hold for how long. Timers only wake the guard;
// this function decides (a timer firing early just leads to another hold).

/** setTimeout's largest delay; longer holds are slept in chunks. */
export const MAX_TIMER_MS = 2_147_483_647;

export type GuardDecision = { revert: true } | { revert: false; holdMs: number };

export function guardDecision(until: Date, now: Date): GuardDecision {
  const left = until.getTime() - now.getTime();
  return left <= 0 ? { revert: true } : { revert: false, holdMs: Math.min(left, MAX_TIMER_MS) };
}
