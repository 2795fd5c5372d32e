// The status an invalid manifest gets (reportInvalid): its Ready condition says InvalidSpec,
// everything else already in status stays. Pure: the stored status and `now` in, data out.
import { boundInvalidMessage, INVALID_SPEC_REASON } from "../store.js";

export type InvalidStatus = { ok: true; status: Record<string, unknown> } | { ok: false; reason: string };

/** `current` is the document's status as parsed (undefined or null when there is none). */
export function invalidStatus(current: unknown, message: string, now: Date): InvalidStatus {
  const base = current ?? {};
  if (!isRecord(base)) return { ok: false, reason: "status is not a mapping" };
  // Kept "as is" means as data: a value JSON cannot hold (.inf, a timestamp tag) would change.
  if (!isPlainData(base)) return { ok: false, reason: "status holds a value that is not plain JSON data" };
  const conditions: unknown = base.conditions ?? [];
  if (!Array.isArray(conditions)) return { ok: false, reason: "status.conditions is not a list" };
  const at = conditions.findIndex((c) => isRecord(c) && c.type === "Ready");
  const prev: unknown = at >= 0 ? conditions[at] : undefined;
  // lastTransitionTime moves only when the condition's status flips (as the controller does it).
  const since =
    isRecord(prev) && prev.status === "False" && typeof prev.lastTransitionTime === "string"
      ? prev.lastTransitionTime
      : now.toISOString();
  const ready = {
    type: "Ready",
    status: "False",
    reason: INVALID_SPEC_REASON,
    message: boundInvalidMessage(message),
    lastTransitionTime: since,
  };
  const next: unknown[] = [...(conditions as unknown[])];
  if (at >= 0) next[at] = ready;
  else next.push(ready);
  return { ok: true, status: { ...base, conditions: next } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isPlainData(v: unknown): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isPlainData);
  if (typeof v !== "object") return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.values(v).every(isPlainData);
}
