// The probe verdict logic, pure: time comes in as a parameter (`nowMs`), checks come in as
// results. monitor.ts drives it with real checks and timers; the tests drive it with tables.
//
// A probe's life in a run has up to three phases:
//  - SOT, before the fault: checked until one check passes or failureThreshold checks fail;
//  - During, while the fault is in effect (Continuous also before and after): every check
//    counts; failureThreshold consecutive failures fail the phase, and a stopOnFailure probe
//    then aborts the run;
//  - EOT, after the revert: checked until one passes; it fails after failureThreshold failed
//    checks, or, for a service probe with `within`, once `within` has passed since the revert.
import { parseDuration } from "../api/duration.js";
import type { DefaultedProbe, ProbeResult, RunRecord } from "../api/types.js";
import { STOPPABLE_MODES } from "../api/probe-rules.js";
import type { CheckResult } from "./types.js";

export type Phase = "SOT" | "During" | "EOT";
export type Outcome = "Pass" | "Fail";
export type Mode = DefaultedProbe["mode"];

export const DEFAULT_TIMEOUT_MS = 5_000;

export interface ProbeTrack {
  /** The status line, as written to history[].probes[]. */
  line: ProbeResult;
  /** Consecutive failures that count (a service probe's grace excluded). */
  consecutive: number;
  /** A service probe with `within`: when it was first seen unsteady in a row. */
  unsteadySince?: number;
  outcomes: Partial<Record<Phase, Outcome>>;
}

export function phasesOf(mode: Mode): readonly Phase[] {
  switch (mode) {
    case "SOT":
      return ["SOT"];
    case "EOT":
      return ["EOT"];
    case "Edge":
      return ["SOT", "EOT"];
    case "Continuous":
    case "OnChaos":
      return ["During"];
  }
}

export function stopsOnFailure(p: DefaultedProbe): boolean {
  return STOPPABLE_MODES.includes(p.mode) && p.stopOnFailure !== false;
}
export function intervalMs(p: DefaultedProbe): number {
  return parseDuration(p.interval);
}
export function timeoutMs(p: DefaultedProbe): number {
  const t = p.http?.timeout ?? p.timeout;
  return t !== undefined ? parseDuration(t) : DEFAULT_TIMEOUT_MS;
}
function withinMs(p: DefaultedProbe): number | undefined {
  return p.service?.within !== undefined ? parseDuration(p.service.within) : undefined;
}

export function newTrack(p: DefaultedProbe): ProbeTrack {
  return { line: { name: p.name, mode: p.mode, passed: 0, failed: 0 }, consecutive: 0, outcomes: {} };
}

/**
 * One check's result in a phase that started at `phaseStartMs`. Returns the new track; the
 * phase's outcome is set once it is decided (and a decided phase records no more).
 */
export function record(
  track: ProbeTrack,
  p: DefaultedProbe,
  phase: Phase,
  r: CheckResult,
  nowMs: number,
  phaseStartMs: number,
): ProbeTrack {
  if (track.outcomes[phase]) return track;
  const line: ProbeResult = r.ok
    ? { ...track.line, passed: track.line.passed + 1 }
    : { ...track.line, failed: track.line.failed + 1, lastError: r.message };
  if (r.ok) {
    const { unsteadySince: _gone, ...rest } = track;
    const next: ProbeTrack = { ...rest, line, consecutive: 0 };
    // SOT and EOT need one good check; During stays open until the fault ends.
    return phase === "During" ? next : { ...next, outcomes: { ...track.outcomes, [phase]: "Pass" } };
  }
  const within = withinMs(p);
  const threshold = p.failureThreshold;
  if (phase === "During") {
    const since = track.unsteadySince ?? nowMs;
    const counts = within === undefined || nowMs - since >= within;
    const consecutive = counts ? track.consecutive + 1 : track.consecutive;
    const next: ProbeTrack = { ...track, line, consecutive, ...(within !== undefined ? { unsteadySince: since } : {}) };
    return consecutive >= threshold ? { ...next, outcomes: { ...track.outcomes, During: "Fail" } } : next;
  }
  const consecutive = track.consecutive + 1;
  const over = phase === "EOT" && within !== undefined ? nowMs - phaseStartMs >= within : consecutive >= threshold;
  const next: ProbeTrack = { ...track, line, consecutive };
  return over ? { ...next, outcomes: { ...track.outcomes, [phase]: "Fail" } } : next;
}

/** A phase that must end now (the fault is over, or the run was aborted): undecided During passes. */
export function closePhase(track: ProbeTrack, phase: Phase): ProbeTrack {
  if (track.outcomes[phase]) return track;
  // A new phase counts its own consecutive failures.
  return { ...track, consecutive: 0, outcomes: { ...track.outcomes, [phase]: "Pass" } };
}

/** The probe's verdict once every phase of its mode is decided (a failed phase decides at once). */
export function verdictOf(track: ProbeTrack): Outcome | undefined {
  const phases = phasesOf(track.line.mode);
  if (phases.some((ph) => track.outcomes[ph] === "Fail")) return "Fail";
  return phases.every((ph) => track.outcomes[ph] === "Pass") ? "Pass" : undefined;
}

/** The line for status: with its verdict once there is one. */
export function lineOf(track: ProbeTrack): ProbeResult {
  const verdict = verdictOf(track);
  return verdict ? { ...track.line, verdict } : track.line;
}

/** A run's verdict: Fail as soon as one probe failed, Pass once all passed. */
export function runVerdict(lines: readonly ProbeResult[]): Outcome | undefined {
  if (lines.some((l) => l.verdict === "Fail")) return "Fail";
  return lines.length > 0 && lines.every((l) => l.verdict === "Pass") ? "Pass" : undefined;
}

/** Share (percent, rounded) of the runs in history with a verdict whose verdict was Pass. */
export function resilience(history: readonly RunRecord[]): { score: number; runs: number } | undefined {
  const judged = history.filter((r) => r.verdict === "Pass" || r.verdict === "Fail");
  if (judged.length === 0) return undefined;
  const pass = judged.filter((r) => r.verdict === "Pass").length;
  return { score: Math.round((100 * pass) / judged.length), runs: judged.length };
}
