// Pure mapping from raw Docker API objects (raw.ts) to the engine's plain types (engine.ts).
import type {
  ConfigInfo,
  ContainerInfo,
  ContainerState,
  DockerEvent,
  NodeAvailability,
  NodeInfo,
  NodeRole,
  ServiceInfo,
  TaskInfo,
} from "./engine.js";
import type {
  RawConfig,
  RawContainerInspect,
  RawContainerSummary,
  RawEvent,
  RawHealthcheck,
  RawNode,
  RawService,
  RawTask,
} from "./raw.js";

export const LABEL_STACK = "com.docker.stack.namespace";
export const LABEL_SWARM_TASK = "com.docker.swarm.task.id";
export const LABEL_SWARM_SERVICE = "com.docker.swarm.service.id";
export const LABEL_SWARM_NODE = "com.docker.swarm.node.id";

const CONTAINER_STATES: readonly ContainerState[] = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
];

export function mapNode(n: RawNode): NodeInfo {
  const node: NodeInfo = {
    id: n.ID,
    hostname: n.Description?.Hostname ?? n.Spec?.Name ?? n.ID,
    role: (n.Spec?.Role === "manager" ? "manager" : "worker") satisfies NodeRole,
    availability: asAvailability(n.Spec?.Availability),
    state: n.Status?.State ?? "unknown",
    addr: n.Status?.Addr ?? "",
    labels: { ...(n.Spec?.Labels ?? {}) },
    version: n.Version?.Index ?? 0,
    leader: n.ManagerStatus?.Leader === true,
  };
  if (n.ManagerStatus?.Reachability) node.managerReachability = n.ManagerStatus.Reachability;
  if (n.UpdatedAt) node.updatedAt = n.UpdatedAt;
  return node;
}

function asAvailability(a: string | undefined): NodeAvailability {
  return a === "pause" || a === "drain" ? a : "active";
}

/** A healthcheck counts when it has a test other than NONE (NONE disables the image's own). */
export function hasHealthcheck(h: RawHealthcheck | null | undefined): boolean {
  const test = h?.Test;
  return Array.isArray(test) && test.length > 0 && test[0] !== "NONE";
}

export function mapService(s: RawService): ServiceInfo {
  const labels = { ...(s.Spec?.Labels ?? {}) };
  const mode = s.Spec?.Mode;
  const svc: ServiceInfo = {
    id: s.ID,
    name: s.Spec?.Name ?? s.ID,
    labels,
    mode: mode?.Global !== undefined || mode?.GlobalJob !== undefined ? "global" : "replicated",
    hasHealthcheck: hasHealthcheck(s.Spec?.TaskTemplate?.ContainerSpec?.Healthcheck),
    version: s.Version?.Index ?? 0,
  };
  const stack = labels[LABEL_STACK];
  if (stack) svc.stack = stack;
  if (mode?.Replicated) svc.replicas = mode.Replicated.Replicas ?? 1;
  const mem = s.Spec?.TaskTemplate?.Resources?.Limits?.MemoryBytes;
  if (mem) svc.memoryLimitBytes = mem;
  return svc;
}

export function mapTask(t: RawTask): TaskInfo {
  const task: TaskInfo = {
    id: t.ID,
    serviceId: t.ServiceID ?? "",
    nodeId: t.NodeID ?? "",
    desiredState: t.DesiredState ?? "",
    state: t.Status?.State ?? "",
    timestamp: t.Status?.Timestamp ?? "",
    createdAt: t.CreatedAt ?? "",
    message: t.Status?.Message ?? "",
    networks: (t.NetworksAttachments ?? []).map((a) => ({
      network: a.Network?.Spec?.Name ?? a.Network?.ID ?? "",
      addresses: [...(a.Addresses ?? [])],
    })),
  };
  if (t.Slot !== undefined) task.slot = t.Slot;
  if (t.Status?.Err) task.err = t.Status.Err;
  const cid = t.Status?.ContainerStatus?.ContainerID;
  if (cid) task.containerId = cid;
  return task;
}

