// What a network guard receives with --spec: the resolved fault spec plus the owner key its
// chains and class are named after. The guard runtime hands effects only the spec, so the
// owner travels inside it (and in the guard's spec label, so a revert can be rebuilt from labels).
import { InvalidNetworkSpec } from "./errors.js";
import type { InjectionKey, NetFaultKind } from "./ids.js";

/**
 * A network guard's entry point in the image (Dockerfile: WORKDIR /app, dist copied in,
 * cli/netns-guard.ts): its prelude (prelude.ts) applies the fault, then the guard verb runs.
 */
export const NETNS_GUARD_ENTRYPOINT = ["node", "/app/dist/src/cli/netns-guard.js"];

/** Whether a container's entry point is exactly `want` (word for word). */
export const isEntry = (e: readonly string[] | undefined, want: readonly string[]): boolean =>
  e !== undefined && e.length === want.length && e.every((a, i) => a === want[i]);

export interface NetGuardSpec<S> {
  injection: { schedule: string; run: string };
  spec: S;
}

export function wrapSpec<S>(owner: { schedule: string; run: string }, spec: S): NetGuardSpec<S> {
  return { injection: { schedule: owner.schedule, run: owner.run }, spec };
}

/** Shape check of a guard's --spec (its fields are validated where they become argv). */
export function unwrapSpec<S>(fault: NetFaultKind, raw: unknown): { key: InjectionKey; spec: S } {
  const r = raw as Partial<NetGuardSpec<S>> | null;
  const inj = r?.injection;
  if (
    !r ||
    typeof r !== "object" ||
    !inj ||
    typeof inj.schedule !== "string" ||
    typeof inj.run !== "string" ||
    !r.spec ||
    typeof r.spec !== "object"
  ) {
    throw new InvalidNetworkSpec(`a ${fault} guard spec needs {injection: {schedule, run}, spec: {...}}`);
  }
  return { key: { schedule: inj.schedule, run: inj.run, fault }, spec: r.spec };
}
