// A guard's own log records, read back by the benches: the moments a guard wrote down right after
// the commands that applied or reverted its fault ran, on this machine's clock.

interface GuardRecord {
  event?: string;
  /** ms since the epoch (the prelude's records) or ISO 8601 (the guard verb's, pino's isoTime). */
  time?: number | string;
  result?: string;
}

/**
 * When the earliest record of `event` was written, in ms since the epoch. A guard writes its
 * prelude's records on stdout and its verb's on stderr (the controller's logger): both are read.
 */
export function firstRecordAt(
  logs: { stdout: string; stderr: string },
  event: string,
  result?: string,
): number | undefined {
  let first: number | undefined;
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
    if (Number.isFinite(at) && (first === undefined || at < first)) first = at;
  }
  return first;
}
