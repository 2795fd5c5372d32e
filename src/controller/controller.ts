// The reconcile loop: observe → plan → execute → write status. Level-triggered: it wakes on
// manifest changes, Docker events and its own timers, and otherwise sleeps.
import { randomInt } from "node:crypto";
import type { Engine, ClusterSnapshot, ContainerInfo, DockerEvent } from "../engine/engine.js";
import type { FaultDriver, FaultKind, InjectionHandle } from "../faults/driver.js";
import type { Store, StoredManifest } from "../store/store.js";
import type { ChaosScheduleStatus } from "../api/types.js";
import type { Logger } from "../util/log.js";
import { formatProblem } from "../api/problems.js";
import { invalidMessage } from "../store/store.js";
import fastJsonPatch from "fast-json-patch";
import { plan, defaultPlanConfig, type PlanConfig, type Plan, type Action } from "./plan.js";
import { deriveStatus, type RunEvent } from "./status.js";
import { appliedRecords, revertRecord, skipRecord, type AuditSink } from "./audit-log.js";
import type { AuditRecord } from "../audit/log.js";
import { orphanNodeHandles } from "../faults/node/observe.js";
import { executeExtend, executeReapply, executeRevert, executeStart, routeTo, type ExecuteDeps } from "./execute.js";
import type { NodeDirectory } from "./nodes.js";
import { LeadershipLost, type PassFacts, type PassObserver } from "../ops/observer.js";

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
}

export interface PassResult extends PassFacts {
  plan: Plan;
  /** Status write results by schedule key. */
  writes: Map<string, string>;
  wakeAt?: Date;
}

const { compare } = fastJsonPatch;

/** Nothing in flight: no active injection, no running run, no recovery being measured. */
const isQuiet = (st: ChaosScheduleStatus): boolean =>
  !st.active?.length && !(st.history ?? []).some((r) => r.result === "Running" || r.recovery === "Pending");
/** How soon a pass looks again at a node it could not see while a run there awaits it. */
const BLIND_RETRY_MS = 2_000;
const cryptoRandom = (): number => randomInt(0, 2 ** 32) / 2 ** 32;

/** A running run of this status has a target task on a node whose guards this pass could not see. */
function awaitsNode(st: ChaosScheduleStatus | undefined, snapshot: ClusterSnapshot, nodes: NodeDirectory): boolean {
  const running = (st?.history ?? []).filter((r) => r.result === "Running");
  if (running.length === 0) return false;
  const blind = nodes.unobservable(snapshot);
  if (blind.size === 0) return false;
  const nodeOf = new Map(snapshot.tasks.map((t) => [t.id, t.nodeId]));
  // Node faults name their nodes: a partitioned node's agent is out of sight until it heals.
  return running.some(
    (r) => (r.tasks ?? []).some((t) => blind.has(nodeOf.get(t) ?? "")) || (r.nodes ?? []).some((n) => blind.has(n)),
  );
}

export class Controller {
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly config: PlanConfig;
  private readonly loggedInvalid = new Set<string>();
  private selfNodeId?: string;
  /**
   * Schedules whose last pass, with no events and nothing injected, derived a status equal to
   * the stored one (by the store's object identity, kept while the file is unchanged): with the
   * same stored status and next run time, deriveStatus would say the same again (it reads the
   * clock and the cluster only for runs in flight and pending recoveries, which isQuiet excludes).
   */
  private readonly quiet = new WeakMap<StoredManifest, { status: ChaosScheduleStatus; next: number | undefined }>();
  /** Container id → when Docker last reported it healthy (bounded; fed by the event stream). */
  private readonly healthyAt = new Map<string, string>();

  constructor(private readonly o: ControllerOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.random = o.random ?? cryptoRandom;
    this.config = {
      ...defaultPlanConfig,
      ...o.config,
      supportedFaults: o.config?.supportedFaults ?? new Set(o.drivers.keys()),
    };
  }

