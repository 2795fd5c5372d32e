// The per-node engine directory: which Engine reaches the containers of a node. The controller's
// own engine for its own node (a one-node Swarm needs no agent); the agent on the node for the
// others. Agents are found in the snapshot (running tasks of the service labelled
// chaosctl.io/role=agent) and reached at <node address>:<port> (a host-mode port: no routing mesh
// needed). Each pass asks every agent once for its node's guards; an agent that does not answer
// makes its node unavailable for that pass, with the reason kept for the status message.
import type { ClusterSnapshot, ContainerInfo, Engine } from "../engine/engine.js";
import { AgentEngine } from "./agent-engine.js";
import { L_GUARD_NODE, L_NODE, L_ROLE } from "../api/labels.js";
import type { Logger } from "../util/log.js";

export type NodeRoute = { engine: Engine } | { unavailable: string };

export interface NodeEngines {
  /** How to reach containers on `nodeId` in this pass. */
  route(nodeId: string, hostname?: string): NodeRoute;
}

export interface AgentLocation {
  nodeId: string;
  hostname: string;
  host: string;
  port: number;
}

/** Where the agents are, from one snapshot (pure). Nodes without a running agent task are absent. */
export function locateAgents(s: ClusterSnapshot, port: number): AgentLocation[] {
  const agentServices = new Set(s.services.filter((sv) => sv.labels[L_ROLE] === "agent").map((sv) => sv.id));
  const nodes = new Map(s.nodes.map((n) => [n.id, n]));
  const out = new Map<string, AgentLocation>();
  for (const t of s.tasks) {
    if (!agentServices.has(t.serviceId) || t.state !== "running" || t.desiredState !== "running") continue;
    const n = nodes.get(t.nodeId);
    if (!n || !n.addr || n.id === s.selfNodeId) continue;
    out.set(n.id, { nodeId: n.id, hostname: n.hostname, host: n.addr, port });
  }
  return [...out.values()];
}

export interface NodeDirectoryOptions {
  local: Engine;
  /** The shared agent key; without it no agent is used (every other node is unavailable). */
  key?: Buffer;
  port: number;
  logger: Logger;
  /** Bound of the per-pass list call to each agent. */
  timeoutMs?: number;
  /** Build the client of one agent (tests may point it elsewhere). */
  connect?: (loc: AgentLocation, key: Buffer) => AgentEngine;
}

interface AgentState {
  loc: AgentLocation;
  engine: AgentEngine;
  /** Why it is unavailable in this pass, or undefined when it answered. */
  down?: string;
}

export class NodeDirectory implements NodeEngines {
  private agents = new Map<string, AgentState>();
  private selfNodeId = "";

  constructor(private readonly opts: NodeDirectoryOptions) {}

  /**
   * Find the agents of this snapshot and ask each, in parallel, for its node's guards (one call
   * per agent). Returns the guard containers of every reachable agent, for observation.
   */
  async refresh(s: ClusterSnapshot): Promise<ContainerInfo[]> {
    this.selfNodeId = s.selfNodeId;
    const key = this.opts.key;
    if (!key) return [];
    const next = new Map<string, AgentState>();
    for (const loc of locateAgents(s, this.opts.port)) {
      const prev = this.agents.get(loc.nodeId);
      const same = prev && prev.loc.host === loc.host && prev.loc.port === loc.port;
      next.set(loc.nodeId, same ? prev : { loc, engine: this.connect(loc, key) });
    }
    this.agents = next;
    const lists = await Promise.all(
      [...next.values()].map(async (a): Promise<ContainerInfo[]> => {
        const before = a.down;
        try {
          const r = await a.engine.injections();
          // A misrouted address (a node's address reused by another node) must not act on the wrong node.
          if (r.nodeId !== a.loc.nodeId) throw new Error(`answers for node ${r.nodeId}, not ${a.loc.nodeId}`);
          a.down = undefined;
          if (before)
            this.opts.logger.info(
              { event: "agent", node: a.loc.hostname, addr: a.engine.label },
              "agent reachable again",
            );
          // Only guards that say they run on the agent's node: each is reverted and collected there.
          return r.containers.filter(
            (c) => (c.labels[L_GUARD_NODE] ?? c.labels[L_NODE] ?? a.loc.nodeId) === a.loc.nodeId,
          );
        } catch (e) {
          a.down = `agent at ${a.engine.label}: ${e instanceof Error ? e.message : String(e)}`;
          if (a.down !== before)
            this.opts.logger.warn(
              { event: "agent", node: a.loc.hostname, addr: a.engine.label, err: a.down },
              "agent unavailable",
            );
          return [];
        }
      }),
    );
    return lists.flat();
  }

  route(nodeId: string, hostname?: string): NodeRoute {
    if (nodeId === this.selfNodeId) return { engine: this.opts.local };
    const name = hostname ?? nodeId;
    if (!this.opts.key)
      return {
        unavailable: `task runs on node ${name}; this controller has no agent token (--agent-token-file), so it reaches its own node only`,
      };
    const a = this.agents.get(nodeId);
    if (!a)
      return {
        unavailable: `task runs on node ${name}, where no chaosctl agent is running (service labelled ${L_ROLE}=agent)`,
      };
    if (a.down) return { unavailable: `task runs on node ${name}, whose agent is unreachable: ${a.down}` };
    return { engine: a.engine };
  }

  /**
   * Nodes whose guards this pass could not see (no agent, or it did not answer). A run with
   * targets there may still be injected: its record must wait, not be settled from an absence.
   */
  unobservable(s: ClusterSnapshot): Set<string> {
    return new Set(s.nodes.filter((n) => n.id !== s.selfNodeId && "unavailable" in this.route(n.id)).map((n) => n.id));
  }

  /** Agents known in the last pass, and whether they answered (for logs and tests). */
  status(): Array<AgentLocation & { down?: string }> {
    return [...this.agents.values()].map((a) => ({ ...a.loc, ...(a.down ? { down: a.down } : {}) }));
  }

  private connect(loc: AgentLocation, key: Buffer): AgentEngine {
    if (this.opts.connect) return this.opts.connect(loc, key);
    return new AgentEngine({
      host: loc.host,
      port: loc.port,
      key,
      nodeId: loc.nodeId,
      timeoutMs: this.opts.timeoutMs ?? 10_000,
    });
  }
}
