// The agent's HTTP transport (node:http). Nothing is spent on a request before it is
// authenticated: its size is judged from Content-Length, its signature from the headers alone
// (the body's hash is one of them), and only then is the body read (bounded) and matched to the
// signed hash. A refused request is answered and its connection closed at once, unread. Slow
// senders are cut by the header and request timeouts, the number of connections is capped, and
// refusals are logged at a bounded rate. Then `POST /v1/<op>` is dispatched and the answer
// signed. Logs say who asked what and the outcome, never the token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../util/log.js";
import { BadRequest } from "./args.js";
import { ANY_NODE, responseSignature, sha256, H_SIGNATURE, type RequestVerifier } from "../nodes/auth.js";
import type { Handlers } from "./handlers.js";
import { httpStatusOf, MAX_BODY_BYTES, OPS, READ_ONLY_OPS, RPC_PREFIX, type Op } from "../nodes/protocol.js";

export interface AgentServerDeps {
  handlers: Handlers;
  verifier: RequestVerifier;
  key: Buffer;
  logger: Logger;
  now: () => Date;
  /** This agent's node ID (undefined until known): requests that change anything must name it. */
  nodeId: () => string | undefined;
  limits?: Partial<ServerLimits>;
}

export interface ServerLimits {
  /** All of a request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** All of a request (headers and body) must arrive within this; answers may take longer. */
  requestTimeoutMs: number;
  /** Open connections at once; more are dropped as they come. */
  maxConnections: number;
  /** Refused requests logged per minute; the rest are counted in one line when the minute ends. */
  refusalsLoggedPerMinute: number;
}

export const SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 1_000,
  requestTimeoutMs: 2_000,
  maxConnections: 64,
  refusalsLoggedPerMinute: 10,
};

const isOp = (s: string): s is Op => (OPS as readonly string[]).includes(s);

export function agentServer(d: AgentServerDeps): Server {
  const limits = { ...SERVER_LIMITS, ...d.limits };
  const refusals = new RefusalLog(d.logger, limits.refusalsLoggedPerMinute);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often the timeouts above are checked (default 30 s, which would let a slow sender
      // hold a connection that long).
      connectionsCheckingInterval: Math.min(250, limits.headersTimeoutMs / 2),
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      void handle(req, res, d, refusals).catch((err: unknown) => {
        d.logger.error({ err: String(err) }, "agent request failed");
        if (!res.headersSent) send(res, 500, { error: { code: "Internal", message: "internal error" } });
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on("close", () => refusals.stop());
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, d: AgentServerDeps, log: RefusalLog): Promise<void> {
  const method = req.method ?? "";
  const path = req.url ?? "";
  const peer = req.socket.remoteAddress;
  const refuse = (status: number, code: string, message: string): void => {
    log.refused({ peer, method, path: path.slice(0, 100), reason: code });
    closeWith(req, res, status, { error: { code, message } });
  };
  // Judged from the headers alone: nothing of the body is read before the signature passes.
  const length = contentLength(req);
  if (length === undefined) return refuse(411, "LengthRequired", "a request needs a Content-Length");
  if (length > MAX_BODY_BYTES) return refuse(413, "TooLarge", `body over ${MAX_BODY_BYTES} bytes`);
  const v = d.verifier.verify({ method, path, headers: req.headers }, d.now(), d.nodeId());
  if (!v.ok) return refuse(401, v.reason, v.message);
  const op = path.startsWith(RPC_PREFIX) ? path.slice(RPC_PREFIX.length) : "";
  if (v.node === ANY_NODE && isOp(op) && !READ_ONLY_OPS.has(op))
    return refuse(401, "WrongNode", `${op} changes things: it must be signed for this agent's node ID`);
  const body = await readBody(req, length);
  if (body === undefined) return refuse(400, "BadRequest", "body shorter or longer than its Content-Length");
  if (sha256(body) !== v.bodySha256) return refuse(401, "BadSignature", "body does not match its signed hash");

  const reply = (status: number, payload: unknown): void => {
    const text = Buffer.from(JSON.stringify(payload));
    res.setHeader(H_SIGNATURE, responseSignature(d.key, v.nonce, status, text));
    send(res, status, text);
  };
  if (method !== "POST" || !isOp(op))
    return reply(404, { error: { code: "NotFound", message: `no such operation: ${method} ${path.slice(0, 100)}` } });
  let args: unknown;
  try {
    args = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    return reply(400, { error: { code: "BadRequest", message: "body is not JSON" } });
  }
  const started = Date.now();
  try {
    if (typeof args !== "object" || args === null || Array.isArray(args))
      throw new BadRequest("arguments must be an object");
    const result = await d.handlers[op](args as Record<string, unknown>);
    d.logger.debug({ event: "rpc", peer, op, ms: Date.now() - started }, "ok");
    reply(200, { result });
  } catch (err) {
    const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : "Error";
    const message = err instanceof Error ? err.message : String(err);
    const level = code === "PolicyRefused" || code === "BadRequest" ? "warn" : "info";
    d.logger[level](
      { event: "rpc", peer, op, result: "error", code, message, ms: Date.now() - started },
      "operation failed",
    );
    reply(httpStatusOf(code), { error: { code, message } });
  }
}

function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers["content-length"];
  if (v === undefined || req.headers["transfer-encoding"] !== undefined) return undefined;
  return /^\d{1,10}$/.test(v) ? Number(v) : undefined;
}

/** Exactly `length` bytes (Node enforces Content-Length), or undefined if the stream says otherwise. */
function readBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= length) chunks.push(c);
    });
    req.on("end", () => resolve(size === length ? Buffer.concat(chunks) : undefined));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { "content-type": "application/json", "content-length": text.length });
  res.end(text);
}

/** Answer, then close the connection without reading what is left of the request. */
function closeWith(req: IncomingMessage, res: ServerResponse, status: number, payload: unknown): void {
  res.shouldKeepAlive = false;
  res.setHeader("connection", "close");
  res.on("finish", () => req.socket.destroy());
  send(res, status, payload);
}

/**
 * Refused requests, logged at most `perMinute` a minute: a flood of bad requests costs a few log
 * lines and one count, not a line each.
 */
class RefusalLog {
  private logged = 0;
  private dropped = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    private readonly perMinute: number,
  ) {}

  refused(fields: Record<string, unknown>): void {
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 60_000);
      this.timer.unref();
    }
    if (this.logged < this.perMinute) {
      this.logged++;
      this.logger.warn({ event: "refused", ...fields }, "request refused");
    } else this.dropped++;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    if (this.dropped > 0)
      this.logger.warn(
        { event: "refused", notLogged: this.dropped },
        `${this.dropped} more requests refused in the last minute (not logged one by one)`,
      );
    this.logged = 0;
    this.dropped = 0;
  }
}
