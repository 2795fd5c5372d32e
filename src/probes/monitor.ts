// The probe runtime: checks on timers, per run, feeding the pure logic in evaluate.ts. The
// controller asks it (SOT before a start, the lines and any abort for status) and tells it when a
// run's fault is in effect and when it is over. It calls `onChange` when the controller must act
// now (an abort decided, a verdict settled, the stop condition flipped): the loop wakes at once
// instead of at its next resync.
//
// Every check is bounded by the probe's timeout (and a hard bound beyond it for a runner that
// ignores its signal); a failing, hanging or throwing check is a failed check, never an error
// of the controller, and only ever affects its own run.
import type { ClusterSnapshot, Engine } from "../engine/engine.js";
import type { DefaultedProbe, ProbeResult } from "../api/types.js";
import type { Logger } from "../util/log.js";
import { L_ROLE, L_RUN, L_SCHEDULE } from "../api/labels.js";
import { RUNNERS } from "./registry.js";
import type { CheckResult, ProbeKind, ProbeRunner } from "./types.js";
import { errorText, kindOf } from "./types.js";
import {
  closePhase,
  intervalMs,
  lineOf,
  newTrack,
  phasesOf,
  record,
  stopsOnFailure,
  timeoutMs,
  verdictOf,
  type Phase,
  type ProbeTrack,
} from "./evaluate.js";

/** Extra time a runner gets past its timeout before the check is failed anyway. */
const HARD_BOUND_EXTRA_MS = 2_000;

export interface ProbeMonitorDeps {
  engine: Engine;
  image: string;
  logger: Logger;
  clock?: () => Date;
  runners?: Readonly<Record<ProbeKind, ProbeRunner>>;
  /** Wake the reconcile loop: something was decided that it must act on now. */
  onChange?: () => void;
  /** Every finished check (metrics). */
  onCheck?: (c: { schedule: string; probe: string; mode: string; ok: boolean }) => void;
  /** An abort was decided (benchmarks time the revert from here). */
  onAbort?: (a: Abort & { run: string }) => void;
}

export interface Abort {
  /** The schedule key of the aborted run. */
  schedule: string;
  probe: string;
  message: string;
  /** When the deciding check failed. */
  at: Date;
}

interface RunWatch {
  key: string;
  run: string;
  probes: DefaultedProbe[];
  tracks: Map<string, ProbeTrack>;
  /** Aborts the run's loops (run forgotten, controller stopping). */
  ctl: AbortController;
  /** Loops of the During phase (stopped when the fault ends). */
  during?: AbortController;
  duringStarted: Set<string>;
  eotStarted: boolean;
  abort?: Abort;
}

export class ProbeMonitor {
  private readonly watches = new Map<string, RunWatch>();
  private readonly clock: () => Date;
  private readonly runners: Readonly<Record<ProbeKind, ProbeRunner>>;
  /** Set by the controller's loop once it runs (it owns the wake-up). */
  onChange: () => void;

  constructor(private readonly d: ProbeMonitorDeps) {
    this.clock = d.clock ?? (() => new Date());
    this.runners = d.runners ?? RUNNERS;
    this.onChange = d.onChange ?? (() => {});
  }

