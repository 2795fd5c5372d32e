// The guard process: apply the effect, hold until `until` (or, with --hold, that long from the
// moment it was applied, within a hard bound: timing.ts holdDeadline), revert, exit 0. A
// SIGTERM/SIGINT at any point reverts at once. Started after `until`, it only reverts. The guard,
// not the controller, owns the expiry: if the controller dies, the revert still happens on time.
//
// The exit code says whether the target is clean, which is what an observer needs:
//   0  nothing of the fault remains: reverted, target gone, or the effect was refused (logged
//      with result "refused" and a reason; restarting would not help)
//   1  something may remain (revert or apply failed on a transient error): the restart policy
//      (on-failure, bounded) runs the guard again, which applies/reverts idempotently; if it
//      stays non-zero, the controller reverts directly (guardCondition "failed").
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine } from "../../engine/engine.js";
import type { Logger } from "../../util/log.js";
import type { GuardArgs } from "./args.js";
import { EffectRefused, TargetGone, type GuardEffect, type GuardEffectFactory } from "./effect.js";
import { guardDecision, holdDeadline } from "./timing.js";

export const GUARD_EXIT = { done: 0, error: 1 } as const;

export interface GuardDeps {
  engine: Engine;
  log: Logger;
  now: () => Date;
  effects: Partial<Record<string, GuardEffectFactory>>;
  /** Aborted on SIGTERM/SIGINT (wired by the CLI verb). */
  stop: AbortSignal;
  /** Revert retries on transient errors before exiting 1 (then the restart policy retries). */
  revertAttempts?: number;
  /**
   * When a prelude in this process applied the fault before the guard verb adopted it (a network
   * guard's); undefined: the fault counts as applied when the verb's apply returns.
   */
  appliedAt?: () => Date | undefined;
}

export async function runGuard(args: GuardArgs, deps: GuardDeps): Promise<number> {
  const log = deps.log.child({ fault: args.fault, target: args.target, until: args.until.toISOString() });
  const factory = deps.effects[args.fault];
  if (!factory) {
    log.error({ result: "refused", reason: "UnknownFault" }, "no guard effect for this fault");
    return GUARD_EXIT.done;
  }
  const effect = factory({ engine: deps.engine, targetId: args.target, spec: args.spec, log });

  if (guardDecision(args.until, deps.now()).revert) {
    log.info({ event: "late-start" }, "started after expiry: reverting only");
    return revert(effect, log, deps, args.until);
  }
  try {
    await effect.apply();
    log.info({ event: "applied" }, "fault applied");
  } catch (err) {
    if (err instanceof TargetGone) {
      log.info({ event: "target-gone", result: "gone" }, "target gone: nothing to guard");
      return GUARD_EXIT.done;
    }
    if (err instanceof EffectRefused) {
      log.error({ event: "apply", result: "refused", reason: err.reason }, err.message);
      return GUARD_EXIT.done;
    }
    log.error({ event: "apply", result: "failed", reason: "ApplyError", err }, "apply failed");
    // Part of the effect may be in place: take it back before handing over to the restart policy.
    await revert(effect, log, deps, args.until);
    return GUARD_EXIT.error;
  }

  const deadline = holdDeadline(args.until, args.holdMs, deps.appliedAt?.() ?? deps.now());
  await holdUntil(deadline, deps);
  log.info(
    {
      event: deps.stop.aborted ? "stopped" : "expired",
      ...(deadline.getTime() !== args.until.getTime() ? { deadline: deadline.toISOString() } : {}),
    },
    deps.stop.aborted ? "stopped: reverting now" : "expired: reverting",
  );
  return revert(effect, log, deps, deadline);
}

/** Sleeps until `until` or until stopped; re-decides after every wake-up. */
async function holdUntil(until: Date, deps: GuardDeps): Promise<void> {
  for (;;) {
    if (deps.stop.aborted) return;
    const d = guardDecision(until, deps.now());
    if (d.revert) return;
    await sleep(d.holdMs, undefined, { signal: deps.stop }).catch(() => undefined);
  }
}

/** Reverts, retrying transient errors; lateMs in the `reverted` record is counted from `due`. */
async function revert(effect: GuardEffect, log: Logger, deps: GuardDeps, due: Date): Promise<number> {
  const attempts = deps.revertAttempts ?? 5;
  for (let i = 1; ; i++) {
    try {
      await effect.revert();
      // lateMs < 0: reverted before it was due (stopped).
      log.info(
        { event: "reverted", result: "reverted", lateMs: deps.now().getTime() - due.getTime() },
        "fault reverted",
      );
      return GUARD_EXIT.done;
    } catch (err) {
      if (err instanceof TargetGone) {
        log.info({ event: "reverted", result: "gone" }, "target gone: nothing to revert");
        return GUARD_EXIT.done;
      }
      log.warn({ event: "revert", attempt: i, err }, "revert failed");
      if (i >= attempts) return GUARD_EXIT.error;
      await sleep(200 * 2 ** (i - 1));
    }
  }
}
