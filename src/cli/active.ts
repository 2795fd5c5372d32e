// `get active`: the injections the cluster holds right now, read from guard containers (every
// node a source covers), never from status.
import type { InjectionHandle } from "../faults/driver.js";
import { observeGuards } from "../faults/guard/observe.js";
import type { ClusterObservation } from "../audit/sources.js";
import type { ListView } from "./format.js";
import { age, until, type Column, type Row } from "./table.js";

const LIVE = new Set(["running", "created", "restarting", "paused"]);

export interface ActiveInjectionView {
  schedule: string;
  run: string;
  fault: string;
  service?: string;
  task?: string;
  container?: string;
  node: string;
  since?: string;
  until?: string;
  guard: string;
  instance: string;
}

export function activeInjections(obs: ClusterObservation, now: Date): ActiveInjectionView[] {
  const host = new Map(obs.snapshot.nodes.map((n) => [n.id, n.hostname]));
  const out: ActiveInjectionView[] = [];
  for (const n of obs.perNode) {
    for (const h of observeGuards(n.containers, now)) {
      if (!LIVE.has(h.guardState ?? "running")) continue;
      out.push(toView(h, host.get(h.fault === "node" ? h.target.nodeId : n.nodeId) ?? n.nodeId));
    }
  }
  return out.sort(
    (a, b) =>
      a.schedule.localeCompare(b.schedule) ||
      (a.since ?? "").localeCompare(b.since ?? "") ||
      a.guard.localeCompare(b.guard),
  );
}

function toView(h: InjectionHandle, node: string): ActiveInjectionView {
  return {
    schedule: h.owner.schedule,
    run: h.owner.run,
    fault: h.fault,
    ...(h.target.serviceName ? { service: h.target.serviceName } : {}),
    ...(h.target.taskId ? { task: h.target.taskId } : {}),
    ...(h.target.containerId ? { container: h.target.containerId.slice(0, 12) } : {}),
    node,
    ...(h.since ? { since: h.since.toISOString() } : {}),
    ...(h.owner.expires ? { until: h.owner.expires.toISOString() } : {}),
    guard: (h.guardId ?? "").slice(0, 12),
    instance: h.owner.instance ?? "default",
  };
}

const COLUMNS: readonly Column[] = [
  { header: "SCHEDULE", key: "schedule" },
  { header: "FAULT", key: "fault" },
  { header: "SERVICE", key: "service" },
  { header: "NODE", key: "node" },
  { header: "SINCE", key: "since" },
  { header: "UNTIL", key: "until" },
];
const WIDE: readonly Column[] = [
  { header: "RUN", key: "run" },
  { header: "TASK", key: "task" },
  { header: "CONTAINER", key: "container" },
  { header: "GUARD", key: "guard" },
  { header: "INSTANCE", key: "instance" },
];

export function activeView(items: readonly ActiveInjectionView[], now: Date): ListView {
  const rows: Row[] = items.map((i) => ({
    schedule: i.schedule,
    fault: i.fault,
    service: i.service ?? "",
    node: i.node,
    since: age(i.since, now),
    until: until(i.until, now),
    run: i.run,
    task: i.task ?? "",
    container: i.container ?? "",
    guard: i.guard,
    instance: i.instance,
  }));
  return {
    listKind: "ActiveInjectionList",
    columns: COLUMNS,
    wide: WIDE,
    rows,
    objects: items,
    names: items.map((i) => `injection/${i.guard}`),
  };
}

/** Hostnames of nodes (not down) whose containers no source reported: their guards are unseen. */
export function unobservedNodes(obs: ClusterObservation): string[] {
  const seen = new Set(obs.perNode.map((n) => n.nodeId));
  return obs.snapshot.nodes.filter((n) => !seen.has(n.id) && n.state !== "down").map((n) => n.hostname);
}

/** What could not be seen, and how to see it; "" when every node was asked. */
export function unobservedNote(nodes: readonly string[]): string {
  if (nodes.length === 0) return "";
  return `not observed on ${nodes.join(", ")} (no agent reports them): injections there are not listed; give the agents' token (--agent-token-file FILE) to read them, or run this on those nodes`;
}
