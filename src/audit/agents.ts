// Containers per node through the node agents: the local engine's own node, plus the guards
// each reachable agent reports for its node. Nodes whose agent did not answer stay unobserved
// (audit says so) rather than looking clean.
import type { ContainerInfo } from "../engine/engine.js";
import type { AgentLocation } from "../nodes/directory.js";
import { L_GUARD_NODE, L_NODE } from "../api/labels.js";
import type { ContainersPerNode, NodeContainers } from "./sources.js";

/** The subset of NodeDirectory audit needs (nodes/directory.ts). */
export interface AgentDirectory {
  refresh(snapshot: Parameters<ContainersPerNode>[0]): Promise<ContainerInfo[]>;
  status(): Array<AgentLocation & { down?: string }>;
}

/** Groups agent-reported guards by the node they run on; every answering agent's node is observed, empty or not. Pure. */
export function groupByNode(
  selfNodeId: string,
  local: ContainerInfo[],
  remote: ContainerInfo[],
  agents: ReturnType<AgentDirectory["status"]>,
): NodeContainers[] {
  const out = new Map<string, ContainerInfo[]>([[selfNodeId, local]]);
  for (const a of agents) if (!a.down && !out.has(a.nodeId)) out.set(a.nodeId, []);
  for (const c of remote) {
    const node = c.labels[L_GUARD_NODE] ?? c.labels[L_NODE];
    if (!node || node === selfNodeId) continue;
    const list = out.get(node);
    if (list) list.push(c);
  }
  return [...out].map(([nodeId, containers]) => ({ nodeId, containers }));
}

export function agentContainers(dir: AgentDirectory): ContainersPerNode {
  return async (snapshot) => {
    const remote = await dir.refresh(snapshot);
    return groupByNode(snapshot.selfNodeId, snapshot.containers, remote, dir.status());
  };
}
