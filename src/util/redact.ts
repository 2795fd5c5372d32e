// Secrets never reach a log line: values under keys that name a secret are replaced, at any
// depth, and credentials inside URLs (tcp://user:pass@host) are masked in every string.
export const REDACTED = "[REDACTED]";

/** Key names that hold secrets (case-insensitive, anywhere in the name). */
const SECRET_KEY = /token|passw(or)?d|passphrase|secret|authorization|cookie|api[-_]?key|private[-_]?key|credential/i;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(:[^/\s@]*)?@/gi;

/** Keys that name where a secret is kept (tokenFile, passwordPath) hold a path, not the secret. */
const LOCATION_KEY = /(file|path|dir)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !LOCATION_KEY.test(key);
}

export function redactString(s: string): string {
  return s.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
}

/** A redacted copy (plain objects and arrays walked; other objects kept as they are). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    // Same class (the log's err serializer still names it), text and own fields redacted.
    const e = Object.create(Object.getPrototypeOf(value) as object) as Error;
    for (const [k, v] of Object.entries(value))
      (e as unknown as Record<string, unknown>)[k] = isSecretKey(k) ? REDACTED : redact(v, depth + 1);
    Object.defineProperty(e, "message", { value: redactString(value.message), enumerable: false, writable: true });
    if (value.stack)
      Object.defineProperty(e, "stack", { value: redactString(value.stack), enumerable: false, writable: true });
    return e;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redact(v, depth + 1);
  return out;
}
