// The leader lease as pure decisions (time is a parameter). A lease record names its holder and
// when the holder last renewed it; it is valid for leaseDuration after that renewal. The store
// behind it (Swarm config at a version, or a lock file) supplies the compare-and-swap, so two
// candidates that decide "take over" at the same moment cannot both win.

export interface LeaseRecord {
  /** Holder identity; "" when released. */
  holder: string;
  /** Unix ms of the holder's last successful renewal (taken before its write was sent). */
  renewTime: number;
  leaseDurationMs: number;
  /** Unix ms when the current holder acquired it. */
  acquireTime: number;
  /** How many times the lease changed hands. */
  transitions: number;
  /**
   * Unix ms when the holder last finished a reconcile pass (written with each renewal), so a
   * reader can tell a leader whose loop is stuck from one that reconciles.
   */
  lastPassTime?: number;
}

export interface LeaseTiming {
  durationMs: number;
  renewMs: number;
}

export type Decision =
  | { kind: "create"; record: LeaseRecord }
  | { kind: "renew"; record: LeaseRecord }
  | { kind: "takeover"; record: LeaseRecord; from: string }
  | { kind: "wait"; holder: string; expiresAt: number };

/** When a record stops protecting its holder, as any reader judges it. */
export function expiresAt(r: LeaseRecord): number {
  return r.holder === "" ? -Infinity : r.renewTime + r.leaseDurationMs;
}

/**
 * What `me` should do, having read `observed` at `now`. `holderGone`: the store proved the
 * holder's process no longer exists (same host, pid gone), so waiting out its lease is pointless.
 */
export function decide(
  observed: LeaseRecord | undefined,
  me: string,
  now: number,
  t: LeaseTiming,
  holderGone = false,
): Decision {
  const fresh = (acquireTime: number, transitions: number): LeaseRecord => ({
    holder: me,
    renewTime: now,
    leaseDurationMs: t.durationMs,
    acquireTime,
    transitions,
  });
  if (!observed) return { kind: "create", record: fresh(now, 0) };
  // Our own record, even a lapsed one: renewing it at the observed version is safe (nobody wrote).
  if (observed.holder === me) return { kind: "renew", record: fresh(observed.acquireTime, observed.transitions) };
  if (now >= expiresAt(observed) || holderGone)
    return { kind: "takeover", from: observed.holder, record: fresh(now, observed.transitions + 1) };
  return { kind: "wait", holder: observed.holder, expiresAt: expiresAt(observed) };
}

/**
 * Until when the holder may act after a successful write stamped `renewTime`. It stops `safetyMs`
 * before any other candidate may take over, so an action already under way ends before a new
 * leader's first pass. Safety defaults to one renew interval.
 */
export function actUntil(renewTime: number, t: LeaseTiming, safetyMs = t.renewMs): number {
  return renewTime + t.durationMs - safetyMs;
}

/** The timing must leave a healthy leader a margin: duration > 2 × renew. */
export function checkTiming(t: LeaseTiming): string | undefined {
  if (!(t.renewMs > 0)) return "lease renew interval must be positive";
  if (!(t.durationMs > 2 * t.renewMs))
    return `lease duration (${t.durationMs} ms) must be more than twice the renew interval (${t.renewMs} ms)`;
  return undefined;
}

/** A released record: a standby takes over at once (graceful shutdown, rolling update). */
export function released(r: LeaseRecord): LeaseRecord {
  return { ...r, holder: "", renewTime: 0 };
}