  /** One reconcile pass. */
  async pass(): Promise<PassResult> {
    const { store, engine, logger } = this.o;
    this.gate();
    const [observed, stored] = await Promise.all([engine.snapshot(), store.list()]);
    const snapshot = { ...observed, healthyAt: Object.fromEntries(this.healthyAt) };
    this.selfNodeId = snapshot.selfNodeId;
    this.logInvalid(stored.invalid.map((i) => ({ key: i.key, text: i.problems.map(formatProblem).join("\n") })));
    // An invalid manifest that still parses says so in its own status (Ready=False, InvalidSpec).
    for (const i of stored.invalid)
      if (i.key) await store.reportInvalid(i.key, invalidMessage(i.problems), this.clock());
    const instance = this.o.instance ?? "default";
    // Guards on other nodes, from their agents (one call per agent), beside our own node's.
    const remote = this.o.nodes ? await this.o.nodes.refresh(snapshot) : [];
    const guards = this.o.observeInjections(snapshot.containers.concat(remote));
    // A drained/paused node whose guard is gone is still injected: adopted from its labels.
    const injections = guards
      .concat(orphanNodeHandles(snapshot.nodes, guards, snapshot.selfNodeId))
      .filter((h) => (h.owner.instance ?? "default") === instance);
    const now = this.clock();
    const killSwitch = this.config.killSwitch || (await this.killSwitchOn());
    const p = plan({
      now,
      manifests: stored.manifests,
      invalidKeys: new Set(stored.invalid.map((i) => i.key).filter((k): k is string => !!k)),
      snapshot,
      injections,
      config: { ...this.config, killSwitch },
      random: this.random,
    });
    const deps: ExecuteDeps = {
      engine,
      drivers: this.o.drivers,
      image: this.o.image,
      logger,
      selfNodeId: snapshot.selfNodeId,
      instance,
      ...(this.o.nodes ? { nodes: this.o.nodes } : {}),
      ...(this.o.guardApplyTimeoutMs ? { guardApplyTimeoutMs: this.o.guardApplyTimeoutMs } : {}),
    };
    const events = new Map<string, RunEvent[]>();
    const push = (key: string, e: RunEvent): void => {
      events.set(key, [...(events.get(key) ?? []), e]);
    };
    // Injections as they stand after this pass: reverted ones exited, new ones added.
    let current = injections.slice();
    const audit: AuditRecord[] = [];
    const writes = new Map<string, string>();
    const statuses: NonNullable<PassResult["statuses"]> = new Map();
    const statusOf = new Map<string, ChaosScheduleStatus | undefined>(stored.manifests.map((m) => [m.key, m.status]));
    const byKey = new Map(stored.manifests.map((m) => [m.key, m]));

    // Reverts first: they free safety budget and end what is no longer wanted.
    const dry = this.config.dryRun;
    for (const a of p.actions.filter((x): x is Extract<Action, { type: "revert" }> => x.type === "revert")) {
      if (dry) {
        logger.info(
          {
            event: "dry-run",
            action: "revert",
            schedule: a.handle.owner.schedule,
            run: a.handle.owner.run,
            reason: a.reason,
          },
          "dry run: would revert",
        );
        continue;
      }
      this.gate();
      const r = await executeRevert(a, deps, this.clock());
      audit.push(revertRecord(a, r.ok, r.message, this.clock(), instance));
      if (r.ok) current = current.map((h) => (h === a.handle ? { ...h, guardState: "exited", guardExitCode: 0 } : h));
      push(a.handle.owner.schedule, {
        type: "reverted",
        run: a.handle.owner.run,
        reason: a.reason,
        ok: r.ok,
        ...(r.message ? { message: r.message } : {}),
        ...(a.handle.target.taskId ? { task: a.handle.target.taskId } : {}),
      });
    }
    // Network injections whose destinations moved: same owner and expiry, fresh addresses.
    for (const a of p.actions) {
      if (a.type !== "reapply" || dry) continue;
      this.gate();
      const r = await executeReapply(a, deps, this.clock());
      audit.push(revertRecord(a, r.ok, r.message, this.clock(), instance));
      // The new guard; or, when nothing was re-applied, the old one reverted (kept if its revert failed).
      const after =
        r.handle ?? (r.reason === "RevertFailed" ? a.handle : { ...a.handle, guardState: "exited", guardExitCode: 0 });
      current = current.map((h) => (h === a.handle ? after : h));
      const { run, schedule } = a.handle.owner;
      push(schedule, {
        type: "reapplied",
        run,
        ok: r.ok,
        ...(a.handle.target.taskId ? { task: a.handle.target.taskId } : {}),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.message ? { message: r.message } : {}),
      });
    }
    for (const a of p.actions) {
      if (a.type !== "skip") continue;
      audit.push(skipRecord(a, this.clock(), instance));
      logger.info(
        { event: "skip", schedule: a.key, run: a.run, fault: a.fault, reason: a.reason, message: a.message },
        "run skipped",
      );
      push(a.key, {
        type: "skipped",
        run: a.run,
        generation: a.generation,
        fault: a.fault,
        scheduledAt: a.scheduledAt,
        reason: a.reason,
        message: a.message,
      });
    }
    for (const a of p.actions) {
      if (a.type !== "start") continue;
      const m = byKey.get(a.key);
      if (!m) continue;
      if (dry) {
        logger.info(
          {
            event: "dry-run",
            action: "start",
            schedule: a.key,
            run: a.run,
            fault: a.fault,
            targets: a.targets.map((t) => t.taskId ?? t.nodeId),
          },
          "dry run: would inject",
        );
        push(a.key, {
          type: "dryRun",
          run: a.run,
          generation: a.generation,
          fault: a.fault,
          scheduledAt: a.scheduledAt,
          targets: a.targets,
          services: a.services,
          ...(a.note ? { note: a.note } : {}),
        });
        continue;
      }
      // Status first: the run is recorded before anything is injected, so a crash can lose a
      // run but never repeat one.
      const started: RunEvent = {
        type: "started",
        run: a.run,
        generation: a.generation,
        fault: a.fault,
        scheduledAt: a.scheduledAt,
        targets: a.targets,
        services: a.services,
        ...(a.note ? { note: a.note } : {}),
        ...(m.provenance ? { source: m.provenance } : {}),
      };
      const pre = this.status(m, statusOf.get(a.key), [...(events.get(a.key) ?? []), started], current, snapshot, p);
      this.gate();
      const w = await store.writeStatus(a.key, a.generation, pre);
      if (w !== "written" && w !== "unchanged") {
        logger.warn(
          { event: "skip", schedule: a.key, run: a.run, reason: "StatusNotWritten", result: w },
          "run not started: its record could not be written first",
        );
        writes.set(a.key, w);
        continue;
      }
      statusOf.set(a.key, pre);
      events.set(a.key, []);
      const out = await executeStart(a, deps, this.clock(), m.provenance);
      current = current.concat(out.handles);
      push(a.key, { type: "applied", run: a.run, results: out.results });
      audit.push(...appliedRecords(a, out.results, this.clock(), instance, m.provenance));
    }
    // Replacements join their active run (after the reverts that dropped the tasks they replace).
    for (const a of p.actions) {
      if (a.type !== "extend" || dry) continue;
      this.gate();
      // A replacement carries its run's provenance (the commit that started the run).
      const source = statusOf.get(a.key)?.history?.find((r) => r.run === a.run)?.source;
      const out = await executeExtend(a, deps, this.clock(), source);
      current = current.concat(out.handles);
      for (const result of out.results) push(a.key, { type: "extended", run: a.run, replaces: a.replaces, result });
      audit.push(...appliedRecords(a, out.results, this.clock(), instance, source));
    }

