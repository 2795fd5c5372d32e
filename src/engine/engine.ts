// The engine boundary. Everything outside src/engine talks to the cluster through this
// interface; dockerode is imported only in src/engine/docker.ts. Errors are typed (errors.ts).

export type NodeRole = "manager" | "worker";
export type NodeAvailability = "active" | "pause" | "drain";

export interface NodeInfo {
  id: string;
  hostname: string;
  role: NodeRole;
  availability: NodeAvailability;
  /** Swarm's view: ready, down, unknown, disconnected. */
  state: string;
  addr: string;
  labels: Record<string, string>;
  /** Swarm object version, for compare-and-swap updates. */
  version: number;
  leader: boolean;
  managerReachability?: string;
  /** When Swarm last changed the node object (its status or spec), RFC 3339. */
  updatedAt?: string;
}

export interface ServiceInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** com.docker.stack.namespace, when deployed by `docker stack deploy`. */
  stack?: string;
  mode: "replicated" | "global";
  /** Desired replicas (replicated mode). */
  replicas?: number;
  hasHealthcheck: boolean;
  version: number;
  /** --limit-memory of its tasks, in bytes, when set. */
  memoryLimitBytes?: number;
}

export interface TaskNetwork {
  network: string;
  addresses: string[]; // CIDR form as Swarm reports it, e.g. 10.0.1.5/24
}

export interface TaskInfo {
  id: string;
  serviceId: string;
  nodeId: string;
  slot?: number;
  desiredState: string;
  /** Swarm's task state: new, pending, assigned, ..., running, complete, failed, shutdown, rejected. */
  state: string;
  /** When the task entered its current state (Swarm's Status.Timestamp). */
  timestamp: string;
  createdAt: string;
  message: string;
  err?: string;
  containerId?: string;
  networks: TaskNetwork[];
}

export type ContainerState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ContainerInfo {
  id: string;
  names: string[];
  image: string;
  labels: Record<string, string>;
  state: ContainerState;
  /** From Docker's status line, when the container has a healthcheck. */
  health?: "starting" | "healthy" | "unhealthy";
  /** Unix seconds. */
  created: number;
  /** Exit code of an exited container (from Docker's status line or State.ExitCode). */
  exitCode?: number;
  /** Swarm labels, when the container belongs to a task. */
  taskId?: string;
  serviceId?: string;
  nodeId?: string;
  /** From inspect only: the container's resource limits and cgroup (resource faults). */
  resources?: ContainerResources;
  /** From inspect only: the kernel's OOM killer ended it (State.OOMKilled). */
  oomKilled?: boolean;
}

export interface ContainerResources {
  /** Memory limit in bytes; 0 when unlimited. */
  memoryBytes: number;
  /** CPU limit in units of 1e-9 CPUs (--cpus / --limit-cpu); 0 when unlimited. */
  nanoCpus: number;
  /** HostConfig.CgroupParent as created ("" means the engine's default). */
  cgroupParent: string;
}

/** One observation of the cluster: one list call per kind, shared by every schedule. */
export interface ClusterSnapshot {
  at: Date;
  /** The node this engine runs on. */
  selfNodeId: string;
  nodes: NodeInfo[];
  services: ServiceInfo[];
  tasks: TaskInfo[];
  /** Containers on this engine's node (all states, including helpers). */
  containers: ContainerInfo[];
  /**
   * When containers last turned healthy, as Docker's events reported it (filled by the
   * controller from its event stream; more exact than the time a list call sees it).
   */
  healthyAt?: Record<string, string>;
}

