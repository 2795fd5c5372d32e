// One driver per fault kind, one target per call. Selection, schedule, duration
// and status are the controller's; a driver only knows how to inject into one target and undo it.
import type { Engine, ContainerInfo } from "../engine/engine.js";

export type FaultKind = "kill" | "stop" | "restart" | "pause" | "netem" | "network" | "node" | "stress" | "process";

/** Faults that last (a duration, a guard that reverts them); the others happen once. */
export const DURATIVE: ReadonlySet<FaultKind> = new Set<FaultKind>(["pause", "netem", "network", "node", "stress"]);

/** Who an injection belongs to. Written onto what it injects as labels (api/labels.ts). */
export interface Owner {
  /** "<namespace>/<name>" of the ChaosSchedule. */
  schedule: string;
  generation: number;
  /** Run id: stable for one scheduled firing of one schedule generation. */
  run: string;
  /** When the injection must be gone, enforced by the cluster even if the controller dies. */
  expires?: Date;
  /** The controller instance that made it (label chaosctl.io/instance; absent means "default"). */
  instance?: string;
  /** Provenance: the commit and repository path of the manifest (git store; labels chaosctl.io/commit, chaosctl.io/source-path). */
  source?: { commit: string; path: string };
}

/** One target of a run: a task's container (container and network faults) or a node. */
export interface Target {
  kind: "container" | "node";
  nodeId: string;
  nodeHostname?: string;
  serviceId?: string;
  serviceName?: string;
  taskId?: string;
  containerId?: string;
}

export interface DriverContext {
  /** The engine of the node that runs the target (local engine, or the node's agent). */
  engine: Engine;
  /** The project's own image, used for guards and network helpers; never pulled. */
  image: string;
  now: Date;
  /** Host path of the node's engine socket, bind-mounted into guards (default /var/run/docker.sock). */
  dockerSocket?: string;
  /**
   * How long a guarded fault may take to become observable after its guard starts (default
   * 10 s). Slow nodes need more: under software emulation a guard's node process starts in ~10 s.
   */
  guardApplyTimeoutMs?: number;
  /** Swarm node id of `engine`, when known (a node partition refuses to run on another node's engine). */
  nodeId?: string;
  /** A manager's engine (the controller's own), for Swarm-level changes such as node availability; default `engine`. */
  manager?: Engine;
  /** Swarm node id of `manager`, when known (saves a cluster read to label where a drain's guard runs). */
  managerNodeId?: string;
}

export type ApplyResult =
  /** Injected and still in effect (durative faults); `handle` is what recover needs. */
  | { phase: "Injected"; handle: InjectionHandle }
  /** An instantaneous fault that is done (kill, stop, restart). */
  | { phase: "Done" }
  | { phase: "Failed"; reason: string; message: string };

export type RecoverResult =
  | { phase: "Recovered" }
  /** The target is gone (task replaced, container removed): nothing to revert. */
  | { phase: "Gone" }
  | { phase: "Failed"; reason: string; message: string };

/**
 * What exists in the cluster for one active injection. Rebuilt by `observe` from the
 * cluster alone (labels of guard containers, owned qdiscs/chains, node labels), so a
 * restarted controller can adopt or revert it.
 */
export interface InjectionHandle {
  fault: FaultKind;
  owner: Owner;
  target: Target;
  /** Id of the guard container that enforces the expiry, when there is one. */
  guardId?: string;
  /** The node whose engine runs the guard, when it is not the target's (a node drain's guard runs on a manager). */
  guardNodeId?: string;
  /** Guard state as last observed ("running", "exited"...). */
  guardState?: string;
  /** Exit code of a guard that has exited (0: reverted normally). */
  guardExitCode?: number;
  since?: Date;
  /** Whether owner.expires has passed, when observed with a clock (faults/guard/observe.ts). */
  expired?: boolean;
  /** The fault spec the guard enforces (from its labels), for a direct revert. */
  spec?: unknown;
}

export interface FaultDriver<Spec = unknown> {
  readonly kind: FaultKind;
  /** Durative faults stay injected for spec.duration and are reverted at expiry. */
  readonly durative: boolean;
  readonly targets: "container" | "node";
  apply(ctx: DriverContext, target: Target, spec: Spec, owner: Owner): Promise<ApplyResult>;
  recover(ctx: DriverContext, handle: InjectionHandle): Promise<RecoverResult>;
}

/** Guard containers of one node, parsed back into handles (see faults/guard/observe.ts). */
export type ObserveInjections = (containers: ContainerInfo[], now?: Date) => InjectionHandle[];

/** A guard still in charge of its injection (or an injection without a guard). */
export const isActive = (h: InjectionHandle): boolean =>
  h.guardState === undefined || ["running", "created", "restarting", "paused"].includes(h.guardState);
