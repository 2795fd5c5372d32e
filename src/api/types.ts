// The ChaosSchedule types, generated from crds/chaosschedule.yaml (scripts/gen-types.mjs),
// under the names the rest of the code imports. Never hand-write a field here.
import type {
  ChaosSchedule,
  ChaosScheduleSpec,
  Fault,
  KillFault,
  NetworkBandwidth,
  NetworkPartition,
  ObjectMeta,
  RestartFault,
  Selector,
  StopFault,
  NetemFault,
  NetworkFault,
  NodeFault,
  Probe,
  HttpProbe,
  ServiceProbe,
  AbortSpec,
  StressFault,
  StressCpu,
  StressIo,
  StressDisk,
  ProcessFault,
} from "./generated/types.js";

export type {
  StressFault,
  ProcessFault,
  ChaosSchedule,
  ChaosScheduleSpec,
  ChaosScheduleStatus,
  Selector,
  Fault,
  ActiveInjection,
  RunRecord,
  Condition,
  SafetySpec,
  ObjectMeta,
  KillFault,
  StopFault,
  RestartFault,
  PauseFault,
  NetemFault,
  NetemDelay,
  NetemLoss,
  NetemDuplicate,
  NetemCorrupt,
  NetemReorder,
  NetemDestinations,
  NetworkFault,
  NetworkLoss,
  NetworkPartition,
  PartitionPeers,
  NetworkBandwidth,
  NodeFault,
  Probe,
  HttpProbe,
  HttpExpect,
  CmdProbe,
  CmdExpect,
  PrometheusProbe,
  ServiceProbe,
  AbortSpec,
  ProbeResult,
} from "./generated/types.js";

/** The keys of spec.fault; exactly one is set in a valid manifest. */
export type FaultName = keyof Fault;
export const FAULT_NAMES = [
  "kill",
  "stop",
  "restart",
  "pause",
  "netem",
  "network",
  "node",
  "stress",
  "process",
] as const satisfies readonly FaultName[];

type WithDefaults<T, K extends keyof T> = T & { [P in K]-?: Exclude<T[P], undefined> };

/** spec.fault after loading: the schema defaults of the fault that is set are filled in. */
export interface DefaultedFault extends Fault {
  kill?: WithDefaults<KillFault, "signal">;
  stop?: WithDefaults<StopFault, "timeout">;
  restart?: WithDefaults<RestartFault, "timeout">;
  netem?: WithDefaults<NetemFault, "interface">;
  network?: WithDefaults<NetworkFault, "interface"> & {
    partition?: WithDefaults<NetworkPartition, "direction">;
    bandwidth?: WithDefaults<NetworkBandwidth, "burst" | "latency">;
  };
  node?: WithDefaults<NodeFault, "allowManagers">;
  stress?: StressFault & {
    cpu?: WithDefaults<StressCpu, "workers" | "load">;
    memory?: WithDefaults<NonNullable<StressFault["memory"]>, "workers">;
    io?: WithDefaults<StressIo, "workers" | "size">;
    disk?: WithDefaults<StressDisk, "path">;
  };
  process?: WithDefaults<ProcessFault, "signal">;
}

/** A probe after loading: its schema defaults are filled in. */
export type DefaultedProbe = WithDefaults<Probe, "interval" | "failureThreshold"> & {
  http?: WithDefaults<HttpProbe, "method">;
  service?: WithDefaults<ServiceProbe, "healthy">;
};

/** spec after loading: every field with a schema default is present. */
export type DefaultedSpec = WithDefaults<
  ChaosScheduleSpec,
  "schedule" | "suspend" | "concurrencyPolicy" | "historyLimit"
> & {
  selector: WithDefaults<Selector, "mode">;
  fault: DefaultedFault;
  probes?: DefaultedProbe[];
  /** Present only when the manifest gives it (then with haltSchedule filled in). */
  abort?: WithDefaults<AbortSpec, "haltSchedule">;
};

/**
 * A manifest as load.ts hands it out: fully valid, defaults applied (namespace "default",
 * schedule "@once", concurrencyPolicy Forbid, historyLimit 10, suspend false, selector.mode
 * "one", fault defaults). Assignable to ChaosSchedule.
 */
export type LoadedChaosSchedule = ChaosSchedule & {
  metadata: WithDefaults<ObjectMeta, "namespace">;
  spec: DefaultedSpec;
};

/** "<namespace>/<name>", the identity of a schedule everywhere (stores, labels, CLI). */
export function scheduleKey(m: { metadata: { name: string; namespace?: string } }): string {
  return `${m.metadata.namespace ?? "default"}/${m.metadata.name}`;
}
