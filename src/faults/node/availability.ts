// drain / pause bookkeeping on the node object itself (pure). The node carries what a revert
// needs: the availability before the fault and who set it, so a restarted controller, the guard,
// or `chaosctl audit` can restore it from the cluster alone (docs/controller.md, "Ownership").
//
// Rules:
// - apply records the original availability and the owner, then sets the action's availability;
//   a node that is not active and carries no label of ours was made unavailable by someone else:
//   we refuse, so we never "restore" it to active later;
// - restore only touches a node labelled by the same run; it puts the original availability back
//   only if the node still has the one we set (an operator's change made meanwhile wins), and
//   always removes our labels.
import type { NodeAvailability, NodeInfo } from "../../engine/engine.js";
import {
  L_EXPIRES,
  L_FAULT,
  L_GENERATION,
  L_INSTANCE,
  L_NODE_ACTION,
  L_NODE_ORIGINAL_AVAILABILITY,
  L_RUN,
  L_SCHEDULE,
} from "../../api/labels.js";
import type { NodeGuardOwner } from "./spec.js";

export type AvailabilityAction = "drain" | "pause";

/** Every label a node fault writes on a node; restore removes exactly these. */
export const NODE_OWNER_LABELS: readonly string[] = [
  L_NODE_ORIGINAL_AVAILABILITY,
  L_NODE_ACTION,
  L_SCHEDULE,
  L_GENERATION,
  L_RUN,
  L_EXPIRES,
  L_INSTANCE,
  L_FAULT,
];

export type NodeUpdatePlan =
  | { kind: "update"; availability: NodeAvailability; labels: Record<string, string> }
  /** Already as wanted (a restarted guard, a repeated apply): nothing to do. */
  | { kind: "none" }
  | { kind: "refused"; reason: "NodeNotActive" | "NodeFaultedByOther"; message: string };

export function ownerLabels(
  action: AvailabilityAction,
  original: NodeAvailability,
  o: NodeGuardOwner,
): Record<string, string> {
  return {
    [L_NODE_ORIGINAL_AVAILABILITY]: original,
    [L_NODE_ACTION]: action,
    [L_FAULT]: "node",
    [L_SCHEDULE]: o.schedule,
    [L_GENERATION]: String(o.generation),
    [L_RUN]: o.run,
    [L_EXPIRES]: o.expires,
    ...(o.instance ? { [L_INSTANCE]: o.instance } : {}),
  };
}

/** Is the node labelled by this very run? */
export function labelledBy(node: NodeInfo, o: { schedule: string; run: string }): boolean {
  const l = node.labels;
  return l[L_NODE_ORIGINAL_AVAILABILITY] !== undefined && l[L_SCHEDULE] === o.schedule && l[L_RUN] === o.run;
}

export function planAvailability(node: NodeInfo, action: AvailabilityAction, o: NodeGuardOwner): NodeUpdatePlan {
  const l = node.labels;
  if (l[L_NODE_ORIGINAL_AVAILABILITY] !== undefined) {
    if (!labelledBy(node, o)) {
      return {
        kind: "refused",
        reason: "NodeFaultedByOther",
        message: `node ${node.hostname} is already held by ${l[L_SCHEDULE] ?? "?"} (run ${l[L_RUN] ?? "?"})`,
      };
    }
    return node.availability === action ? { kind: "none" } : { kind: "update", availability: action, labels: { ...l } };
  }
  if (node.availability !== "active") {
    return {
      kind: "refused",
      reason: "NodeNotActive",
      message: `node ${node.hostname} is already ${node.availability} (not by chaosctl): left as it is`,
    };
  }
  return { kind: "update", availability: action, labels: { ...l, ...ownerLabels(action, node.availability, o) } };
}

export function planRestore(node: NodeInfo, o: { schedule: string; run: string }): NodeUpdatePlan {
  if (!labelledBy(node, o)) return { kind: "none" };
  const l = node.labels;
  const labels = Object.fromEntries(Object.entries(l).filter(([k]) => !NODE_OWNER_LABELS.includes(k)));
  const original = asAvailability(l[L_NODE_ORIGINAL_AVAILABILITY]);
  const availability = node.availability === l[L_NODE_ACTION] && original ? original : node.availability;
  return { kind: "update", availability, labels };
}

function asAvailability(v: string | undefined): NodeAvailability | undefined {
  return v === "active" || v === "pause" || v === "drain" ? v : undefined;
}