    await this.o.auditLog
      ?.append(audit)
      .catch((e: unknown) => logger.warn({ err: String(e) }, "could not append to the audit log"));

    // Final status for every valid manifest; written only when it changed.
    const after = this.clock();
    const injected = new Set(current.map((h) => h.owner.schedule));
    let blindUntil: number | undefined;
    for (const m of stored.manifests) {
      if (writes.has(m.key)) continue;
      // Its running run has targets on a node whose agent did not answer: what is injected there is
      // unknown, so the record waits for the agent instead of settling the run from an absence.
      if (!events.get(m.key)?.length && this.o.nodes && awaitsNode(statusOf.get(m.key), snapshot, this.o.nodes)) {
        // No event says when the agent is back (a healed partition): look again soon.
        blindUntil = after.getTime() + BLIND_RETRY_MS;
        continue;
      }
      // A quiet schedule whose inputs are those of a pass that changed nothing: nothing to derive.
      const nextAt = p.schedules.get(m.key)?.next?.getTime();
      const calm = !events.get(m.key)?.length && !injected.has(m.key);
      const prevStatus = statusOf.get(m.key);
      const q = this.quiet.get(m);
      if (calm && prevStatus && q?.status === prevStatus && q.next === nextAt) {
        statuses.set(m.key, { prev: prevStatus, next: prevStatus });
        writes.set(m.key, "unchanged");
        continue;
      }
      const st = this.status(m, statusOf.get(m.key), events.get(m.key) ?? [], current, snapshot, p, after);
      const prev = statusOf.get(m.key);
      statuses.set(m.key, { ...(prev ? { prev } : {}), next: st });
      this.logTransitions(m.key, prev, st);
      // Most passes change nothing: compare here, so an idle pass costs no store call per schedule.
      const w =
        prev && compare(prev, st).length === 0
          ? "unchanged"
          : await store.writeStatus(m.key, m.manifest.metadata.generation ?? 1, st);
      writes.set(m.key, w);
      if (w === "unchanged" && calm && prev && isQuiet(prev)) this.quiet.set(m, { status: prev, next: nextAt });
      if (w === "written" || w === "unchanged") await this.collect(current.filter((h) => h.owner.schedule === m.key));
    }
    // Exited guards whose schedule is gone: nothing more to record.
    await this.collect(current.filter((h) => !byKey.has(h.owner.schedule)));
    logger.debug(
      {
        event: "pass",
        actions: p.actions.length,
        ms: this.clock().getTime() - now.getTime(),
        wakeAt: p.wakeAt?.toISOString(),
      },
      "reconcile pass",
    );
    const wakeAt =
      blindUntil !== undefined ? new Date(Math.min(blindUntil, p.wakeAt?.getTime() ?? Infinity)) : p.wakeAt;
    return {
      plan: p,
      writes,
      injections: current,
      statuses,
      manifests: { valid: stored.manifests.length, invalid: stored.invalid.length },
      ...(wakeAt ? { wakeAt } : {}),
    };
  }

  private status(
    m: StoredManifest,
    prev: ChaosScheduleStatus | undefined,
    events: RunEvent[],
    current: InjectionHandle[],
    snapshot: Awaited<ReturnType<Engine["snapshot"]>>,
    p: Plan,
    now = this.clock(),
  ): ChaosScheduleStatus {
    const next = p.schedules.get(m.key)?.next;
    return deriveStatus({
      now,
      manifest: m.manifest,
      ...(prev ? { prev } : {}),
      ...(next ? { next } : {}),
      injections: current.filter((h) => h.owner.schedule === m.key),
      events,
      snapshot,
      recoveryTimeoutMs: this.o.recoveryTimeoutMs ?? 600_000,
    });
  }

  /** Runs that ended and services that healed since the stored status, for the log. */
  private logTransitions(key: string, prev: ChaosScheduleStatus | undefined, next: ChaosScheduleStatus): void {
    const before = new Map((prev?.history ?? []).map((r) => [r.run, r]));
    for (const r of next.history ?? []) {
      const b = before.get(r.run);
      if (b?.result === "Running" && r.result !== "Running") {
        this.o.logger.info(
          { event: "end", schedule: key, run: r.run, fault: r.fault, result: r.result, reason: r.reason },
          `${r.fault} run ended`,
        );
      }
      if (r.recovery === "Recovered" && b?.recovery !== "Recovered") {
        this.o.logger.info(
          { event: "healed", schedule: key, run: r.run, services: r.services, recoverySeconds: r.recoverySeconds },
          `healed in ${r.recoverySeconds}s`,
        );
      }
    }
  }

  /** Remove guards that have exited once their outcome is recorded. */
  private async collect(handles: InjectionHandle[]): Promise<void> {
    if (this.config.dryRun) return; // removing a container is a mutating call
    for (const h of handles) {
      if (!h.guardId || h.guardState === undefined || !["exited", "dead"].includes(h.guardState)) continue;
      const route = routeTo(
        { engine: this.o.engine, selfNodeId: this.selfNodeId ?? "", ...(this.o.nodes ? { nodes: this.o.nodes } : {}) },
        h.guardNodeId ?? h.target.nodeId,
      );
      if ("unavailable" in route) continue; // collected once its node's agent answers again
      try {
        await route.engine.removeContainer(h.guardId, { force: true });
      } catch (e) {
        // Gone, or already being removed (by its driver's recover): nothing to do.
        const code = e instanceof Error && "code" in e ? e.code : undefined;
        if (code !== "ContainerNotFound" && code !== "ContainerStateConflict")
          this.o.logger.warn({ guard: h.guardId, err: String(e) }, "could not remove exited guard");
      }
    }
  }

  /** Ends the pass when this controller may no longer act (ops/lease: the lease ran out). */
  private gate(): void {
    if (this.o.mayAct && !this.o.mayAct()) throw new LeadershipLost();
  }

  private async killSwitchOn(): Promise<boolean> {
    if (!this.o.killSwitchFile) return false;
    const { access } = await import("node:fs/promises");
    return access(this.o.killSwitchFile).then(
      () => true,
      () => false,
    );
  }

  private logInvalid(items: { key: string | undefined; text: string }[]): void {
    const seen = new Set<string>();
    for (const i of items) {
      const sig = `${i.key ?? ""}\n${i.text}`;
      seen.add(sig);
      if (!this.loggedInvalid.has(sig))
        this.o.logger.error(
          { event: "invalid", schedule: i.key, problems: i.text },
          "invalid manifest: nothing new is injected from it",
        );
    }
    this.loggedInvalid.clear();
    for (const s of seen) this.loggedInvalid.add(s);
  }

  private noteHealthy(id: string, at: Date): void {
    this.healthyAt.delete(id);
    this.healthyAt.set(id, at.toISOString());
    if (this.healthyAt.size > 10_000) this.healthyAt.delete(this.healthyAt.keys().next().value as string);
  }

  /** Run until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { store, engine, logger } = this.o;
    let wake: () => void = () => {};
    let pending = false;
    const trigger = (): void => {
      pending = true;
      wake();
    };
    const stopWatch = await store.watch(trigger);
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
    let backoff = 250;
    try {
      while (!signal.aborted) {
        pending = false;
        let wakeAt: number;
        const startedAt = this.clock();
        this.o.observer?.passStarted?.(startedAt);
        try {
          const r = await this.pass();
          this.o.observer?.passEnded({ startedAt, endedAt: this.clock(), result: r });
          backoff = 250;
          wakeAt = Math.min(r.wakeAt?.getTime() ?? Infinity, Date.now() + (this.o.resyncMs ?? 30_000));
        } catch (e) {
          this.o.observer?.passEnded({ startedAt, endedAt: this.clock(), error: e });
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
          wake = () => setTimeout(done, 10); // let a burst of events settle into one pass
          signal.addEventListener("abort", done, { once: true });
        });
        wake = () => {};
      }
    } finally {
      eventsCtl?.abort();
      await stopWatch();
    }
  }
}
