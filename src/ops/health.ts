// /healthz and /readyz. Liveness: the process answers and its loop is not stuck (it beat within
// stuckAfterMs and no pass has run longer than that). Readiness: the engine answers, the store
// has been loaded, and the body says whether this controller leads or stands by.
import type { PassObserver, PassOutcome } from "../controller/observer.js";

export interface LivenessInput {
  now: number;
  lastBeat: number;
  passStartedAt?: number;
  stuckAfterMs: number;
}

export function liveness(i: LivenessInput): { ok: boolean; reason: string } {
  if (i.passStartedAt !== undefined && i.now - i.passStartedAt > i.stuckAfterMs)
    return { ok: false, reason: `a reconcile pass has run for ${Math.round((i.now - i.passStartedAt) / 1000)} s` };
  if (i.now - i.lastBeat > i.stuckAfterMs)
    return { ok: false, reason: `no loop activity for ${Math.round((i.now - i.lastBeat) / 1000)} s` };
  return { ok: true, reason: "loop alive" };
}

export interface HealthOptions {
  stuckAfterMs: number;
  /** Resolves when the engine answers (a ping, bounded by the caller). */
  pingEngine: () => Promise<void>;
  /** "leader" / "standby"; "leader" when leader election is off. */
  role: () => string;
  clock?: () => number;
}

export interface Probe {
  ok: boolean;
  body: Record<string, unknown>;
}

export class Health implements PassObserver {
  private lastBeat: number;
  private passStartedAt: number | undefined;
  private storeLoaded = false;
  private lastError: string | undefined;
  private readonly clock: () => number;

  constructor(private readonly opts: HealthOptions) {
    this.clock = opts.clock ?? Date.now;
    this.lastBeat = this.clock();
  }

  beat(): void {
    this.lastBeat = this.clock();
  }

  markStoreLoaded(): void {
    this.storeLoaded = true;
  }

  passStarted(at: Date): void {
    this.passStartedAt = at.getTime();
    this.beat();
  }

  passEnded(o: PassOutcome): void {
    this.passStartedAt = undefined;
    this.beat();
    if (o.result) this.storeLoaded = true;
    this.lastError =
      o.error === undefined
        ? undefined
        : o.error instanceof Error
          ? o.error.message
          : typeof o.error === "string"
            ? o.error
            : JSON.stringify(o.error);
  }

  live(): Probe {
    const now = this.clock();
    const l = liveness({
      now,
      lastBeat: this.lastBeat,
      stuckAfterMs: this.opts.stuckAfterMs,
      ...(this.passStartedAt !== undefined ? { passStartedAt: this.passStartedAt } : {}),
    });
    return {
      ok: l.ok,
      body: { status: l.ok ? "ok" : "stuck", reason: l.reason, lastActivity: new Date(this.lastBeat).toISOString() },
    };
  }

  async ready(timeoutMs = 2_000): Promise<Probe> {
    const engine = await bounded(this.opts.pingEngine(), timeoutMs).then(
      () => "ok",
      (e: unknown) => `unreachable: ${e instanceof Error ? e.message : String(e)}`,
    );
    const ok = engine === "ok" && this.storeLoaded;
    return {
      ok,
      body: {
        status: ok ? "ready" : "not ready",
        role: this.opts.role(),
        engine,
        store: this.storeLoaded ? "loaded" : "not loaded",
        ...(this.lastError ? { lastPassError: this.lastError } : {}),
      },
    };
  }
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
