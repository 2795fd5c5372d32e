// The cluster for the CLI verbs: the engine in DOCKER_HOST, imported only by verbs that need it
// (dockerode costs ~150 ms of cold start), and containers per node from the local engine until
// node agents report theirs.
import type { Engine } from "../engine/engine.js";
import type { AgentOpts } from "./agent-options.js";
import { localContainers, observeCluster, type ClusterObservation, type ContainersPerNode } from "../audit/sources.js";

export async function openEngine(): Promise<Engine> {
  const { DockerEngine } = await import("../engine/docker.js");
  return new DockerEngine();
}

/** Where audit and `get active` read containers from without agents: the local engine's. */
const containersPerNode: ContainersPerNode = localContainers;

/**
 * The cluster as audit sees it. With an agent token (--agent-token-file, or the default token
 * file when it exists) the other nodes' guards come from their agents.
 */
export async function observe(engine?: Engine, agents?: AgentOpts): Promise<ClusterObservation> {
  const e = engine ?? (await openEngine());
  if (!agents) return observeCluster(e, containersPerNode);
  const [{ nodeDirectory }, { agentContainers }, { silentLogger }] = await Promise.all([
    import("../nodes/options.js"),
    import("../audit/agents.js"),
    import("../util/log.js"),
  ]);
  const dir = await nodeDirectory(agents, e, silentLogger);
  return observeCluster(e, agentContainers(dir));
}
