// A guard effect: what a guard does to its target, per fault kind. Both calls are idempotent
// (a restarted guard applies again; a revert of something already reverted or gone succeeds).
// Adding a durative fault = one effect registered in effects.ts + a guardedDriver (driver.ts).
import type { Engine } from "../../engine/engine.js";
import type { Logger } from "../../util/log.js";

export interface GuardEffect {
  apply(): Promise<void>;
  revert(): Promise<void>;
}

export interface GuardEffectContext {
  /** The engine of the guard's own node (docker.sock mounted into the guard). */
  engine: Engine;
  targetId: string;
  /** The fault's spec as given with --spec (parsed JSON), {} when absent. */
  spec: unknown;
  log: Logger;
}

export type GuardEffectFactory = (ctx: GuardEffectContext) => GuardEffect;

/** The effect cannot be applied and retrying will not help (e.g. target not running). */
export class EffectRefused extends Error {
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EffectRefused";
    this.reason = reason;
  }
}

/** The target no longer exists: nothing to apply or revert. */
export class TargetGone extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TargetGone";
  }
}
