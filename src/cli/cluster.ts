// The cluster for the CLI verbs: the engine in DOCKER_HOST, imported only by verbs that need it
// (dockerode costs ~150 ms of cold start), and containers per node from the local engine until
// node agents report theirs.
import type { Engine } from "../engine/engine.js";
import { localContainers, observeCluster, type ClusterObservation, type ContainersPerNode } from "../audit/sources.js";

export async function openEngine(): Promise<Engine> {
  const { DockerEngine } = await import("../engine/docker.js");
  return new DockerEngine();
}

/** Where audit and `get active` read other nodes' containers from (agents plug in here). */
export let containersPerNode: ContainersPerNode = localContainers;
export function setContainersPerNode(source: ContainersPerNode): void {
  containersPerNode = source;
}

export async function observe(engine?: Engine): Promise<ClusterObservation> {
  return observeCluster(engine ?? (await openEngine()), containersPerNode);
}
