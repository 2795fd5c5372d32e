// The cluster for the CLI verbs: the engine in DOCKER_HOST, imported only by verbs that need it
// (dockerode costs ~150 ms of cold start), and containers per node from the local engine until
// node agents report theirs.
import type { Command } from "commander";
import type { Engine } from "../engine/engine.js";
import { DEFAULT_AGENT_PORT, DEFAULT_TOKEN_FILE } from "../agent/protocol.js";
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

export interface AgentOpts {
  agentPort: string;
  agentTokenFile?: string;
}

/**
 * The cluster as audit sees it. With an agent token (--agent-token-file, or the default token
 * file when it exists) the other nodes' guards come from their agents.
 */
export async function observe(engine?: Engine, agents?: AgentOpts): Promise<ClusterObservation> {
  const e = engine ?? (await openEngine());
  if (!agents) return observeCluster(e, containersPerNode);
  const [{ nodeDirectory }, { agentContainers }, { silentLogger }] = await Promise.all([import("../agent/controller-options.js"), import("../audit/agents.js"), import("../util/log.js")]);
  const dir = await nodeDirectory(agents, e, silentLogger);
  return observeCluster(e, agentContainers(dir));
}

/** --agent-port / --agent-token-file, as the controller has them. */
export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option("--agent-port <port>", "TCP port of the node agents (host mode, at each node's address)", String(DEFAULT_AGENT_PORT))
    .option("--agent-token-file <path>", `the agents' shared token (default ${DEFAULT_TOKEN_FILE} when it exists): other nodes' guards come from their agents`);
}
