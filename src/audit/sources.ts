// Where audit (and `get active`) read "containers per node" from. On one node: the local engine
// sees only its own node's containers; once node agents report theirs, a source per agent
// plugs in here and audit covers every node. Nodes no source covers are reported as such.
import type { ClusterSnapshot, ContainerInfo, Engine } from "../engine/engine.js";

export interface NodeContainers {
  nodeId: string;
  containers: ContainerInfo[];
}

/** The cluster as audit sees it: the manager's snapshot plus containers per observed node. */
export interface ClusterObservation {
  snapshot: ClusterSnapshot;
  perNode: NodeContainers[];
}

export type ContainersPerNode = (snapshot: ClusterSnapshot) => Promise<NodeContainers[]>;

/** Containers of the engine's own node, from the snapshot it already took (no extra call). */
export const localContainers: ContainersPerNode = async (snapshot) => [
  { nodeId: snapshot.selfNodeId, containers: snapshot.containers },
];

export async function observeCluster(
  engine: Engine,
  perNode: ContainersPerNode = localContainers,
): Promise<ClusterObservation> {
  const snapshot = await engine.snapshot();
  return { snapshot, perNode: await perNode(snapshot) };
}