export interface HelperSpec {
  /** Image of the project itself (never pulled). */
  image: string;
  name?: string;
  cmd: string[]; // argv, never a shell string
  labels: Record<string, string>;
  /** "container:<id>" to share a target's network namespace, or "host". */
  networkMode?: string;
  capAdd?: string[];
  /** Bind mounts "src:dst[:ro]". */
  binds?: string[];
  env?: string[];
  /** Restart the helper if it dies abnormally (guards must survive an engine restart). */
  restartOnFailure?: boolean;
  /** Max restarts with restartOnFailure (default 3): bounded, so a permanent failure ends. */
  maxRestarts?: number;
  /** Overrides the image's entrypoint (argv). */
  entrypoint?: string[];
  /**
   * Run the engine's init (tini) as PID 1: a SIGTERM that arrives before the program has installed
   * its own handler ends it instead of being ignored (the kernel ignores it for a handler-less PID 1).
   */
  init?: boolean;
  /** Parent cgroup of the helper's own (cgroupfs driver: a path such as /docker/<target id>). */
  cgroupParent?: string;
  /** "container:<id>" to share a target's PID namespace. */
  pidMode?: string;
  /** "host": the helper sees cgroup paths from the root of the hierarchy (/proc/<pid>/cgroup). */
  cgroupnsMode?: "host" | "private";
  /** The engine removes the container when it exits. */
  autoRemove?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DockerEvent {
  type: string; // container, service, node, config, network ...
  action: string;
  id: string;
  attributes: Record<string, string>;
  time: Date;
}

export interface NodeSpecUpdate {
  availability?: NodeAvailability;
  labels?: Record<string, string>;
}

/** A Swarm config (raft-replicated on the managers). Data is immutable; labels can change. */
export interface ConfigInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** The config's data, decoded from base64 (UTF-8). */
  data: string;
  /** Swarm object version: pass it to updateConfigLabels for compare-and-swap. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Swarm configs as durable, versioned cluster state (docs/stores.md, "Swarm config store"):
 * the config store, the controller lease and the controller's own records use it.
 * Only a manager's engine offers it.
 */
export interface SwarmConfigs {
  /** Configs whose labels match every filter ("key" or "key=value"). One API call. */
  listConfigs(labelFilters?: string[]): Promise<ConfigInfo[]>;
  /** ConfigNotFound when it does not exist. */
  inspectConfig(idOrName: string): Promise<ConfigInfo>;
  /** Returns the new config's id; ConfigNameConflict when the name is taken. */
  createConfig(name: string, data: string, labels: Record<string, string>): Promise<string>;
  /**
   * Replace the config's labels (name and data stay), only if its version is still `version`:
   * VersionConflict otherwise ("update out of sequence"), so a writer never overwrites
   * a change it has not seen. Label values are limited in size by the engine (a 5 KB JSON
   * value was accepted on 20.10).
   */
  updateConfigLabels(id: string, version: number, labels: Record<string, string>): Promise<void>;
  /** ConfigNotFound when already gone; ConfigInUse when a service references it. */
  removeConfig(id: string): Promise<void>;
}

export interface Engine {
  /** A snapshot of nodes, services, tasks and this node's containers (4 list calls). */
  snapshot(): Promise<ClusterSnapshot>;
  listContainers(labelFilters?: string[]): Promise<ContainerInfo[]>;
  inspectContainer(id: string): Promise<ContainerInfo>;

  killContainer(id: string, signal: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string, opts?: { force?: boolean }): Promise<void>;

  /** Create and start a helper container; returns its id. */
  startHelper(spec: HelperSpec): Promise<string>;
  /**
   * Create a helper and hand its start to the engine without waiting for it: resolves once the
   * start request has left this process (past that point the engine starts the container even if
   * this process dies), with `started` settling when the engine answers; a failed start leaves the
   * created container for the caller to remove. Optional: an engine that
   * cannot tell when a request has left (an agent) does not offer it and callers use startHelper.
   */
  launchHelper?(spec: HelperSpec): Promise<{ id: string; started: Promise<void> }>;
  /** Run a helper to completion (bounded by timeoutMs), collect output, remove it. */
  runHelper(spec: HelperSpec, timeoutMs: number): Promise<ExecResult>;
  /** The last `tail` lines a container wrote (stdout and stderr, demultiplexed). */
  containerLogs(id: string, tail: number): Promise<{ stdout: string; stderr: string }>;
  /** Run argv inside a running container (docker exec). */
  exec(containerId: string, argv: string[], timeoutMs: number): Promise<ExecResult>;

  updateNode(id: string, version: number, update: NodeSpecUpdate): Promise<void>;
  imageExists(ref: string): Promise<boolean>;

  /** Stream Docker events until the signal aborts; the callback errors end the stream. */
  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onError?: (err: Error) => void): void;
  ping(): Promise<void>;

  /** Docker API calls made so far, by operation (for benchmarks and metrics). */
  readonly calls: Readonly<Record<string, number>>;
  /** Of those calls, the ones that failed, by operation (metrics). */
  readonly errors?: Readonly<Record<string, number>>;
}
