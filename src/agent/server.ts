// The agent's HTTP transport (node:http): read a bounded body, verify the signature BEFORE
// anything else (an unauthenticated request reaches no handler and no engine call), dispatch
// `POST /v1/<op>`, sign the answer. Logs say who asked what and the outcome, never the token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../util/log.js";
import { BadRequest } from "./args.js";
import { responseSignature, H_SIGNATURE, type RequestVerifier } from "../nodes/auth.js";
import type { Handlers } from "./handlers.js";
import { httpStatusOf, MAX_BODY_BYTES, OPS, RPC_PREFIX, type Op } from "../nodes/protocol.js";

export interface AgentServerDeps {
  handlers: Handlers;
  verifier: RequestVerifier;
  key: Buffer;
  logger: Logger;
  now: () => Date;
}

const isOp = (s: string): s is Op => (OPS as readonly string[]).includes(s);

export function agentServer(d: AgentServerDeps): Server {
  const server = createServer((req, res) => {
    void handle(req, res, d).catch((err: unknown) => {
      d.logger.error({ err: String(err) }, "agent request failed");
      if (!res.headersSent) send(res, 500, { error: { code: "Internal", message: "internal error" } });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 150_000; // a runHelper may take up to 120 s
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, d: AgentServerDeps): Promise<void> {
  const method = req.method ?? "";
  const path = req.url ?? "";
  const body = await readBody(req);
  if (body === undefined)
    return send(res, 413, { error: { code: "TooLarge", message: `body over ${MAX_BODY_BYTES} bytes` } });
  const v = d.verifier.verify({ method, path, headers: req.headers, body }, d.now());
  const peer = req.socket.remoteAddress;
  if (!v.ok) {
    d.logger.warn(
      { event: "refused", peer, method, path: path.slice(0, 100), reason: v.reason },
      "unauthenticated request refused",
    );
    return send(res, 401, { error: { code: v.reason, message: v.message } });
  }
  const reply = (status: number, payload: unknown): void => {
    const text = Buffer.from(JSON.stringify(payload));
    res.setHeader(H_SIGNATURE, responseSignature(d.key, v.nonce, status, text));
    send(res, status, text);
  };
  const op = path.startsWith(RPC_PREFIX) ? path.slice(RPC_PREFIX.length) : "";
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

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { "content-type": "application/json", "content-length": text.length });
  res.end(text);
}
