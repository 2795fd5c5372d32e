// spec.schedule: "@once", "@every <duration>", or a cron expression (5 or 6 fields, croner).
// Pure: the controller asks for the next time with `after` as a parameter.
import { Cron } from "croner";
import { parseDuration } from "./duration.js";

export type ParsedSchedule =
  { kind: "once" } | { kind: "every"; everyMs: number } | { kind: "cron"; expr: string; timeZone: string };

export const DEFAULT_TIME_ZONE = "UTC";

/** The usual cron macros; croner knows them too, listed here so nothing else slips through. */
const CRON_MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** Parses spec.schedule; throws an Error with a plain message. */
export function parseSchedule(text: string, timeZone?: string): ParsedSchedule {
  if (text === "@once") return { kind: "once" };
  const every = /^@every\s+(\S+)$/.exec(text);
  if (every) {
    const everyMs = parseDuration(every[1] ?? "");
    if (everyMs <= 0) throw new Error(`"@every ${every[1]}": the interval must be positive`);
    return { kind: "every", everyMs };
  }
  if (text.startsWith("@") && !CRON_MACROS.has(text)) {
    throw new Error(
      `unknown schedule "${text}": use "@once", "@every <duration>" (e.g. "@every 10m") or a cron expression`,
    );
  }
  const tz = timeZone ?? DEFAULT_TIME_ZONE;
  checkTimeZone(tz);
  if (!text.startsWith("@")) {
    const fields = text.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw new Error(
        `cron expression "${text}" has ${fields} fields; use 5 (minute hour day month weekday) or 6 (with seconds first)`,
      );
    }
  }
  const cron = makeCron(text, tz);
  // A valid pattern that can never match (e.g. "0 0 31 2 *") would silently never run.
  if (cron.nextRun(new Date(0)) === null) throw new Error(`cron expression "${text}" never fires`);
  return { kind: "cron", expr: text, timeZone: tz };
}

/** The first time strictly after `after` that `expr` fires in `timeZone`; null if never. */
/** Compiled patterns, reused: the controller asks for next times on every pass. */
const crons = new Map<string, Cron>();

export function nextCronTime(expr: string, timeZone: string, after: Date): Date | null {
  const key = `${timeZone}\n${expr}`;
  let cron = crons.get(key);
  if (!cron) {
    if (crons.size >= 10_000) crons.clear();
    crons.set(key, (cron = makeCron(expr, timeZone)));
  }
  return cron.nextRun(after);
}

/** Throws for a time zone that Intl does not know. */
export function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new Error(`unknown time zone "${tz}": use an IANA name such as "UTC" or "Europe/Berlin"`);
  }
}

function makeCron(expr: string, timeZone: string): Cron {
  try {
    // paused: this object only computes times; it never schedules a callback.
    return new Cron(expr, { timezone: timeZone, paused: true, mode: "5-or-6-parts" });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
    throw new Error(`invalid cron expression "${expr}": ${why}`);
  }
}
