// The reconcile loop. Level-triggered: it wakes on manifest changes, Docker events and its own
// timers, and otherwise sleeps. Each wake runs one pass, whose phases live beside this file
// (pass.ts: observe → decide → act → record).
import { randomInt } from "node:crypto";
import type { Engine, ContainerInfo, DockerEvent } from "../engine/engine.js";
import type { FaultDriver, FaultKind, InjectionHandle } from "../faults/driver.js";
import type { Store } from "../store/store.js";
import type { Logger } from "../util/log.js";
import { defaultPlanConfig, type PlanConfig } from "./plan.js";
import type { AuditSink } from "./audit-log.js";
import type { NodeDirectory } from "../nodes/directory.js";
import { LeadershipLost, type PassObserver } from "./observer.js";
import { begin, decide, type PassEnv, type PassMemory, type PassResult } from "./pass.js";
import { observe } from "./observe.js";
import { ACT_STEPS } from "./act.js";
import { record } from "./record.js";
import { watchKillSwitch } from "./kill-switch.js";
import type { DefaultedProbe } from "../api/types.js";
import { ProbeMonitor } from "../probes/monitor.js";
import { StopConditionWatch } from "../probes/stop-condition.js";

export type { PassResult } from "./pass.js";

export interface ControllerOptions {
  store: Store;
  engine: Engine;
  drivers: ReadonlyMap<FaultKind, FaultDriver>;
  /** Parses guard containers back into injection handles (faults/guard). */
  observeInjections: (containers: ContainerInfo[]) => InjectionHandle[];
  image: string;
  logger: Logger;
  config?: Partial<PlanConfig>;
  /** Kill switch as a file: while it exists, everything is reverted and nothing starts. */
  killSwitchFile?: string;
  clock?: () => Date;
  random?: () => number;
  recoveryTimeoutMs?: number;
  /** Longest sleep without any event (a periodic relist). */
  resyncMs?: number;
  /** Append-only audit log: a JSON line per apply, revert and skip (--audit-log). */
  auditLog?: AuditSink;
  /**
   * This controller's instance name (label chaosctl.io/instance). It manages only injections of
   * its own instance, so two controllers (or test runs) on one cluster never revert each
   * other's chaos. Default "default".
   */
  instance?: string;
  /** How long a guard may take to make its fault observable (DriverContext.guardApplyTimeoutMs). */
  guardApplyTimeoutMs?: number;
  /** Agents of the other nodes (multi-node Swarm); without it, targets elsewhere are AgentUnavailable. */
  nodes?: NodeDirectory;
  /** Operations hook (metrics, health), called around every pass of run(). */
  observer?: PassObserver;
  /** Checked before anything is injected, reverted or recorded: false ends the pass (leader lease lost). */
  mayAct?: () => boolean;
  /** A probe that, while it fails, acts as the kill switch (--stop-condition; src/probes/stop-condition.ts). */
  stopCondition?: DefaultedProbe;
  /** Every probe check (metrics); the stop condition's with mode "StopCondition". */
  onProbeCheck?: (c: { schedule: string; probe: string; mode: string; ok: boolean }) => void;
  /** A probe decided to abort a run (benchmarks time the revert from here). */
  onProbeAbort?: (a: { schedule: string; run: string; probe: string; message: string; at: Date }) => void;
  /** The stop condition started (a reason) or stopped (undefined) failing (metrics). */
  onStopCondition?: (failing: string | undefined) => void;
}

const cryptoRandom = (): number => randomInt(0, 2 ** 32) / 2 ** 32;

export class Controller {
  private readonly env: PassEnv;
  private readonly memory: PassMemory = { loggedInvalid: new Set(), settled: new WeakMap(), healthyAt: new Map() };

  constructor(private readonly options: ControllerOptions) {
    const o = options;
    const config: PlanConfig = {
      ...defaultPlanConfig,
      ...o.config,
      supportedFaults: o.config?.supportedFaults ?? new Set(o.drivers.keys()),
    };
    this.env = {
      store: o.store,
      engine: o.engine,
      drivers: o.drivers,
      observeInjections: o.observeInjections,
      image: o.image,
      logger: o.logger,
      config,
      clock: o.clock ?? (() => new Date()),
      random: o.random ?? cryptoRandom,
      recoveryTimeoutMs: o.recoveryTimeoutMs ?? 600_000,
      instance: o.instance ?? "default",
      ...(o.guardApplyTimeoutMs ? { guardApplyTimeoutMs: o.guardApplyTimeoutMs } : {}),
      ...(o.nodes ? { nodes: o.nodes } : {}),
      ...(o.auditLog ? { auditLog: o.auditLog } : {}),
      ...(o.killSwitchFile ? { killSwitchFile: o.killSwitchFile } : {}),
      probes: new ProbeMonitor({
        engine: o.engine,
        image: o.image,
        logger: o.logger,
        ...(o.clock ? { clock: o.clock } : {}),
        ...(o.onProbeCheck ? { onCheck: o.onProbeCheck } : {}),
        ...(o.onProbeAbort ? { onAbort: o.onProbeAbort } : {}),
      }),
      gate: () => {
        if (o.mayAct && !o.mayAct()) throw new LeadershipLost();
      },
    };
    const stop = o.stopCondition;
    if (stop && this.env.probes) {
      this.env.stopCondition = new StopConditionWatch(
        stop,
        this.env.probes,
        o.logger,
        (failing) => {
          o.onStopCondition?.(failing);
          this.wake();
        },
        (ok) => o.onProbeCheck?.({ schedule: "", probe: stop.name, mode: "StopCondition", ok }),
      );
    }
  }

