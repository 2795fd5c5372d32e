// The agent's authenticated channel: every request carries an HMAC-SHA256, keyed by a shared
// token (a Docker secret), over the node it is for, method, path, timestamp, nonce and the
// body's hash. Everything signed travels in headers (the body's hash too), so the agent checks
// a request before it reads a byte of its body. The agent refuses a missing or wrong
// signature, a request for another node, a timestamp outside the window and a nonce it has seen
// (kept until its timestamp leaves the window, and never more than maxNonces of them). Pure:
// `now` is a parameter; the token never appears in an error or a log.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const H_TIMESTAMP = "x-chaosctl-timestamp";
export const H_NONCE = "x-chaosctl-nonce";
export const H_SIGNATURE = "x-chaosctl-signature";
/** The node ID the request is for, or ANY_NODE (read-only operations only). */
export const H_NODE = "x-chaosctl-node";
/** sha256 hex of the body, signed, so the signature is checked before the body is read. */
export const H_BODY_SHA256 = "x-chaosctl-content-sha256";
export const ANY_NODE = "*";
/** Nonces remembered at most: past that, signed requests are refused until the window moves. */
export const DEFAULT_MAX_NONCES = 10_000;
/** Clock skew accepted between controller and agent, each way. */
export const DEFAULT_WINDOW_MS = 30_000;
/** Shortest token accepted: a guessable key would make the HMAC worthless. */
export const MIN_TOKEN_BYTES = 16;

export interface SignedHeaders {
  [H_TIMESTAMP]: string;
  [H_NONCE]: string;
  [H_SIGNATURE]: string;
  [H_NODE]: string;
  [H_BODY_SHA256]: string;
}

export const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/** What the signature covers; a version prefix so the format can change without ambiguity. */
export function canonicalRequest(
  node: string,
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  bodySha256: string,
): string {
  return ["chaosctl-v2", node, method.toUpperCase(), path, timestamp, nonce, bodySha256].join("\n");
}

export function hmac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

/** Signed headers of a request for `node` (a node ID, or ANY_NODE for a read-only operation). */
export function signRequest(
  key: Buffer,
  method: string,
  path: string,
  body: Buffer | string,
  now: Date,
  nonce = randomBytes(16).toString("hex"),
  node = ANY_NODE,
): SignedHeaders {
  const timestamp = String(now.getTime());
  const bodySha256 = sha256(body);
  return {
    [H_TIMESTAMP]: timestamp,
    [H_NONCE]: nonce,
    [H_NODE]: node,
    [H_BODY_SHA256]: bodySha256,
    [H_SIGNATURE]: hmac(key, canonicalRequest(node, method, path, timestamp, nonce, bodySha256)),
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

export type Refusal =
  | "MissingSignature"
  | "MalformedSignature"
  | "StaleTimestamp"
  | "BadSignature"
  | "WrongNode"
  | "ReplayedNonce"
  | "ReplayCacheFull";

export type Verdict =
  | {
      ok: true;
      nonce: string;
      /** The node the request names: this agent's ID, or ANY_NODE. */
      node: string;
      /** The signed hash the body must have. */
      bodySha256: string;
    }
  | { ok: false; reason: Refusal; message: string };

/** Headers only: the body is read (and matched against the signed hash) after this passes. */
export interface VerifyInput {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface VerifierOptions {
  windowMs?: number;
  maxNonces?: number;
}

/**
 * Verifies requests and remembers their nonces. Only a request whose signature is valid
 * records its nonce, so nobody without the token can fill the cache; a token holder who tries
 * meets maxNonces and is refused (ReplayCacheFull), never let through.
 */
export class RequestVerifier {
  /** nonce → the request's timestamp (ms). */
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxNonces: number;

  constructor(
    private readonly key: Buffer,
    opts: VerifierOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.maxNonces = opts.maxNonces ?? DEFAULT_MAX_NONCES;
  }

  /** `nodeId`: this agent's node; undefined while unknown (then only ANY_NODE requests pass). */
  verify(req: VerifyInput, now: Date, nodeId: string | undefined): Verdict {
    this.prune(now);
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? undefined : v;
    };
    const ts = h(H_TIMESTAMP);
    const nonce = h(H_NONCE);
    const sig = h(H_SIGNATURE);
    const node = h(H_NODE);
    const bodySha256 = h(H_BODY_SHA256);
    if (!ts || !nonce || !sig || !node || !bodySha256) return refuse("MissingSignature", "request is not signed");
    if (
      !/^\d{1,16}$/.test(ts) ||
      !/^[0-9a-f]{16,128}$/.test(nonce) ||
      !/^[0-9a-f]{64}$/.test(sig) ||
      !/^[0-9a-f]{64}$/.test(bodySha256) ||
      !/^(\*|[a-z0-9]{1,64})$/.test(node)
    )
      return refuse("MalformedSignature", "malformed signature headers");
    const at = Number(ts);
    if (Math.abs(now.getTime() - at) > this.windowMs)
      return refuse("StaleTimestamp", `timestamp outside ±${this.windowMs / 1000}s of the agent's clock`);
    if (!sameHex(sig, hmac(this.key, canonicalRequest(node, req.method, req.path, ts, nonce, bodySha256))))
      return refuse("BadSignature", "signature does not match");
    if (node !== ANY_NODE && node !== nodeId)
      return refuse(
        "WrongNode",
        nodeId ? `request is for node ${node}, this is node ${nodeId}` : "this agent does not know its node ID yet",
      );
    if (this.seen.has(nonce)) return refuse("ReplayedNonce", "nonce already used");
    if (this.seen.size >= this.maxNonces)
      return refuse("ReplayCacheFull", `more than ${this.maxNonces} requests within the window; try again`);
    this.seen.set(nonce, at);
    return { ok: true, nonce, node, bodySha256 };
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
