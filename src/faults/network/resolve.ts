// Resolve service names in a network fault to addresses (pure; the controller calls it with
// its cluster snapshot for each target, and again when tasks move: apply converges).
// A service resolves to the addresses of its tasks (desired state running, other than the
// target itself) on the networks it shares with the target task; Swarm's routing-mesh
// network "ingress" is not a peer network. When the target is not a known task (a plain
// container), every network of the service's tasks counts.
import type { ClusterSnapshot, TaskInfo } from "../../engine/engine.js";
import type { NetemSpec, ResolvedNetemSpec } from "../netem/spec.js";
import type { NetworkSpec, ResolvedNetworkSpec } from "./spec.js";
import * as v from "../netns/validate.js";

export type NetworkFault = { netem: NetemSpec } | { network: NetworkSpec };

export type ResolvedNetworkFault =
  | { kind: "netem"; spec: ResolvedNetemSpec; unresolved: string[] }
  | { kind: "network"; spec: ResolvedNetworkSpec; unresolved: string[] };

export function resolveDestinations(
  fault: NetworkFault,
  snapshot: ClusterSnapshot,
  targetTaskId: string | undefined,
): ResolvedNetworkFault {
  const unresolved: string[] = [];
  const addressesOf = (services: string[] | undefined, cidrs: string[] | undefined): string[] | undefined => {
    if (!services?.length && !cidrs?.length) return undefined;
    const out = new Set((cidrs ?? []).map(v.cidr));
    for (const name of services ?? []) {
      const found = serviceAddresses(snapshot, name, targetTaskId);
      if (found.length === 0) unresolved.push(name);
      for (const a of found) out.add(a);
    }
    return [...out].sort();
  };
  if ("netem" in fault) {
    const { to, ...rest } = fault.netem;
    const spec: ResolvedNetemSpec = { ...rest };
    if (to && (to.services?.length || to.cidrs?.length || to.ports?.length)) {
      const cidrs = addressesOf(to.services, to.cidrs);
      spec.to = { ...(cidrs ? { cidrs } : {}), ports: [...(to.ports ?? [])] };
    }
    return { kind: "netem", spec, unresolved };
  }
  const { partition, ...rest } = fault.network;
  const spec: ResolvedNetworkSpec = { ...rest };
  if (partition) {
    const cidrs = addressesOf(partition.from?.services, partition.from?.cidrs);
    spec.partition = { ...(cidrs ? { cidrs } : {}), direction: partition.direction ?? "both" };
  }
  return { kind: "network", spec, unresolved };
}

/** Host CIDRs (/32) of a service's tasks on networks shared with the target task. */
export function serviceAddresses(
  snapshot: ClusterSnapshot,
  service: string,
  targetTaskId: string | undefined,
): string[] {
  const svc = snapshot.services.filter((s) => s.name === service || s.id === service).map((s) => s.id);
  const target = targetTaskId ? snapshot.tasks.find((t) => t.id === targetTaskId) : undefined;
  const shared = target ? new Set(peerNetworks(target)) : undefined;
  const out = new Set<string>();
  for (const t of snapshot.tasks) {
    if (!svc.includes(t.serviceId) || t.desiredState !== "running" || t.id === targetTaskId) continue;
    for (const n of t.networks) {
      if (n.network === "ingress" || (shared && !shared.has(n.network))) continue;
      for (const a of n.addresses) out.add(v.hostOf(a));
    }
  }
  return [...out].sort();
}

function peerNetworks(t: TaskInfo): string[] {
  return t.networks.map((n) => n.network).filter((n) => n !== "ingress");
}

/**
 * Tasks moved: does an active injection (its handle's spec, as the guard got it) enforce other
 * destinations than a fresh resolution? The controller then recovers and applies again with
 * the same owner (same chain and class names; the new guard replaces the old one).
 */
export function destinationsChanged(handleSpec: unknown, fresh: ResolvedNetworkFault): boolean {
  const inner = (handleSpec as { spec?: unknown } | undefined)?.spec;
  return canonical(inner) !== canonical(fresh.spec);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}
