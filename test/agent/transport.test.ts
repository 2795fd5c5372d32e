// The agent's transport on a real socket, with handlers that only count (no engine): what is
// refused before authentication is answered and closed without its body being read, slow
// senders are cut, connections past the limit dropped, refusals logged at a bounded rate, and no
// refused request reaches a handler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { agentServer } from "../../src/agent/server.js";
import { RequestVerifier, signRequest } from "../../src/nodes/auth.js";
import { OPS } from "../../src/nodes/protocol.js";
import type { Handlers } from "../../src/agent/handlers.js";

const key = randomBytes(32);
const NODE = "nodeaaaaaaaaaaaaaaaaaaaaa1";
let server: Server;
let port: number;
let handled = 0;
const logs: string[] = [];

beforeAll(async () => {
  const handlers = Object.fromEntries(
    OPS.map((op) => [
      op,
      async () => {
        handled++;
        return { op };
      },
    ]),
  ) as unknown as Handlers;
  server = agentServer({
    handlers,
    verifier: new RequestVerifier(key),
    key,
    logger: pino({ level: "info" }, { write: (s: string) => void logs.push(s) }),
    now: () => new Date(),
    nodeId: () => NODE,
    limits: { maxConnections: 8, refusalsLoggedPerMinute: 3 },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function post(path: string, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; code?: string; connection?: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent: false,
        headers: { "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            code: (JSON.parse(text || "{}") as { error?: { code?: string } }).error?.code,
            connection: res.headers.connection,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function open(): Promise<{ socket: Socket; closed: Promise<void>; received: () => string }> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (c: Buffer) => (text += c.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  await new Promise<void>((r) => socket.once("connect", () => r()));
  return { socket, closed, received: () => text };
}

describe("the agent's transport before authentication", () => {
  it("a signed request bound to this node is served; the same body with another hash is not", async () => {
    const body = JSON.stringify({ id: "x", signal: "SIGKILL" });
    const ok = await post("/v1/killContainer", body, {
      ...signRequest(key, "POST", "/v1/killContainer", body, new Date(), undefined, NODE),
    });
    expect(ok.status).toBe(200);
    const before = handled;
    const h = signRequest(key, "POST", "/v1/killContainer", body, new Date(), undefined, NODE);
    const swapped = await post("/v1/killContainer", body.replace("SIGKILL", "SIGTERM"), { ...h });
    expect(swapped).toMatchObject({ status: 401, code: "BadSignature", connection: "close" });
    expect(handled).toBe(before);
  });

  it("an oversized Content-Length is answered 413 at once and the connection closed, the body unread", async () => {
    const before = handled;
    const c = await open();
    c.socket.write("POST /v1/killContainer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
    let sent = 0;
    const timer = setInterval(() => {
      if (c.socket.destroyed) return;
      c.socket.write(Buffer.alloc(64 * 1024));
      sent += 64 * 1024;
    }, 20);
    await c.closed;
    clearInterval(timer);
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeLessThan(100_000_000);
    // Chunked (no length) is refused the same way.
    const chunked = await open();
    chunked.socket.write("POST /v1/ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    await chunked.closed;
    expect(chunked.received()).toMatch(/^HTTP\/1\.1 411 /);
    expect(handled).toBe(before);
  });

  it("headers sent one byte at a time are cut by the headers timeout, and a body that never ends by the request timeout", async () => {
    const slow = await open();
    const head = "POST /v1/ping HTTP/1.1\r\nHost: x\r\nX-Padding: " + "a".repeat(1000);
    let i = 0;
    const timer = setInterval(() => !slow.socket.destroyed && slow.socket.write(head[i++] ?? "a"), 100);
    await slow.closed;
    clearInterval(timer);
    expect(i).toBeLessThan(head.length);

    // Signed headers, then half the body, then nothing.
    const body = JSON.stringify({ pad: "b".repeat(2000) });
    const h = signRequest(key, "POST", "/v1/ping", body, new Date());
    const stalled = await open();
    stalled.socket.write(
      `POST /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n` +
        Object.entries(h)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join("") +
        "\r\n" +
        body.slice(0, 1000),
    );
    await stalled.closed;
    expect(stalled.received()).not.toMatch(/^HTTP\/1\.1 200 /);
  });

  it("connections past the limit are dropped as they come; refusals are logged at a bounded rate", async () => {
    const opened: Array<Awaited<ReturnType<typeof open>>> = [];
    for (let i = 0; i < 20; i++) opened.push(await open());
    // The server drops each one as it comes; under load the client may see the close later.
    await expect
      .poll(() => opened.filter((o) => !o.socket.destroyed).length, { timeout: 5_000, interval: 20 })
      .toBeLessThanOrEqual(8);
    expect(opened.every((o) => o.received() === "")).toBe(true);
    for (const o of opened) o.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));

    // Over 30 refusals within this minute (these and the cases above): exactly 3 lines.
    for (let i = 0; i < 30; i++) expect((await post("/v1/ping", "{}", {})).status).toBe(401);
    expect(logs.filter((l) => l.includes('"event":"refused"'))).toHaveLength(3);
  });
});