  /** One bounded check; never throws. */
  async checkOnce(probe: DefaultedProbe, labels: Record<string, string>, signal?: AbortSignal): Promise<CheckResult> {
    const limit = timeoutMs(probe);
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => ctl.abort(), limit);
    let hard: NodeJS.Timeout | undefined;
    try {
      const runner = this.runners[kindOf(probe)];
      const bound = new Promise<CheckResult>((resolve) => {
        hard = setTimeout(
          () => resolve({ ok: false, message: `no result within ${limit} ms` }),
          limit + HARD_BOUND_EXTRA_MS,
        );
      });
      return await Promise.race([
        runner.check(probe, {
          signal: ctl.signal,
          timeoutMs: limit,
          engine: this.d.engine,
          image: this.d.image,
          labels: { [L_ROLE]: "probe", ...labels },
          snapshot: (): Promise<ClusterSnapshot> => this.d.engine.snapshot(),
        }),
        bound,
      ]);
    } catch (err) {
      return { ok: false, message: errorText(err) };
    } finally {
      clearTimeout(timer);
      clearTimeout(hard);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The watch of a run, created on first use (a run adopted after a restart starts fresh). */
  private watch(key: string, run: string, probes: readonly DefaultedProbe[]): RunWatch {
    let w = this.watches.get(run);
    if (!w) {
      const ctl = new AbortController();
      w = {
        key,
        run,
        probes: [...probes],
        tracks: new Map(probes.map((p) => [p.name, newTrack(p)])),
        ctl,
        duringStarted: new Set(),
        eotStarted: false,
      };
      this.watches.set(run, w);
    }
    return w;
  }

  has(run: string): boolean {
    return this.watches.has(run);
  }

  /** Some run of this schedule is being watched (its status may change without any other event). */
  watching(key: string): boolean {
    for (const w of this.watches.values()) if (w.key === key) return true;
    return false;
  }

  /**
   * A run found in flight with no watch (the controller restarted): it did start, so its SOT
   * phases count as passed, and its During probes check from now on.
   */
  adopt(key: string, run: string, probes: readonly DefaultedProbe[]): void {
    if (this.watches.has(run)) return;
    const w = this.watch(key, run, probes);
    for (const p of w.probes)
      if (phasesOf(p.mode).includes("SOT")) w.tracks.set(p.name, closePhase(w.tracks.get(p.name)!, "SOT"));
    this.startDuring(key, run, probes, "injected");
  }

  /**
   * The SOT phase of every SOT and Edge probe, concurrently: resolves once each passed or one
   * failed for good (the run must not start then: the failure is returned).
   */
  async sot(
    key: string,
    run: string,
    probes: readonly DefaultedProbe[],
  ): Promise<{ probe: string; message: string } | undefined> {
    const w = this.watch(key, run, probes);
    const mine = probes.filter((p) => phasesOf(p.mode).includes("SOT"));
    const failures = await Promise.all(mine.map((p) => this.phaseLoop(w, p, "SOT", w.ctl.signal)));
    const failed = failures.find((f) => f !== undefined);
    return failed;
  }

  /**
   * The During phase: Continuous probes from `before` (just ahead of the injection), OnChaos
   * probes from `injected`. Idempotent: a probe's loop starts once per run.
   */
  startDuring(key: string, run: string, probes: readonly DefaultedProbe[], stage: "before" | "injected"): void {
    const w = this.watch(key, run, probes);
    if (w.eotStarted) return;
    w.during ??= new AbortController();
    const signal = AbortSignal.any([w.during.signal, w.ctl.signal]);
    for (const p of w.probes) {
      const starts = p.mode === "Continuous" || (p.mode === "OnChaos" && stage === "injected");
      if (!starts || w.duringStarted.has(p.name)) continue;
      w.duringStarted.add(p.name);
      void this.phaseLoop(w, p, "During", signal);
    }
  }

  /**
   * The fault is over (reverted, expired, aborted, or an instant fault's recovery window
   * closed): During loops stop (a Continuous probe checks once more after the revert), undecided
   * During phases pass, and EOT/Edge probes start their EOT phase.
   */
  endDuring(key: string, run: string, probes: readonly DefaultedProbe[]): void {
    const w = this.watch(key, run, probes);
    if (w.eotStarted) return;
    w.eotStarted = true;
    w.during?.abort();
    void (async () => {
      const finals = w.probes
        .filter((p) => p.mode === "Continuous" && !w.tracks.get(p.name)?.outcomes.During)
        .map(async (p) => {
          const r = await this.checkOnce(p, this.labels(w), w.ctl.signal);
          this.apply(w, p, "During", r, this.clock().getTime());
        });
      await Promise.all(finals);
      for (const p of w.probes)
        if (phasesOf(p.mode).includes("During")) w.tracks.set(p.name, closePhase(w.tracks.get(p.name)!, "During"));
      await Promise.all(
        w.probes.filter((p) => phasesOf(p.mode).includes("EOT")).map((p) => this.phaseLoop(w, p, "EOT", w.ctl.signal)),
      );
      if (!w.ctl.signal.aborted) this.onChange();
    })().catch((err: unknown) => this.d.logger.warn({ run, err: errorText(err) }, "probe EOT phase failed"));
  }

  /** The run's probe lines for status (verdicts where decided). */
  lines(run: string): ProbeResult[] | undefined {
    const w = this.watches.get(run);
    return w ? w.probes.map((p) => lineOf(w.tracks.get(p.name)!)) : undefined;
  }

  /** The abort a stopOnFailure probe decided for this run, if any. */
  abortOf(run: string): Abort | undefined {
    return this.watches.get(run)?.abort;
  }

  /** Runs with an abort decided (for the plan: revert every injection of them). */
  aborted(): ReadonlyMap<string, Abort> {
    const out = new Map<string, Abort>();
    for (const [run, w] of this.watches) if (w.abort) out.set(run, w.abort);
    return out;
  }

  /** Every probe of the run has its verdict. */
  settled(run: string): boolean {
    const w = this.watches.get(run);
    return !!w && w.probes.every((p) => verdictOf(w.tracks.get(p.name)!) !== undefined);
  }

  /** Stop the run's loops and drop what is known of it (its lines are in status by now). */
  forget(run: string): void {
    const w = this.watches.get(run);
    if (!w) return;
    w.ctl.abort();
    this.watches.delete(run);
  }

  /** Runs being watched. */
  runs(): string[] {
    return [...this.watches.keys()];
  }

  /** Stops every check and forgets every run (the controller is stopping). */
  stop(): void {
    for (const w of this.watches.values()) w.ctl.abort();
    this.watches.clear();
  }

  private labels(w: RunWatch): Record<string, string> {
    return { [L_SCHEDULE]: w.key, [L_RUN]: w.run };
  }

  private apply(w: RunWatch, p: DefaultedProbe, phase: Phase, r: CheckResult, nowMs: number, startMs = nowMs): void {
    const before = w.tracks.get(p.name)!;
    if (before.outcomes[phase]) return;
    const after = record(before, p, phase, r, nowMs, startMs);
    w.tracks.set(p.name, after);
    this.d.onCheck?.({ schedule: w.key, probe: p.name, mode: p.mode, ok: r.ok });
    if (phase === "During" && after.outcomes.During === "Fail") {
      this.d.logger.warn(
        { event: "probe-failed", schedule: w.key, run: w.run, probe: p.name, mode: p.mode, err: r.message },
        `probe ${p.name} failed`,
      );
      if (stopsOnFailure(p) && !w.abort && !w.eotStarted) {
        w.abort = { schedule: w.key, probe: p.name, message: r.message, at: new Date(nowMs) };
        this.d.logger.warn(
          { event: "abort", schedule: w.key, run: w.run, probe: p.name, err: r.message },
          "aborting the run: reverting every injection of it now",
        );
        this.d.onAbort?.({ ...w.abort, run: w.run });
        this.onChange();
      }
    }
  }

  /** Checks a phase until it is decided (or stopped); resolves with the failure if it failed. */
  private async phaseLoop(
    w: RunWatch,
    p: DefaultedProbe,
    phase: Phase,
    signal: AbortSignal,
  ): Promise<{ probe: string; message: string } | undefined> {
    const startMs = this.clock().getTime();
    const every = intervalMs(p);
    while (!signal.aborted) {
      const began = Date.now();
      const r = await this.checkOnce(p, this.labels(w), signal);
      if (signal.aborted) return undefined; // a check cut short by the end of its phase is not a result
      this.apply(w, p, phase, r, this.clock().getTime(), startMs);
      const outcome = w.tracks.get(p.name)!.outcomes[phase];
      if (outcome === "Fail") return { probe: p.name, message: w.tracks.get(p.name)!.line.lastError ?? r.message };
      if (outcome === "Pass") return undefined;
      await sleep(Math.max(0, every - (Date.now() - began)), signal);
    }
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
