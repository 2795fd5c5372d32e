// Which nodes a node-fault run takes, and whether it may (pure; called by controller/plan.ts).
// Nodes already faulted (active node injections, or chosen earlier in the same pass) are not
// candidates; managers only with fault.node.allowManagers; then the quorum rules (faults/node/quorum.ts).
import type { ClusterSnapshot } from "../engine/engine.js";
import type { Target } from "../faults/driver.js";
import { L_ROLE } from "../api/labels.js";
import { checkNodeSafety } from "../faults/node/quorum.js";
import type { NodeAction } from "../faults/node/spec.js";

export interface NodeChoiceInput {
  /** Nodes matching the selector (controller/select.ts candidates().nodes). */
  candidates: readonly Target[];
  snapshot: ClusterSnapshot;
  action: NodeAction;
  allowManagers?: boolean;
  allowManagerLoss?: boolean;
  /** Node ids faulted now or earlier in this pass. */
  busy: ReadonlySet<string>;
  /** How many of `n` eligible nodes the selector's mode takes, and which. */
  count: (n: number) => number;
  pick: (pool: readonly Target[], k: number) => Target[];
}

export type NodeChoice = { targets: Target[]; services: string[] } | { reason: string; message: string };

export function chooseNodes(i: NodeChoiceInput): NodeChoice {
  if (i.candidates.length === 0) return { reason: "NoTargets", message: "no node matches the selector" };
  const byId = new Map(i.snapshot.nodes.map((n) => [n.id, n]));
  let pool = i.candidates.filter((t) => !i.busy.has(t.nodeId));
  if (pool.length === 0)
    return { reason: "NoTargets", message: `all ${i.candidates.length} matching node(s) are already faulted` };
  if (!i.allowManagers) {
    const workers = pool.filter((t) => byId.get(t.nodeId)?.role !== "manager");
    if (workers.length === 0) {
      const names = pool.map((t) => t.nodeHostname ?? t.nodeId).join(", ");
      return {
        reason: "ManagersNotAllowed",
        message: `only manager(s) match (${names}); set fault.node.allowManagers: true to fault a manager`,
      };
    }
    pool = workers;
  }
  const targets = i.pick(pool, i.count(pool.length));
  if (targets.length === 0)
    return { reason: "NoTargets", message: `the selector's mode selects no node of ${pool.length}` };
  const verdict = checkNodeSafety({
    action: i.action,
    targets: targets.map((t) => t.nodeId),
    nodes: i.snapshot.nodes,
    allowManagers: !!i.allowManagers,
    allowManagerLoss: !!i.allowManagerLoss,
    alsoOut: i.busy,
  });
  if (!verdict.ok) return { reason: verdict.reason, message: verdict.message };
  return { targets, services: servicesOn(i.snapshot, new Set(targets.map((t) => t.nodeId))) };
}

/** Names of the services with a task Swarm wants running on these nodes: whose healing recovery waits for. */
export function servicesOn(snap: ClusterSnapshot, nodes: ReadonlySet<string>): string[] {
  const ids = new Set(
    snap.tasks.filter((t) => nodes.has(t.nodeId) && t.desiredState === "running").map((t) => t.serviceId),
  );
  // chaosctl's own services (agent, controller) are not what a run faults.
  return snap.services
    .filter((s) => ids.has(s.id) && !s.labels[L_ROLE])
    .map((s) => s.name)
    .sort();
}
