// The operations port (node:http): GET /metrics, /healthz, /readyz and, when given, the read-only
// dashboard (dashboard/api.ts: / and /api/v1/*). Nothing else is served.
import { createServer, type Server } from "node:http";
import { unlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Logger } from "../util/log.js";
import type { Health } from "./health.js";
import { CONTENT_TYPE, type Registry } from "./metrics/registry.js";
import { UsageError } from "../util/errors.js";
import type { DashboardData } from "./dashboard/data.js";
import { dashboardReply } from "./dashboard/api.js";

export interface OpsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** ":9464", "9464", "0.0.0.0:9464", "127.0.0.1:0". An empty host listens on every interface. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d+)$/.exec(addr.trim());
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--metrics-addr: expected [host]:port, got "${addr}"`);
  const host = (m[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? "0.0.0.0" : host, port };
}

export interface OpsServerOptions {
  addr: string;
  registry: Registry;
  health: Health;
  logger: Logger;
  /** When set, the /healthz URL is written here for the image's HEALTHCHECK (healthcheck.ts). */
  markerFile?: string;
  /** Serves the dashboard at / and its API under /api/v1/. */
  dashboard?: DashboardData;
}

const NOT_FOUND = "not found: try /metrics, /healthz, /readyz (and / for the dashboard when it is on)\n";

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const { host, port } = parseListenAddr(o.addr);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const send = (code: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-store", ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/metrics") return send(200, CONTENT_TYPE, o.registry.expose());
    if (path === "/healthz") {
      const p = o.health.live();
      return send(p.ok ? 200 : 503, "application/json", JSON.stringify(p.body) + "\n");
    }
    if (path === "/readyz") {
      void o.health.ready().then((p) => send(p.ok ? 200 : 503, "application/json", JSON.stringify(p.body) + "\n"));
      return;
    }
    const d = o.dashboard;
    if (d) {
      dashboardReply(d, path, url.searchParams).then(
        (r) => (r ? send(r.code, r.type, r.body, r.headers) : send(404, "text/plain", NOT_FOUND)),
        (e: unknown) => {
          o.logger.warn(
            { event: "dashboard", err: e instanceof Error ? e.message : String(e) },
            "dashboard read failed",
          );
          send(503, "application/json", JSON.stringify({ error: "the store could not be read" }) + "\n");
        },
      );
      return;
    }
    send(404, "text/plain", NOT_FOUND);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const local = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const url = `http://${local.includes(":") ? `[${local}]` : local}:${actual}`;
  if (o.markerFile) await writeFile(o.markerFile, `${url}/healthz\n`);
  o.logger.info(
    { event: "ops", url, endpoints: ["/metrics", "/healthz", "/readyz", ...(o.dashboard ? ["/", "/api/v1/"] : [])] },
    "operations endpoints listening",
  );
  return {
    port: actual,
    url,
    async close() {
      if (o.markerFile) await unlink(o.markerFile).catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
