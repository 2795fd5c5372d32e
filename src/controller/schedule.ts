// When is a schedule due? Pure: every answer is a function of (spec, status, now).
//
// Rules (docs/controller.md, "Schedules"):
// - "@once" fires once per spec generation: due when no run was made for this generation.
// - "@every D" fires immediately the first time, then every D after the last scheduled time.
// - cron fires at its next occurrence; the first time it is seen, it only computes that time.
// - A run missed while the controller was down is made at most once, and only if it is no later
//   than the starting deadline; older ones are skipped. Never a burst.
import { parseSchedule, nextCronTime, type ParsedSchedule } from "../api/schedule.js";

export interface ScheduleState {
  lastScheduleTime?: Date;
  lastScheduleGeneration?: number;
  /** The due time recorded in status at the previous pass. */
  nextScheduleTime?: Date;
}

export type Due =
  /** Fire now; `scheduledAt` is the nominal time of this run (stable across retries). */
  | { kind: "fire"; scheduledAt: Date; next?: Date }
  /** The nominal time was missed by more than the starting deadline. */
  | { kind: "missed"; scheduledAt: Date; next?: Date }
  /** Not yet; `next` is when (undefined: never again for this generation). */
  | { kind: "wait"; next?: Date };

export interface DueInput {
  schedule: string;
  timeZone?: string;
  generation: number;
  state: ScheduleState;
  now: Date;
  startingDeadlineMs: number;
}

/** Parsed schedules by (expression, time zone): parsing (croner, Intl) dominates an idle pass. */
const parsedCache = new Map<string, ParsedSchedule>();
function parsedSchedule(schedule: string, timeZone: string | undefined): ParsedSchedule {
  const key = `${timeZone ?? ""}\n${schedule}`;
  let p = parsedCache.get(key);
  if (!p) {
    p = parseSchedule(schedule, timeZone);
    if (parsedCache.size >= 10_000) parsedCache.clear();
    parsedCache.set(key, p);
  }
  return p;
}

export function dueRun(input: DueInput): Due {
  const parsed = parsedSchedule(input.schedule, input.timeZone);
  return dueFor(parsed, input);
}

function dueFor(parsed: ParsedSchedule, { generation, state, now, startingDeadlineMs }: DueInput): Due {
  if (parsed.kind === "once") {
    if (state.lastScheduleGeneration === generation) return { kind: "wait" };
    return { kind: "fire", scheduledAt: now };
  }

  const after = (t: Date): Date | undefined => nextOccurrence(parsed, t);
  // The nominal due time: what the last pass recorded, else derived from the last run.
  let due = state.nextScheduleTime;
  if (!due) {
    if (parsed.kind === "every")
      due = state.lastScheduleTime ? new Date(state.lastScheduleTime.getTime() + parsed.everyMs) : now;
    else {
      const n = after(state.lastScheduleTime ?? now);
      if (!n) return { kind: "wait" };
      due = n;
    }
  }
  // A nominal time at or before the last run was already served (status written, then crash).
  if (state.lastScheduleTime && due.getTime() <= state.lastScheduleTime.getTime()) {
    const n = after(state.lastScheduleTime);
    if (!n) return { kind: "wait" };
    due = n;
  }
  if (due.getTime() > now.getTime()) return { kind: "wait", next: due };

  // Due now or in the past: at most one run, for the most recent nominal time; the next
  // nominal time is after now.
  const latest = latestAtOrBefore(parsed, due, now);
  const next = firstAfter(parsed, due, now);
  if (now.getTime() - latest.getTime() > startingDeadlineMs) {
    return { kind: "missed", scheduledAt: latest, ...(next ? { next } : {}) };
  }
  return { kind: "fire", scheduledAt: latest, ...(next ? { next } : {}) };
}

/** The last nominal time at or before `now`, starting from a due time `due` <= now. */
function latestAtOrBefore(parsed: ParsedSchedule, due: Date, now: Date): Date {
  if (parsed.kind === "every") {
    const periods = Math.floor((now.getTime() - due.getTime()) / parsed.everyMs);
    return new Date(due.getTime() + periods * parsed.everyMs);
  }
  // Cron: walk forward; bounded so a very long outage of a per-second cron stays cheap.
  let latest = due;
  for (let i = 0; i < 10_000; i++) {
    const n = nextOccurrence(parsed, latest);
    if (!n || n.getTime() > now.getTime()) return latest;
    latest = n;
  }
  return latest;
}

function nextOccurrence(parsed: ParsedSchedule, t: Date): Date | undefined {
  if (parsed.kind === "every") return new Date(t.getTime() + parsed.everyMs);
  if (parsed.kind === "cron") return nextCronTime(parsed.expr, parsed.timeZone, t) ?? undefined;
  return undefined;
}

/** The first nominal time strictly after `now`, skipping every occurrence in between. */
function firstAfter(parsed: ParsedSchedule, due: Date, now: Date): Date | undefined {
  if (parsed.kind === "every") {
    const periods = Math.floor((now.getTime() - due.getTime()) / parsed.everyMs) + 1;
    return new Date(due.getTime() + periods * parsed.everyMs);
  }
  return nextOccurrence(parsed, now);
}
