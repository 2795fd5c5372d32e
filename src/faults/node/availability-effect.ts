// drain / pause inside a guard on a manager (the manager's docker.sock mounted): set the node's
// availability with our labels, restore it at expiry or on SIGTERM. Compare-and-swap on the node's
// version; a concurrent change is re-read and re-planned.
import type { Engine, NodeInfo } from "../../engine/engine.js";
import { VersionConflict } from "../../engine/errors.js";
import { EffectRefused, TargetGone, type GuardEffect } from "../guard/effect.js";
import { planAvailability, planRestore, type AvailabilityAction, type NodeUpdatePlan } from "./availability.js";
import type { NodeGuardOwner } from "./spec.js";

const ATTEMPTS = 5;

export async function readNode(engine: Engine, nodeId: string): Promise<NodeInfo | undefined> {
  // The Engine has no single-node inspect; a snapshot is one list per kind, and node faults are rare.
  return (await engine.snapshot()).nodes.find((n) => n.id === nodeId || n.hostname === nodeId);
}

/** Re-read, plan, update; again on a version conflict. Returns the plan that was carried out. */
export async function converge(
  engine: Engine,
  nodeId: string,
  planFor: (n: NodeInfo) => NodeUpdatePlan,
): Promise<NodeUpdatePlan> {
  for (let i = 1; ; i++) {
    const node = await readNode(engine, nodeId);
    if (!node) throw new TargetGone(`node ${nodeId} is not in the swarm`);
    const plan = planFor(node);
    if (plan.kind !== "update") return plan;
    try {
      await engine.updateNode(node.id, node.version, { availability: plan.availability, labels: plan.labels });
      return plan;
    } catch (err) {
      if (!(err instanceof VersionConflict) || i >= ATTEMPTS) throw err;
    }
  }
}

export function availabilityEffect(
  engine: Engine,
  nodeId: string,
  action: AvailabilityAction,
  owner: NodeGuardOwner,
): GuardEffect {
  return {
    async apply() {
      const plan = await converge(engine, nodeId, (n) => planAvailability(n, action, owner));
      if (plan.kind === "refused") throw new EffectRefused(plan.reason, plan.message);
    },
    async revert() {
      await converge(engine, nodeId, (n) => planRestore(n, owner));
    },
  };
}