export function asContainerState(s: string | undefined): ContainerState {
  return CONTAINER_STATES.find((c) => c === s) ?? "dead";
}

/** Health from Docker's status line: "Up 3s (healthy)", "Up 1s (health: starting)", "(unhealthy)". */
export function healthFromStatus(status: string | undefined): ContainerInfo["health"] {
  if (!status) return undefined;
  if (status.includes("(healthy)")) return "healthy";
  if (status.includes("(unhealthy)")) return "unhealthy";
  if (status.includes("(health: starting)")) return "starting";
  return undefined;
}

/** Exit code from Docker's status line: "Exited (137) 2 seconds ago". */
export function exitCodeFromStatus(status: string | undefined): number | undefined {
  const m = /^Exited \((-?\d+)\)/.exec(status ?? "");
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

function withSwarmIds(c: ContainerInfo): ContainerInfo {
  const task = c.labels[LABEL_SWARM_TASK];
  const service = c.labels[LABEL_SWARM_SERVICE];
  const node = c.labels[LABEL_SWARM_NODE];
  if (task) c.taskId = task;
  if (service) c.serviceId = service;
  if (node) c.nodeId = node;
  return c;
}

export function mapContainerSummary(c: RawContainerSummary): ContainerInfo {
  const info: ContainerInfo = {
    id: c.Id,
    names: (c.Names ?? []).map((n) => n.replace(/^\//, "")),
    image: c.Image ?? "",
    labels: { ...(c.Labels ?? {}) },
    state: asContainerState(c.State),
    created: c.Created ?? 0,
  };
  const health = healthFromStatus(c.Status);
  if (health) info.health = health;
  const exit = info.state === "exited" ? exitCodeFromStatus(c.Status) : undefined;
  if (exit !== undefined) info.exitCode = exit;
  return withSwarmIds(info);
}

export function mapContainerInspect(c: RawContainerInspect): ContainerInfo {
  const info: ContainerInfo = {
    id: c.Id,
    names: c.Name ? [c.Name.replace(/^\//, "")] : [],
    image: c.Config?.Image ?? "",
    labels: { ...(c.Config?.Labels ?? {}) },
    state: asContainerState(c.State?.Status),
    created: c.Created ? Math.floor(Date.parse(c.Created) / 1000) : 0,
  };
  const h = c.State?.Health?.Status;
  if (h === "starting" || h === "healthy" || h === "unhealthy") info.health = h;
  if (info.state === "exited" || info.state === "dead") info.exitCode = c.State?.ExitCode ?? 0;
  if (c.State?.OOMKilled) info.oomKilled = true;
  const hc = c.HostConfig;
  if (hc) {
    // --cpus sets NanoCpus; --cpu-quota/--cpu-period say the same in another unit.
    const quota = hc.CpuQuota && hc.CpuQuota > 0 ? Math.round((hc.CpuQuota / (hc.CpuPeriod || 100_000)) * 1e9) : 0;
    info.resources = {
      memoryBytes: hc.Memory ?? 0,
      nanoCpus: hc.NanoCpus || quota,
      cgroupParent: hc.CgroupParent ?? "",
    };
  }
  return withSwarmIds(info);
}

export function mapEvent(e: RawEvent): DockerEvent {
  const ms = e.timeNano !== undefined ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
  return {
    type: e.Type ?? "",
    action: e.Action ?? "",
    id: e.Actor?.ID ?? "",
    attributes: { ...(e.Actor?.Attributes ?? {}) },
    time: new Date(ms),
  };
}

export function mapConfig(c: RawConfig): ConfigInfo {
  return {
    id: c.ID,
    name: c.Spec?.Name ?? c.ID,
    labels: { ...(c.Spec?.Labels ?? {}) },
    data: c.Spec?.Data ? Buffer.from(c.Spec.Data, "base64").toString("utf8") : "",
    version: c.Version?.Index ?? 0,
    createdAt: c.CreatedAt ?? "",
    updatedAt: c.UpdatedAt ?? "",
  };
}
