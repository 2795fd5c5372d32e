// Network faults in the planner (pure): per-target destinations, re-resolution when tasks move,
// and which task replaces which (docs/network-faults.md). The drivers take resolved specs only: the
// controller turns `to.services` / `partition.from.services` into task addresses on the
// networks each target shares with them (faults/network/resolve.ts).
import type { ClusterSnapshot, TaskInfo } from "../engine/engine.js";
import type { FaultKind, InjectionHandle, Target } from "../faults/driver.js";
import {
  destinationsChanged,
  resolveDestinations,
  type NetworkFault,
  type ResolvedNetworkFault,
} from "../faults/network/resolve.js";
import { NetworkFaultError } from "../faults/netns/errors.js";
import { isRunningTask } from "./select.js";

export const NETWORK_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(["netem", "network"]);

/** A replacement or a re-applied injection needs at least this much of its run left. */
export const MIN_REST_MS = 2_000;

export type Resolution = { spec: unknown; unresolved: string[] } | { error: string };

/** The spec one target's driver gets; `unresolved` names services with no address now. */
export function resolveFor(
  fault: FaultKind,
  faultSpec: unknown,
  snapshot: ClusterSnapshot,
  taskId: string | undefined,
): Resolution {
  try {
    const r: ResolvedNetworkFault = resolveDestinations({ [fault]: faultSpec } as NetworkFault, snapshot, taskId);
    return { spec: r.spec, unresolved: r.unresolved };
  } catch (err) {
    if (err instanceof NetworkFaultError) return { error: err.message };
    throw err;
  }
}

export type TargetSpecs = { specs: unknown[]; note?: string } | { error: string };

/** Resolved specs for every target of a run (same order), and a note naming what resolved to nothing. */
export function resolveTargets(
  fault: FaultKind,
  faultSpec: unknown,
  targets: readonly Target[],
  snapshot: ClusterSnapshot,
): TargetSpecs {
  const specs: unknown[] = [];
  const unresolved = new Map<string, string[]>(); // service -> tasks it has no address for
  for (const t of targets) {
    const r = resolveFor(fault, faultSpec, snapshot, t.taskId);
    if ("error" in r) return r;
    specs.push(r.spec);
    for (const s of r.unresolved) unresolved.set(s, [...(unresolved.get(s) ?? []), t.taskId ?? t.containerId ?? "?"]);
  }
  return unresolved.size ? { specs, note: unresolvedNote(unresolved) } : { specs };
}

export function unresolvedNote(unresolved: ReadonlyMap<string, string[]>): string {
  const parts = [...unresolved].map(
    ([s, tasks]) => `service ${s} has no task address on a network shared with ${tasks.join(", ")}`,
  );
  return `${parts.join("; ")}: no traffic to or from it is affected`;
}

/**
 * Tasks moved: the spec to re-apply to this injection, or undefined to keep it. A named service
 * that has no address at this instant (its replacement not yet allocated) keeps the destinations
 * in force rather than dropping them for a pass.
 */
export function reresolve(h: InjectionHandle, faultSpec: unknown, snapshot: ClusterSnapshot): unknown {
  const inner = (h.spec as { spec?: unknown } | undefined)?.spec;
  if (!inner || typeof inner !== "object") return undefined; // not a guard spec we made: leave it
  let fresh: ResolvedNetworkFault;
  try {
    fresh = resolveDestinations({ [h.fault]: faultSpec } as NetworkFault, snapshot, h.target.taskId);
  } catch {
    return undefined;
  }
  if (fresh.unresolved.length > 0 || !destinationsChanged(h.spec, fresh)) return undefined;
  return fresh.spec;
}

/**
 * Is the injection's target task over (failed, shut down, replaced, or no longer listed)? Its
 * namespace went with its container: nothing to revert. Targets without a task id are left to
 * their guard.
 */
export function targetGone(h: InjectionHandle, tasks: ReadonlyMap<string, TaskInfo>): boolean {
  const id = h.target.taskId;
  if (h.target.kind !== "container" || !id) return false;
  const t = tasks.get(id);
  return !t || !isRunningTask(t);
}

/**
 * The running tasks that replace `old`: same service and slot (replicated) or same node
 * (global), not `old` itself nor any task in `exclude`. Tasks Swarm adds by scaling up fill new
 * slots and are not replacements.
 */
export function replacementsOf(old: TaskInfo, snapshot: ClusterSnapshot, exclude: ReadonlySet<string>): TaskInfo[] {
  return snapshot.tasks
    .filter((t) => t.serviceId === old.serviceId && t.id !== old.id && !exclude.has(t.id) && isRunningTask(t))
    .filter((t) => (old.slot !== undefined ? t.slot === old.slot : t.nodeId === old.nodeId))
    .sort((a, b) => a.id.localeCompare(b.id));
}
