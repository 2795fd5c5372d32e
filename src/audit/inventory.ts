// What is injected cluster-wide right now, read from the cluster alone, with its owner, and
// which of it is orphaned. Pure: the caller observes the cluster and the store.
import type { ContainerInfo, NodeInfo } from "../engine/engine.js";
import type { FaultKind, InjectionHandle } from "../faults/driver.js";
import { guardCondition, observeGuards } from "../faults/guard/observe.js";
import { L_EXPIRES, L_NODE_ORIGINAL_AVAILABILITY, L_RUN, L_SCHEDULE } from "../api/labels.js";
import type { NodeContainers } from "./sources.js";

/** Where a schedule came from: the file (and git commit) of a directory store, and apply's record. */
export interface Origin {
  file?: string;
  /** The last commit that touched the file (`git log -1 -- FILE`), when it is in a git repository. */
  commit?: string;
  /** Who applied it last and when (the store's applied-by / applied-at annotations). */
  appliedBy?: string;
  appliedAt?: string;
  /** A Swarm config store object. */
  config?: string;
}

export interface AuditOwner {
  schedule: string;
  run?: string;
  generation?: number;
  instance?: string;
  expires?: string;
}

export type AuditKind = "guard" | "paused-container" | "node";

export interface AuditEntry {
  kind: AuditKind;
  fault: FaultKind;
  /** Hostname (or id) of the node the injection lives on. */
  node: string;
  /** What is injected, in words (e.g. "tc qdisc + iptables chain owned by the guard"). */
  what: string;
  target: { service?: string; task?: string; container?: string; node?: string };
  owner?: AuditOwner;
  origin?: Origin;
  guard?: { id: string; state: string; exitCode?: number };
  since?: string;
  orphan: boolean;
  /** Injected by no one chaosctl knows (e.g. a container paused by hand): reported, not an orphan. */
  unowned?: boolean;
  reasons: string[];
}

export interface AuditReport {
  at: string;
  entries: AuditEntry[];
  orphans: number;
  /** Nodes whose containers no source reported (guards there are not seen). */
  unobservedNodes: string[];
  /** False when the owning store was not read: "owner gone" cannot be judged. */
  storeChecked: boolean;
}

export interface AuditInput {
  now: Date;
  nodes: NodeInfo[];
  perNode: NodeContainers[];
  /** Keys of the schedules in the store; undefined when no store was read. */
  schedules?: ReadonlySet<string>;
  origins?: ReadonlyMap<string, Origin>;
  /** A live guard this long past its expiry counts as an orphan (guards revert at expiry). */
  graceMs?: number;
  /** Only injections of this controller instance (label chaosctl.io/instance; absent = "default"). */
  instance?: string;
}

export const DEFAULT_GRACE_MS = 10_000;

const WHAT: Record<FaultKind, string> = {
  pause: "container paused (guard unpauses at expiry)",
  netem: "tc netem qdisc in the target's network namespace (handle owned by the guard)",
  network: "iptables chain / tc tbf in the target's network namespace (owned by the guard)",
  node: "node fault held by the guard",
  kill: "kill",
  stop: "stop",
  restart: "restart",
  stress: "stress-ng in the target's cgroup, disk fill file (owned by the guard)",
  process: "process signal",
};

