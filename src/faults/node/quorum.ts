// Manager safety for node faults (pure). Raft needs a majority of ALL managers reachable:
// floor(n/2)+1. A partition or a reboot takes a node out of reach; drain and pause leave raft
// alone but move work off the node. Refused unless the manifest allows it:
// - ManagersNotAllowed: a manager is targeted and fault.node.allowManagers is not set;
// - QuorumLoss: partition/reboot would leave fewer than floor(n/2)+1 reachable managers;
// - LastActiveManager: no manager would stay reachable and active (also for drain/pause).
// safety.allowManagerLoss lifts the last two (a deliberate disaster drill), never the first.
// One rule, applied twice: by the planner when it chooses nodes (controller/node-targets.ts) and
// by the agent when it admits a node fault (agent/admission.ts), so it lives with the node fault.
import type { NodeInfo } from "../../engine/engine.js";
import type { NodeAction } from "./spec.js";

export interface NodeSafetyInput {
  action: NodeAction;
  /** Node ids the run would fault. */
  targets: readonly string[];
  nodes: readonly NodeInfo[];
  allowManagers?: boolean;
  allowManagerLoss?: boolean;
  /** Nodes other node faults take out in this same pass (not visible in the snapshot yet). */
  alsoOut?: ReadonlySet<string>;
}

export type NodeSafetyVerdict =
  { ok: true } | { ok: false; reason: "ManagersNotAllowed" | "QuorumLoss" | "LastActiveManager"; message: string };

export const quorumOf = (managers: number): number => Math.floor(managers / 2) + 1;

/** Actions after which a node no longer takes part in raft. */
export const CUTS_REACHABILITY: ReadonlySet<NodeAction> = new Set<NodeAction>(["partition", "reboot"]);

export function checkNodeSafety(i: NodeSafetyInput): NodeSafetyVerdict {
  const targets = new Set(i.targets);
  const managers = i.nodes.filter((n) => n.role === "manager");
  const hit = managers.filter((m) => targets.has(m.id));
  if (hit.length === 0) return { ok: true };
  const names = hit.map((m) => m.hostname).join(", ");
  if (!i.allowManagers) {
    return {
      ok: false,
      reason: "ManagersNotAllowed",
      message: `manager(s) ${names} targeted; set fault.node.allowManagers: true to permit it`,
    };
  }
  if (i.allowManagerLoss) return { ok: true };
  const out = (n: NodeInfo): boolean => targets.has(n.id) || !!i.alsoOut?.has(n.id);
  const reachable = (n: NodeInfo): boolean => n.managerReachability === "reachable" && n.state !== "down";
  const cuts = CUTS_REACHABILITY.has(i.action);
  const reachableAfter = managers.filter((m) => reachable(m) && !(cuts && out(m))).length;
  const need = quorumOf(managers.length);
  if (reachableAfter < need) {
    return {
      ok: false,
      reason: "QuorumLoss",
      message: `${i.action} of ${names} would leave ${reachableAfter} of ${managers.length} managers reachable (quorum needs ${need}); set safety.allowManagerLoss: true to permit it`,
    };
  }
  const activeAfter = managers.filter((m) => reachable(m) && m.availability === "active" && !out(m)).length;
  if (activeAfter === 0) {
    return {
      ok: false,
      reason: "LastActiveManager",
      message: `${i.action} of ${names} would leave no active manager; set safety.allowManagerLoss: true to permit it`,
    };
  }
  return { ok: true };
}
