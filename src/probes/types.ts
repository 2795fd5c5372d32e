// One check of one probe, behind a small interface: a runner per kind (http, cmd, prometheus,
// service), registered by kind in registry.ts. Runners never throw for a failed check: every
// failure (refused connection, timeout, wrong answer, missing image) is a CheckResult with a
// message, so a bad probe can never take the controller down.
import type { ClusterSnapshot, Engine } from "../engine/engine.js";
import type { DefaultedProbe } from "../api/types.js";

export interface CheckResult {
  ok: boolean;
  /** Why it failed (shown as lastError), or what was seen when it passed. */
  message: string;
}

/** What a runner may use. */
export interface CheckContext {
  /** Bounds the check: a runner stops (and fails) when it aborts. */
  signal: AbortSignal;
  timeoutMs: number;
  engine: Engine;
  /** chaosctl's own image, for cmd helpers (never pulled). */
  image: string;
  /** Labels for anything a check creates (owner, probe), so audit and cleanup find it. */
  labels: Record<string, string>;
  /** The cluster as it is now (service probes). */
  snapshot: () => Promise<ClusterSnapshot>;
}

export type ProbeKind = "http" | "cmd" | "prometheus" | "service";

export interface ProbeRunner {
  check(probe: DefaultedProbe, ctx: CheckContext): Promise<CheckResult>;
}

export function kindOf(probe: DefaultedProbe): ProbeKind {
  if (probe.http) return "http";
  if (probe.cmd) return "cmd";
  if (probe.prometheus) return "prometheus";
  return "service";
}

export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the socket error ("fetch failed"): the cause says what happened.
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && err.message === "fetch failed") return cause.message;
  return err.message;
}

/** At most `max` characters of `text`, on one line, for a status message. */
export function clip(text: string, max = 200): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
