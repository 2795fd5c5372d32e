// The hook the reconcile loop calls around each pass, so operations (metrics, health) watch the
// controller without the controller knowing about them.
import type { ChaosScheduleStatus } from "../api/types.js";
import type { InjectionHandle } from "../faults/driver.js";
import type { Plan } from "./plan.js";

/** What one successful pass saw and did (the extra fields of Controller's PassResult). */
export interface PassFacts {
  plan: Plan;
  /** Injections as they stand after the pass. */
  injections?: InjectionHandle[];
  /** Status before and after the pass, by schedule key (valid manifests only). */
  statuses?: Map<string, { prev?: ChaosScheduleStatus; next: ChaosScheduleStatus }>;
  manifests?: { valid: number; invalid: number };
}

export interface PassOutcome {
  startedAt: Date;
  endedAt: Date;
  /** Set when the pass completed. */
  result?: PassFacts;
  /** Set when the pass threw. */
  error?: unknown;
}

export interface PassObserver {
  passStarted?(at: Date): void;
  passEnded(outcome: PassOutcome): void;
}

/** Thrown inside a pass when the controller may no longer act (its leader lease ran out). */
export class LeadershipLost extends Error {
  readonly code = "LeadershipLost";
  constructor() {
    super("leader lease lost: this controller stopped acting");
    this.name = "LeadershipLost";
  }
}

/** Fans one pass outcome out to several observers. */
export function observers(...list: Array<PassObserver | undefined>): PassObserver {
  const xs = list.filter((x): x is PassObserver => !!x);
  return {
    passStarted: (at) => xs.forEach((x) => x.passStarted?.(at)),
    passEnded: (o) => xs.forEach((x) => x.passEnded(o)),
  };
}