// size: one table built in one pass over nodes, guards and helpers; the row kinds share its state.
export function auditInventory(input: AuditInput): AuditReport {
  const { now, schedules, origins } = input;
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  const hostname = new Map(input.nodes.map((n) => [n.id, n.hostname]));
  const nameOf = (id: string | undefined): string => (id ? (hostname.get(id) ?? id) : "");
  const entries: AuditEntry[] = [];
  const guards: Array<{ h: InjectionHandle; nodeId: string }> = [];
  const mine = (h: InjectionHandle): boolean =>
    input.instance === undefined || (h.owner.instance ?? "default") === input.instance;
  for (const n of input.perNode)
    for (const h of observeGuards(n.containers, now)) if (mine(h)) guards.push({ h, nodeId: n.nodeId });

  const ownerReasons = (o: { schedule: string; expires?: Date | undefined }, live: boolean): string[] => {
    const r: string[] = [];
    if (schedules && !schedules.has(o.schedule)) r.push(`owner schedule ${o.schedule} is not in the store`);
    if (live && o.expires && now.getTime() >= o.expires.getTime() + graceMs)
      r.push(`expired ${o.expires.toISOString()}, still present`);
    return r;
  };

  // Guards: the record of every durative injection (pause, netem, network, node).
  const pausedByGuard = new Set<string>();
  const nodeByGuard = new Set<string>();
  for (const { h, nodeId } of guards) {
    const cond = guardCondition(h, now, graceMs);
    if (cond === "completed") continue; // reverted, exited 0, waiting to be collected
    const live = cond === "enforcing" || cond === "overdue";
    const reasons = ownerReasons(h.owner, live);
    if (!live) reasons.push(`guard exited ${h.guardExitCode ?? "abnormally"} before reverting: revert not confirmed`);
    // Only a live guard holds its injection; a failed one leaves it to be reported on its own.
    if (live && h.fault === "pause" && h.target.containerId) pausedByGuard.add(h.target.containerId);
    if (live && h.fault === "node") nodeByGuard.add(h.target.nodeId);
    entries.push({
      kind: "guard",
      fault: h.fault,
      node: nameOf(h.fault === "node" ? h.target.nodeId : nodeId),
      what: WHAT[h.fault],
      target: {
        ...(h.target.serviceName ? { service: h.target.serviceName } : {}),
        ...(h.target.taskId ? { task: h.target.taskId } : {}),
        ...(h.target.containerId ? { container: h.target.containerId.slice(0, 12) } : {}),
        ...(h.fault === "node" ? { node: nameOf(h.target.nodeId) } : {}),
      },
      owner: ownerOf(h),
      ...guardOrigin(h, origins),
      guard: {
        id: (h.guardId ?? "").slice(0, 12),
        state: h.guardState ?? "unknown",
        ...(h.guardExitCode !== undefined ? { exitCode: h.guardExitCode } : {}),
      },
      ...(h.since ? { since: h.since.toISOString() } : {}),
      // A failed guard of a schedule still in the store is the controller's to revert next pass.
      orphan: reasons.length > 0 && (live || !!(schedules && !schedules.has(h.owner.schedule))),
      reasons,
    });
  }

  // Paused containers no live guard holds.
  for (const n of input.perNode) {
    for (const c of n.containers) {
      if (c.state !== "paused" || pausedByGuard.has(c.id)) continue;
      const failedGuard = guards.find(({ h }) => h.fault === "pause" && h.target.containerId === c.id);
      if (input.instance !== undefined && !failedGuard) continue; // no instance to tell whose it is
      entries.push(pausedEntry(c, nameOf(n.nodeId), failedGuard?.h, origins));
    }
  }

  // Nodes carrying the original availability of a node fault.
  for (const node of input.nodes) {
    const original = node.labels[L_NODE_ORIGINAL_AVAILABILITY];
    if (original === undefined || nodeByGuard.has(node.id) || input.instance !== undefined) continue;
    const schedule = node.labels[L_SCHEDULE];
    const expires = node.labels[L_EXPIRES] ? new Date(node.labels[L_EXPIRES]) : undefined;
    const owner = schedule
      ? {
          schedule,
          ...(node.labels[L_RUN] ? { run: node.labels[L_RUN] } : {}),
          ...(expires ? { expires: expires.toISOString() } : {}),
        }
      : undefined;
    const reasons = schedule
      ? ownerReasons({ schedule, expires }, true)
      : ["no owner recorded on the node and no guard holds it"];
    entries.push({
      kind: "node",
      fault: "node",
      node: node.hostname,
      what: `availability ${node.availability} (was ${original})`,
      target: { node: node.hostname },
      ...(owner ? { owner } : {}),
      ...(schedule ? originOf(origins, schedule) : {}),
      orphan: reasons.length > 0,
      reasons,
    });
  }

  const observed = new Set(input.perNode.map((n) => n.nodeId));
  const unobservedNodes = input.nodes.filter((n) => !observed.has(n.id) && n.state !== "down").map((n) => n.hostname);
  entries.sort(
    (a, b) =>
      a.node.localeCompare(b.node) ||
      (a.owner?.schedule ?? "").localeCompare(b.owner?.schedule ?? "") ||
      (a.since ?? "").localeCompare(b.since ?? ""),
  );
  return {
    at: now.toISOString(),
    entries,
    orphans: entries.filter((e) => e.orphan).length,
    unobservedNodes,
    storeChecked: !!schedules,
  };
}

function ownerOf(h: InjectionHandle): AuditOwner {
  const o = h.owner;
  return {
    schedule: o.schedule,
    run: o.run,
    generation: o.generation,
    instance: o.instance ?? "default",
    ...(o.expires ? { expires: o.expires.toISOString() } : {}),
  };
}

function originOf(origins: ReadonlyMap<string, Origin> | undefined, schedule: string): { origin?: Origin } {
  const o = origins?.get(schedule);
  return o ? { origin: o } : {};
}

/** The store's origin, with the commit the guard itself records (git store) taking precedence. */
function guardOrigin(h: InjectionHandle, origins: ReadonlyMap<string, Origin> | undefined): { origin?: Origin } {
  const stored = origins?.get(h.owner.schedule);
  // Owner.source (labels chaosctl.io/commit and source-path) is written by git-store runs only.
  const recorded = (h.owner as { source?: { commit?: string; path?: string } }).source;
  if (!recorded?.commit) return stored ? { origin: stored } : {};
  return { origin: { ...stored, commit: recorded.commit, ...(recorded.path ? { file: recorded.path } : {}) } };
}

function pausedEntry(
  c: ContainerInfo,
  node: string,
  failed: InjectionHandle | undefined,
  origins: ReadonlyMap<string, Origin> | undefined,
): AuditEntry {
  const target = { ...(c.taskId ? { task: c.taskId } : {}), container: c.id.slice(0, 12) };
  if (failed) {
    return {
      kind: "paused-container",
      fault: "pause",
      node,
      what: "container paused; its guard is gone or failed",
      target,
      owner: ownerOf(failed),
      ...originOf(origins, failed.owner.schedule),
      orphan: true,
      reasons: ["paused by chaosctl, but no live guard will unpause it"],
    };
  }
  return {
    kind: "paused-container",
    fault: "pause",
    node,
    what: "container paused, no chaosctl owner",
    target,
    orphan: false,
    unowned: true,
    reasons: ["no guard or label claims it (paused by hand?)"],
  };
}
