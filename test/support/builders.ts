// Builders for plain cluster state and manifests, for the pure planner's table tests.
import type { ClusterSnapshot, NodeInfo, ServiceInfo, TaskInfo } from "../../src/engine/engine.js";
import type { StoredManifest } from "../../src/store/store.js";
import type { ChaosSchedule, ChaosScheduleStatus } from "../../src/api/types.js";
import type { InjectionHandle } from "../../src/faults/driver.js";

export const T0 = new Date("2026-01-01T10:00:00Z");

export function node(id: string, over: Partial<NodeInfo> = {}): NodeInfo {
  return {
    id,
    hostname: `host-${id}`,
    role: "manager",
    availability: "active",
    state: "ready",
    addr: "127.0.0.1",
    labels: {},
    version: 1,
    leader: id === "n1",
    ...over,
  };
}

export function service(name: string, replicas: number, over: Partial<ServiceInfo> = {}): ServiceInfo {
  return {
    id: `svc-${name}`,
    name,
    labels: {},
    mode: "replicated",
    replicas,
    hasHealthcheck: false,
    version: 1,
    ...over,
  };
}

let taskSeq = 0;
export function task(svc: ServiceInfo, nodeId = "n1", over: Partial<TaskInfo> = {}): TaskInfo {
  const id = over.id ?? `task-${svc.name}-${++taskSeq}`;
  return {
    id,
    serviceId: svc.id,
    nodeId,
    desiredState: "running",
    state: "running",
    timestamp: T0.toISOString(),
    createdAt: T0.toISOString(),
    message: "started",
    containerId: `ctr-${id}`,
    networks: [],
    ...over,
  };
}

/** A snapshot with the given services, each with `replicas` running tasks on node n1. */
export function snapshot(services: ServiceInfo[], extra: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const tasks = services.flatMap((s) =>
    Array.from({ length: s.replicas ?? 0 }, (_, i) => task(s, "n1", { id: `${s.name}.${i + 1}`, slot: i + 1 })),
  );
  return { at: T0, selfNodeId: "n1", nodes: [node("n1")], services, tasks, containers: [], ...extra };
}

export function manifest(
  name: string,
  spec: Record<string, unknown>,
  opts: { generation?: number; status?: ChaosScheduleStatus; namespace?: string } = {},
): StoredManifest {
  const namespace = opts.namespace ?? "default";
  const m = {
    apiVersion: "chaosctl.io/v1alpha1",
    kind: "ChaosSchedule",
    metadata: { name, namespace, generation: opts.generation ?? 1 },
    spec: {
      schedule: "@once",
      suspend: false,
      concurrencyPolicy: "Forbid",
      historyLimit: 10,
      ...spec,
      selector: { mode: "one", ...(spec.selector as object) },
    },
  } as unknown as ChaosSchedule;
  return {
    key: `${namespace}/${name}`,
    source: { store: "dir", file: `${name}.yaml`, index: 0, line: 1 },
    manifest: m,
    ...(opts.status ? { status: opts.status } : {}),
  };
}

export function guard(
  key: string,
  run: string,
  taskId: string,
  over: Partial<InjectionHandle> & { expires?: Date; generation?: number } = {},
): InjectionHandle {
  const { expires, generation, ...rest } = over;
  return {
    fault: "pause",
    owner: { schedule: key, generation: generation ?? 1, run, ...(expires ? { expires } : {}) },
    target: {
      kind: "container",
      nodeId: "n1",
      serviceId: `svc-${taskId.split(".")[0]}`,
      serviceName: taskId.split(".")[0] ?? "",
      taskId,
      containerId: `ctr-${taskId}`,
    },
    guardId: `guard-${run}-${taskId}`,
    guardState: "running",
    since: T0,
    ...rest,
  };
}

/** A deterministic random source (mulberry32). */
export function seeded(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
