// Which targets does a selector pick? Pure: (selector, snapshot, random) → targets.
//
// Filters AND together. Container faults pick running tasks of the matching services on
// matching nodes; node faults pick matching nodes. Protected services/nodes and chaosctl's own
// services are never candidates. Modes then choose among the candidates.
import type { ClusterSnapshot, NodeInfo, ServiceInfo, TaskInfo } from "../engine/engine.js";
import type { Target } from "../faults/driver.js";
import { eligible } from "../faults/eligible.js";

export interface SelectorSpec {
  stack?: string;
  services?: string[];
  serviceLabels?: Record<string, string>;
  nodes?: string[];
  nodeLabels?: Record<string, string>;
  nodeRoles?: string[];
  mode?: string;
  value?: string;
}

export interface Candidates {
  /** Candidate task targets, grouped by service id. */
  byService: Map<string, Target[]>;
  nodes: Target[];
}

export interface SelectOptions {
  /** Only services/nodes labelled chaosctl.io/enabled=true are candidates (opt-in mode). */
  requireOptIn?: boolean;
}

function labelsMatch(want: Record<string, string> | undefined, have: Record<string, string>): boolean {
  if (!want) return true;
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

export function nodeMatches(sel: SelectorSpec, node: NodeInfo): boolean {
  if (sel.nodes?.length && !sel.nodes.includes(node.hostname) && !sel.nodes.includes(node.id)) return false;
  if (sel.nodeRoles?.length && !sel.nodeRoles.includes(node.role)) return false;
  return labelsMatch(sel.nodeLabels, node.labels);
}

export function serviceMatches(sel: SelectorSpec, svc: ServiceInfo): boolean {
  if (sel.stack && svc.stack !== sel.stack) return false;
  if (sel.services?.length && !sel.services.includes(svc.name) && !sel.services.includes(svc.id)) return false;
  return labelsMatch(sel.serviceLabels, svc.labels);
}

/** May this service's tasks be candidates at all (not protected, not chaosctl's own, opted in)? */
export function candidatesAllowed(svc: ServiceInfo, input: { config: { requireOptIn: boolean } }): boolean {
  return eligible(svc.labels, { requireOptIn: input.config.requireOptIn });
}

/** A task counts as running when Swarm wants it running, it runs, and it has a container. */
export function isRunningTask(t: TaskInfo): boolean {
  return t.desiredState === "running" && t.state === "running" && !!t.containerId;
}

export function candidates(sel: SelectorSpec, snap: ClusterSnapshot, opts: SelectOptions = {}): Candidates {
  const nodesById = new Map(snap.nodes.map((n) => [n.id, n]));
  // A protected node shields its tasks; opt-in applies to what a fault targets (the service, or
  // the node for node faults).
  const taskNodes = snap.nodes.filter((n) => eligible(n.labels, { requireOptIn: false }) && nodeMatches(sel, n));
  const matchingNodeIds = new Set(taskNodes.map((n) => n.id));
  const matchingNodes = taskNodes.filter((n) => eligible(n.labels, opts));
  const byService = new Map<string, Target[]>();
  const services = snap.services.filter((s) => eligible(s.labels, opts) && serviceMatches(sel, s));
  const serviceById = new Map(services.map((s) => [s.id, s]));
  for (const t of snap.tasks) {
    const svc = serviceById.get(t.serviceId);
    if (!svc || !isRunningTask(t) || !matchingNodeIds.has(t.nodeId)) continue;
    const node = nodesById.get(t.nodeId);
    const list = byService.get(svc.id) ?? [];
    list.push({
      kind: "container",
      nodeId: t.nodeId,
      ...(node ? { nodeHostname: node.hostname } : {}),
      serviceId: svc.id,
      serviceName: svc.name,
      taskId: t.id,
      ...(t.containerId ? { containerId: t.containerId } : {}),
    });
    byService.set(svc.id, list);
  }
  for (const list of byService.values()) list.sort((a, b) => (a.taskId ?? "").localeCompare(b.taskId ?? ""));
  const nodes: Target[] = matchingNodes
    .map((n): Target => ({ kind: "node", nodeId: n.id, nodeHostname: n.hostname }))
    .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  return { byService, nodes };
}

/** How many of `n` candidates the mode asks for. `random` returns [0, 1). */
export function countForMode(
  mode: string | undefined,
  value: string | undefined,
  n: number,
  random: () => number,
): number {
  if (n <= 0) return 0;
  switch (mode ?? "one") {
    case "one":
      return 1;
    case "all":
      return n;
    case "fixed":
      return Math.min(n, Math.max(0, Math.floor(Number(value))));
    case "fixed-percent":
      return Math.min(n, Math.floor((n * Number(value)) / 100));
    case "random-max-percent": {
      const max = Math.min(n, Math.floor((n * Number(value)) / 100));
      return max <= 0 ? 0 : 1 + Math.floor(random() * max);
    }
    default:
      return 0;
  }
}

/** `k` distinct items of `items`, chosen uniformly (partial Fisher-Yates on a copy). */
export function pick<T>(items: readonly T[], k: number, random: () => number): T[] {
  const a = items.slice();
  const out: T[] = [];
  for (let i = 0; i < Math.min(k, a.length); i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
    out.push(a[i] as T);
  }
  return out;
}
