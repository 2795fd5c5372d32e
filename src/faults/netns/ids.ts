// Names of what one injection owns inside a namespace, derived from its owner alone, so any
// process (guard, controller, audit) can find and remove it again without stored state.
import { createHash } from "node:crypto";

/** Major of chaosctl's root qdisc: distinctive enough never to be someone else's by chance. */
export const ROOT_MAJOR = "1c4a";
export const ROOT_HANDLE = `${ROOT_MAJOR}:`;
export const CHAIN_PREFIX = "CHAOS-";
export const COMMENT_PREFIX = "chaosctl";

export type NetFaultKind = "netem" | "network";

export interface InjectionKey {
  /** "<namespace>/<name>" of the schedule. */
  schedule: string;
  run: string;
  fault: NetFaultKind;
}

/** What one injection owns: two chains (egress/ingress), one htb class, one leaf qdisc, one filter priority. */
export interface OwnedNames {
  id: string;
  chainOut: string;
  chainIn: string;
  /** Minor of the htb class under the owned root, also the major of its leaf qdisc and the filter priority. */
  minor: number;
  classId: string;
  leafHandle: string;
  /** Handle of the cap's tbf under its netem leaf (derived from the minor; never the root's, never below 0x10). */
  capHandle: string;
  comment: string;
}

export function injectionId(key: InjectionKey): string {
  return createHash("sha256").update(`${key.schedule}\n${key.run}\n${key.fault}`).digest("hex").slice(0, 10);
}

/** A minor in 0x10..0xffef, never the root's major; 1 in ~65k chance that two injections on one interface collide. */
export function minorOf(id: string): number {
  const m = 0x10 + (parseInt(id.slice(0, 4), 16) % 0xffe0);
  return m === parseInt(ROOT_MAJOR, 16) ? m + 1 : m;
}

/** Handle of the cap's tbf under the netem leaf of the injection with this minor. */
export function capHandleOf(minor: number): string {
  const m = minor ^ 0x8000;
  return `${(m < 0x10 || m === parseInt(ROOT_MAJOR, 16) ? m + 0x10 : m).toString(16)}:`;
}

export function ownedNames(key: InjectionKey): OwnedNames {
  const id = injectionId(key);
  const minor = minorOf(id);
  const hex = minor.toString(16);
  return {
    id,
    chainOut: `${CHAIN_PREFIX}${id}-O`,
    chainIn: `${CHAIN_PREFIX}${id}-I`,
    minor,
    classId: `${ROOT_MAJOR}:${hex}`,
    leafHandle: `${hex}:`,
    capHandle: capHandleOf(minor),
    comment: ownerComment(key),
  };
}

/** iptables comment naming the owner; only characters that need no quoting, at most 200. */
export function ownerComment(key: InjectionKey): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._:/-]/g, "_");
  return `${COMMENT_PREFIX}:${key.fault}:${safe(key.schedule)}:${safe(key.run)}`.slice(0, 200);
}

/** The injection id inside one of our chain names, or undefined for any other chain. */
export function idOfChain(chain: string): string | undefined {
  const m = /^CHAOS-([0-9a-f]{10})-[OI]$/.exec(chain);
  return m?.[1];
}
