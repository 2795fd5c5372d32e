// A guard's own log records, read back by the benches: the moments a guard wrote down right after
// the commands that applied or reverted its fault ran, on this machine's clock.

export interface GuardRecord {
  event?: string;
  /** ms since the epoch (the prelude's records) or ISO 8601 (the guard verb's, pino's isoTime). */
  time?: number | string;
  result?: string;
  /** On `expired`: when a guard holding from its applied moment (--hold) was due, ISO 8601. */
  deadline?: string;
}

type Logs = { stdout: string; stderr: string };

/**
 * The earliest record of `event` (and `result`, if given) with the time it was written, in ms since
 * the epoch. A guard writes its prelude's records on stdout and its verb's on stderr (the
 * controller's logger): both are read.
 */
export function firstRecord(
  logs: Logs,
  event: string,
  result?: string,
): { at: number; record: GuardRecord } | undefined {
  let first: { at: number; record: GuardRecord } | undefined;
  for (const line of `${logs.stdout}\n${logs.stderr}`.split("\n")) {
    if (!line.startsWith("{")) continue;
    let r: GuardRecord;
    try {
      r = JSON.parse(line) as GuardRecord;
    } catch {
      continue; // not a record
    }
    if (r.event !== event || (result !== undefined && r.result !== result)) continue;
    const at = typeof r.time === "number" ? r.time : Date.parse(r.time ?? "");
    if (Number.isFinite(at) && (first === undefined || at < first.at)) first = { at, record: r };
  }
  return first;
}

/** When the earliest record of `event` was written (firstRecord), in ms since the epoch. */
export function firstRecordAt(logs: Logs, event: string, result?: string): number | undefined {
  return firstRecord(logs, event, result)?.at;
}
