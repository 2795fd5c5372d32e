// The hidden `chaosctl guard` verb's arguments, checked once (pure).
import { UsageError } from "../../util/errors.js";
import type { FaultKind } from "../driver.js";
import { guardEffects } from "./effects.js";

export interface GuardArgs {
  fault: FaultKind;
  /** Target container id. */
  target: string;
  until: Date;
  spec: unknown;
  /**
   * Hold the fault this long from the moment it was applied (a fault that lands with its guard's
   * start: the network ones), instead of only until `until`; never past `until` +
   * HOLD_LEAD_MAX_MS (timing.ts holdDeadline).
   */
  holdMs?: number;
}

export interface RawGuardArgs {
  fault?: string;
  target?: string;
  until?: string;
  spec?: string;
  hold?: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function parseGuardArgs(raw: RawGuardArgs): GuardArgs {
  const fault = raw.fault;
  if (!fault || !(fault in guardEffects)) {
    throw new UsageError(
      `--fault must be one of: ${Object.keys(guardEffects).join(", ")} (got ${JSON.stringify(fault)})`,
    );
  }
  if (!raw.target || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(raw.target))
    throw new UsageError(`--target must be a container id or name`);
  if (!raw.until || !RFC3339.test(raw.until))
    throw new UsageError(`--until must be an RFC 3339 time (got ${JSON.stringify(raw.until)})`);
  const until = new Date(raw.until);
  if (Number.isNaN(until.getTime())) throw new UsageError(`--until is not a valid time: ${raw.until}`);
  let spec: unknown = {};
  if (raw.spec !== undefined) {
    try {
      spec = JSON.parse(raw.spec);
    } catch {
      throw new UsageError(`--spec must be JSON`);
    }
  }
  if (raw.hold !== undefined && !/^[1-9]\d{0,9}$/.test(raw.hold))
    throw new UsageError(`--hold must be a whole number of milliseconds above 0 (got ${JSON.stringify(raw.hold)})`);
  const hold = raw.hold === undefined ? {} : { holdMs: Number(raw.hold) };
  return { fault: fault as FaultKind, target: raw.target, until, spec, ...hold };
}

/** argv for the guard verb (after the image's entrypoint). */
export function guardArgv(a: GuardArgs): string[] {
  return [
    "guard",
    "--fault",
    a.fault,
    "--target",
    a.target,
    "--until",
    a.until.toISOString(),
    "--spec",
    JSON.stringify(a.spec ?? {}),
    ...(a.holdMs !== undefined ? ["--hold", String(a.holdMs)] : []),
  ];
}
