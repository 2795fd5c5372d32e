// status as a label value. Measured on engine 20.10 (docs/stores.md): a label of 1 MiB was
// accepted, 2 MiB refused ("raft: raft message is too large"). Every list call carries every
// config's labels, so the store keeps far below that: JSON up to COMPRESS_ABOVE characters as
// is (readable with `docker config inspect`), larger as gzip+base64, and past MAX_STATUS_LABEL
// even then, the oldest history entries are dropped with a StatusTrimmed condition saying so.
// Pure.
import { gunzipSync, gzipSync } from "node:zlib";
import type { ChaosScheduleStatus } from "../../api/types.js";

export const COMPRESS_ABOVE = 16 * 1024;
export const MAX_STATUS_LABEL = 256 * 1024;
const GZIP_PREFIX = "gzip+base64:";
export const TRIMMED_CONDITION = "StatusTrimmed";

export type EncodedStatus = { ok: true; value: string; trimmed: number } | { ok: false; size: number };

/** The label value for `status`; history trimmed (oldest first) when it does not fit. */
export function encodeStatus(status: ChaosScheduleStatus, limit = MAX_STATUS_LABEL, now = new Date()): EncodedStatus {
  const value = encodeOnce(status);
  if (value.length <= limit) return { ok: true, value, trimmed: 0 };
  const history = status.history ?? [];
  // Drop the oldest runs until it fits: halve the kept count, then walk up to the largest that fits.
  let keep = history.length;
  let best: string | undefined;
  let bestKeep = -1;
  while (keep > 0) {
    keep = Math.floor(keep / 2);
    const v = encodeOnce(trimmed(status, history.length - keep, keep, limit, now));
    if (v.length <= limit) {
      best = v;
      bestKeep = keep;
      break;
    }
  }
  if (best === undefined) return { ok: false, size: value.length };
  for (let k = bestKeep + 1; k < history.length; k++) {
    const v = encodeOnce(trimmed(status, history.length - k, k, limit, now));
    if (v.length > limit) break;
    best = v;
    bestKeep = k;
  }
  return { ok: true, value: best, trimmed: history.length - bestKeep };
}

export function decodeStatus(value: string): { ok: true; status: ChaosScheduleStatus } | { ok: false; reason: string } {
  try {
    const json = value.startsWith(GZIP_PREFIX)
      ? gunzipSync(Buffer.from(value.slice(GZIP_PREFIX.length), "base64")).toString("utf8")
      : value;
    const status: unknown = JSON.parse(json);
    if (status === null || typeof status !== "object" || Array.isArray(status))
      return { ok: false, reason: "status label is not a JSON object" };
    return { ok: true, status: status };
  } catch (err) {
    return { ok: false, reason: `status label does not decode: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function encodeOnce(status: ChaosScheduleStatus): string {
  const json = JSON.stringify(status);
  if (json.length <= COMPRESS_ABOVE) return json;
  return GZIP_PREFIX + gzipSync(Buffer.from(json, "utf8")).toString("base64");
}

/** `status` keeping the newest `keep` history entries (history is oldest first), saying so. */
function trimmed(
  status: ChaosScheduleStatus,
  dropped: number,
  keep: number,
  limit: number,
  now: Date,
): ChaosScheduleStatus {
  const history = keep > 0 ? (status.history ?? []).slice(-keep) : [];
  const others = (status.conditions ?? []).filter((c) => c.type !== TRIMMED_CONDITION);
  // A stable time while it stays trimmed, so an unchanged status encodes to the same label.
  const since =
    (status.conditions ?? []).find((c) => c.type === TRIMMED_CONDITION)?.lastTransitionTime ?? now.toISOString();
  const condition = {
    type: TRIMMED_CONDITION,
    status: "True" as const,
    reason: "TooLarge",
    message: `${dropped} oldest history entries dropped: the status label is limited to ${Math.round(limit / 1024)} KiB`,
    lastTransitionTime: since,
  };
  return { ...status, history, conditions: [...others, condition] };
}
