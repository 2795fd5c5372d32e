// What a node guard receives with --spec: the action plus the owner it records on the node (the
// guard runtime hands effects only the spec, so the owner travels inside it, as for network
// faults) and the ports a partition must keep open. Pure.
import type { NodeFault } from "../../api/types.js";
import type { Owner } from "../driver.js";

export type NodeAction = NodeFault["action"];
/** The actions a guard enforces until expiry (reboot is a hook call, not a held state). */
export type GuardedNodeAction = Exclude<NodeAction, "reboot">;

export interface NodeGuardOwner {
  schedule: string;
  generation: number;
  run: string;
  instance?: string;
  /** RFC 3339. */
  expires: string;
}

export interface NodeGuardSpec {
  action: GuardedNodeAction;
  owner: NodeGuardOwner;
  /** partition: TCP ports left open in both directions (the agent's own port). */
  keepTcpPorts?: number[];
}

export class InvalidNodeGuardSpec extends Error {
  override readonly name = "InvalidNodeGuardSpec";
}

export function wrapNodeSpec(
  action: GuardedNodeAction,
  owner: Owner,
  expires: Date,
  keepTcpPorts: readonly number[] = [],
): NodeGuardSpec {
  return {
    action,
    owner: {
      schedule: owner.schedule,
      generation: owner.generation,
      run: owner.run,
      ...(owner.instance ? { instance: owner.instance } : {}),
      expires: expires.toISOString(),
    },
    ...(keepTcpPorts.length ? { keepTcpPorts: [...keepTcpPorts] } : {}),
  };
}

const ACTIONS: readonly GuardedNodeAction[] = ["drain", "pause", "partition"];

/** Shape check of a node guard's --spec (ports are checked again where they become argv). */
export function unwrapNodeSpec(raw: unknown): NodeGuardSpec {
  const r = raw as Partial<NodeGuardSpec> | null;
  const o = r?.owner;
  if (!r || typeof r !== "object" || !ACTIONS.includes(r.action as GuardedNodeAction)) {
    throw new InvalidNodeGuardSpec(`a node guard spec needs action ${ACTIONS.join("|")}`);
  }
  if (
    !o ||
    typeof o.schedule !== "string" ||
    typeof o.run !== "string" ||
    typeof o.generation !== "number" ||
    typeof o.expires !== "string"
  ) {
    throw new InvalidNodeGuardSpec("a node guard spec needs owner {schedule, generation, run, expires}");
  }
  if (r.keepTcpPorts !== undefined && !(Array.isArray(r.keepTcpPorts) && r.keepTcpPorts.every(isPort))) {
    throw new InvalidNodeGuardSpec("keepTcpPorts must be a list of ports 1-65535");
  }
  return r as NodeGuardSpec;
}

export const isPort = (p: unknown): p is number => typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