  /** One reconcile pass: observe → decide → act → record (pass.ts). */
  async pass(): Promise<PassResult> {
    const { env, memory } = this;
    env.gate();
    const obs = await observe(env, memory);
    const s = begin(env, obs, decide(env, obs));
    for (const step of ACT_STEPS) await step(s);
    return record(s, memory);
  }

  /** Stops what runs between passes (probe checks): for a controller used pass by pass (--once). */
  close(): void {
    this.env.probes?.stop();
  }

  /** Wakes the loop (set while run() runs): a probe decided something the controller must act on now. */
  private wake: () => void = () => {};

  private noteHealthy(id: string, at: Date): void {
    const { healthyAt } = this.memory;
    healthyAt.delete(id);
    healthyAt.set(id, at.toISOString());
    if (healthyAt.size > 10_000) healthyAt.delete(healthyAt.keys().next().value as string);
  }

  /** Docker events that may change what the pass would do wake the loop; the stream reconnects with backoff. */
  private followEvents(signal: AbortSignal, trigger: () => void): () => void {
    const { engine, logger } = this.env;
    const relevant = (e: DockerEvent): boolean =>
      e.type === "service" ||
      e.type === "node" ||
      (e.type === "container" &&
        ["die", "start", "pause", "unpause", "destroy", "health_status", "oom"].some((a) => e.action.startsWith(a)));
    let eventsCtl: AbortController | undefined;
    let eventsBackoff = 500;
    const subscribe = (): void => {
      eventsCtl = new AbortController();
      const ctl = eventsCtl;
      signal.addEventListener("abort", () => ctl.abort(), { once: true });
      engine.events(
        (e) => {
          eventsBackoff = 500;
          if (e.type === "container" && e.action === "health_status: healthy") this.noteHealthy(e.id, e.time);
          if (relevant(e)) {
            logger.debug({ event: "docker-event", type: e.type, action: e.action, id: e.id.slice(0, 12) }, "wake");
            trigger();
          }
        },
        ctl.signal,
        (err) => {
          if (signal.aborted) return;
          logger.warn({ err: err.message, retryInMs: eventsBackoff }, "docker events stream ended; reconnecting");
          setTimeout(() => !signal.aborted && (subscribe(), trigger()), eventsBackoff).unref();
          eventsBackoff = Math.min(eventsBackoff * 2, 30_000);
        },
      );
    };
    subscribe();
    return () => eventsCtl?.abort();
  }

  /** Run until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { store, logger } = this.env;
    let wake: () => void = () => {};
    let pending = false;
    const trigger = (): void => {
      pending = true;
      wake();
    };
    const stopWatch = await store.watch(trigger);
    // A probe's abort, a verdict or the stop condition flipping wakes the loop at once.
    this.wake = trigger;
    if (this.env.probes) this.env.probes.onChange = trigger;
    const probeLoops = new AbortController();
    signal.addEventListener("abort", () => probeLoops.abort(), { once: true });
    const stopLoop = this.env.stopCondition?.run(probeLoops.signal);
    const stopKillSwitch = this.env.killSwitchFile
      ? watchKillSwitch(this.env.killSwitchFile, trigger, logger)
      : () => undefined;
    const stopEvents = this.followEvents(signal, trigger);
    let backoff = 250;
    try {
      while (!signal.aborted) {
        pending = false;
        let wakeAt: number;
        const startedAt = this.env.clock();
        this.options.observer?.passStarted?.(startedAt);
        try {
          const r = await this.pass();
          this.options.observer?.passEnded({ startedAt, endedAt: this.env.clock(), result: r });
          backoff = 250;
          wakeAt = Math.min(r.wakeAt?.getTime() ?? Infinity, Date.now() + (this.options.resyncMs ?? 30_000));
        } catch (e) {
          this.options.observer?.passEnded({ startedAt, endedAt: this.env.clock(), error: e });
          logger.error(
            { err: e instanceof Error ? e.message : String(e), retryInMs: backoff },
            "reconcile pass failed",
          );
          wakeAt = Date.now() + backoff;
          backoff = Math.min(backoff * 2, 30_000);
        }
        if (pending || signal.aborted) continue;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            signal.removeEventListener("abort", done);
            resolve();
          };
          const t = setTimeout(done, Math.max(0, wakeAt - Date.now()));
          // At once: the store coalesces its own bursts, and what arrives while a pass runs is
          // folded into the one pass that follows it (pending).
          wake = () => setImmediate(done);
          signal.addEventListener("abort", done, { once: true });
        });
        wake = () => {};
      }
    } finally {
      stopEvents();
      probeLoops.abort();
      this.env.probes?.stop();
      this.wake = () => {};
      await stopLoop;
      stopKillSwitch();
      await stopWatch();
    }
  }
}
