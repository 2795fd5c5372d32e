// One reconcile pass as named phases, each in its own file (Controller.pass runs them in order):
//
//   observe (observe.ts)  store, cluster snapshot, remote guards, kill switch → one Observation
//   decide  (plan.ts)     the pure plan: what to revert, re-apply, skip, start and extend
//   act     (act.ts)      the plan's actions in order, each step turning its actions into run events
//   record  (record.ts)   derive each schedule's status, write what changed, collect exited guards
//
// The phases share one PassState: the observation, the plan, and what the pass has done so far
// (events per schedule, injections as they now stand, audit records, status writes). A new
// behaviour is one more step in ACT_STEPS (act.ts) or one changed phase, not a branch inside one.
// This file holds what the phases share: the types, decide, and two helpers.
import type { Engine, ClusterSnapshot, ContainerInfo } from "../engine/engine.js";
import type { FaultDriver, FaultKind, InjectionHandle } from "../faults/driver.js";
import type { Store, StoredManifest, StoreSnapshot } from "../store/store.js";
import type { ChaosScheduleStatus } from "../api/types.js";
import type { AuditRecord } from "../audit/log.js";
import type { Logger } from "../util/log.js";
import type { PassFacts } from "./observer.js";
import { plan, type Plan, type PlanConfig } from "./plan.js";
import { deriveStatus, type RunEvent } from "./status.js";
import type { AuditSink } from "./audit-log.js";
import type { ExecuteDeps } from "./execute.js";
import type { NodeDirectory } from "../nodes/directory.js";
import type { ProbeMonitor } from "../probes/monitor.js";
import type { StopConditionWatch } from "../probes/stop-condition.js";
import { withProbes, type ProbeObservation } from "./probe-status.js";

/** What stays the same from pass to pass: the controller's parts and settings. */
export interface PassEnv {
  store: Store;
  engine: Engine;
  drivers: ReadonlyMap<FaultKind, FaultDriver>;
  observeInjections: (containers: ContainerInfo[]) => InjectionHandle[];
  image: string;
  logger: Logger;
  /** The plan's settings, supportedFaults filled from the drivers. */
  config: PlanConfig;
  clock: () => Date;
  random: () => number;
  recoveryTimeoutMs: number;
  instance: string;
  guardApplyTimeoutMs?: number;
  nodes?: NodeDirectory;
  auditLog?: AuditSink;
  killSwitchFile?: string;
  /** Runs the probes of every run (src/probes); absent: probes are not checked. */
  probes?: ProbeMonitor;
  /** The controller-wide stop condition (--stop-condition). */
  stopCondition?: StopConditionWatch;
  /** Throws LeadershipLost when this controller may no longer act; called before every effect. */
  gate(): void;
}

/** What the controller remembers between passes (all bounded). */
export interface PassMemory {
  /** Invalid-manifest messages already logged (each is logged once while it stands). */
  loggedInvalid: Set<string>;
  /**
   * Schedules whose last pass, with no events and nothing injected, derived a status equal to
   * the stored one (by the store's object identity, kept while the file is unchanged): with the
   * same stored status and next run time, deriveStatus would say the same again (it reads the
   * clock and the cluster only for runs in flight and pending recoveries, which isSettled excludes).
   */
  settled: WeakMap<StoredManifest, { status: ChaosScheduleStatus; next: number | undefined; cluster: string }>;
  /** Container id → when Docker last reported it healthy (fed by the event stream). */
  healthyAt: Map<string, string>;
}

/** The observe phase's result: everything the plan is made from. */
export interface Observation {
  /** When the pass started. */
  now: Date;
  snapshot: ClusterSnapshot;
  stored: StoreSnapshot;
  /** This instance's injections: local and remote guards, plus node faults adopted from node labels. */
  injections: InjectionHandle[];
  killSwitch: boolean;
  probes: ProbeObservation;
}

/** One pass in progress, handed from phase to phase. */
export interface PassState {
  env: PassEnv;
  obs: Observation;
  plan: Plan;
  deps: ExecuteDeps;
  /** Run events by schedule key, fed to deriveStatus. */
  events: Map<string, RunEvent[]>;
  /** Injections as they stand after this pass so far: reverted ones exited, new ones added. */
  current: InjectionHandle[];
  audit: AuditRecord[];
  /** Status write results by schedule key. */
  writes: Map<string, string>;
  /** The status each schedule has in the store now (a start writes its record first). */
  statusOf: Map<string, ChaosScheduleStatus | undefined>;
  byKey: Map<string, StoredManifest>;
}

export interface PassResult extends PassFacts {
  plan: Plan;
  /** Status write results by schedule key. */
  writes: Map<string, string>;
  wakeAt?: Date;
}

/** The decide phase: the pure plan from the observation. */
export function decide(env: PassEnv, obs: Observation): Plan {
  const { stored } = obs;
  return plan({
    now: obs.now,
    manifests: stored.manifests,
    invalidKeys: new Set(stored.invalid.map((i) => i.key).filter((k): k is string => !!k)),
    snapshot: obs.snapshot,
    injections: obs.injections,
    config: { ...env.config, killSwitch: obs.killSwitch },
    random: env.random,
    aborted: new Set(obs.probes.aborted.keys()),
    halted: obs.probes.halted,
    ...(obs.probes.stopCondition !== undefined ? { stopCondition: obs.probes.stopCondition } : {}),
  });
}

/** A pass about to act on plan `p`: nothing done yet. */
export function begin(env: PassEnv, obs: Observation, p: Plan): PassState {
  const { manifests } = obs.stored;
  return {
    env,
    obs,
    plan: p,
    deps: {
      engine: env.engine,
      drivers: env.drivers,
      image: env.image,
      logger: env.logger,
      selfNodeId: obs.snapshot.selfNodeId,
      instance: env.instance,
      ...(env.nodes ? { nodes: env.nodes } : {}),
      ...(env.guardApplyTimeoutMs ? { guardApplyTimeoutMs: env.guardApplyTimeoutMs } : {}),
    },
    events: new Map(),
    current: obs.injections.slice(),
    audit: [],
    writes: new Map(),
    statusOf: new Map(manifests.map((m) => [m.key, m.status])),
    byKey: new Map(manifests.map((m) => [m.key, m])),
  };
}

/** Adds a run event to a schedule's list for this pass. */
export function pushEvent(s: PassState, key: string, e: RunEvent): void {
  s.events.set(key, [...(s.events.get(key) ?? []), e]);
}

/** The status of schedule `m` from `prev`, these events and the injections as they now stand. */
export function statusFor(
  s: PassState,
  m: StoredManifest,
  prev: ChaosScheduleStatus | undefined,
  events: RunEvent[],
  now = s.env.clock(),
): ChaosScheduleStatus {
  const next = s.plan.schedules.get(m.key)?.next;
  const derived = deriveStatus({
    now,
    manifest: m.manifest,
    ...(prev ? { prev } : {}),
    ...(next ? { next } : {}),
    injections: s.current.filter((h) => h.owner.schedule === m.key),
    events,
    snapshot: s.obs.snapshot,
    recoveryTimeoutMs: s.env.recoveryTimeoutMs,
  });
  return withProbes(s.env.probes, s.obs.probes, m, derived, prev, now);
}
