// The agent's authenticated channel: every request carries an HMAC-SHA256, keyed by a shared
// token (a Docker secret), over method, path, timestamp, nonce and the body's hash. The agent
// refuses a missing or wrong signature, a timestamp outside the window and a nonce it has seen
// (kept until its timestamp leaves the window, so the cache stays bounded). Pure: `now` is a
// parameter; the token never appears in an error or a log.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const H_TIMESTAMP = "x-chaosctl-timestamp";
export const H_NONCE = "x-chaosctl-nonce";
export const H_SIGNATURE = "x-chaosctl-signature";
/** Clock skew accepted between controller and agent, each way. */
export const DEFAULT_WINDOW_MS = 30_000;
/** Shortest token accepted: a guessable key would make the HMAC worthless. */
export const MIN_TOKEN_BYTES = 16;

export interface SignedHeaders {
  [H_TIMESTAMP]: string;
  [H_NONCE]: string;
  [H_SIGNATURE]: string;
}

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/** What the signature covers; a version prefix so the format can change without ambiguity. */
export function canonicalRequest(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  body: Buffer | string,
): string {
  return ["chaosctl-v1", method.toUpperCase(), path, timestamp, nonce, sha256(body)].join("\n");
}

export function hmac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

export function signRequest(
  key: Buffer,
  method: string,
  path: string,
  body: Buffer | string,
  now: Date,
  nonce = randomBytes(16).toString("hex"),
): SignedHeaders {
  const timestamp = String(now.getTime());
  return {
    [H_TIMESTAMP]: timestamp,
    [H_NONCE]: nonce,
    [H_SIGNATURE]: hmac(key, canonicalRequest(method, path, timestamp, nonce, body)),
  };
}

/** The agent signs its answer to one request (bound to that request's nonce), so a forged answer is detected too. */
export function responseSignature(key: Buffer, nonce: string, status: number, body: Buffer | string): string {
  return hmac(key, ["chaosctl-v1-response", nonce, String(status), sha256(body)].join("\n"));
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Refusal = "MissingSignature" | "MalformedSignature" | "StaleTimestamp" | "BadSignature" | "ReplayedNonce";

export type Verdict = { ok: true; nonce: string } | { ok: false; reason: Refusal; message: string };

export interface VerifyInput {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Verifies requests and remembers their nonces. Only a request whose signature is valid
 * records its nonce, so nobody without the token can fill the cache.
 */
export class RequestVerifier {
  /** nonce → the request's timestamp (ms). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  verify(req: VerifyInput, now: Date): Verdict {
    this.prune(now);
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? undefined : v;
    };
    const ts = h(H_TIMESTAMP);
    const nonce = h(H_NONCE);
    const sig = h(H_SIGNATURE);
    if (!ts || !nonce || !sig) return refuse("MissingSignature", "request is not signed");
    if (!/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{16,128}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(sig))
      return refuse("MalformedSignature", "malformed signature headers");
    const at = Number(ts);
    if (Math.abs(now.getTime() - at) > this.windowMs)
      return refuse("StaleTimestamp", `timestamp outside ±${this.windowMs / 1000}s of the agent's clock`);
    if (!sameHex(sig, hmac(this.key, canonicalRequest(req.method, req.path, ts, nonce, req.body))))
      return refuse("BadSignature", "signature does not match");
    if (this.seen.has(nonce)) return refuse("ReplayedNonce", "nonce already used");
    this.seen.set(nonce, at);
    return { ok: true, nonce };
  }

  /** Nonces remembered now (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  /** A nonce whose timestamp has left the window cannot be replayed anyway (StaleTimestamp). */
  private prune(now: Date): void {
    const oldest = now.getTime() - this.windowMs;
    for (const [n, at] of this.seen) if (at < oldest) this.seen.delete(n);
  }
}

function refuse(reason: Refusal, message: string): Verdict {
  return { ok: false, reason, message };
}

/** The shared key from a token file's text; too short a token is refused (never echoed). */
export function keyFromToken(text: string, source: string): Buffer {
  const token = text.trim();
  if (Buffer.byteLength(token) < MIN_TOKEN_BYTES)
    throw new Error(`agent token in ${source} is shorter than ${MIN_TOKEN_BYTES} bytes`);
  return Buffer.from(token, "utf8");
}
