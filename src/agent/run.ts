// Running an agent: the token from its file, the node's identity, the HTTP server, and a log
// line for every guard that ends on this node (so what happened while the controller was away
// is in the agent's log as well as in the exited guards it reports).
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { DockerEngine } from "../engine/docker.js";
import type { Logger } from "../util/log.js";
import { L_FAULT, L_ROLE, L_RUN, L_SCHEDULE } from "../api/labels.js";
import { DEFAULT_WINDOW_MS, keyFromToken, RequestVerifier } from "../nodes/auth.js";
import { DEFAULT_STRESS_IMAGE } from "../faults/stress/spec.js";
import { agentHandlers, type AgentIdentity } from "./handlers.js";
import { agentServer, type AgentServerDeps } from "./server.js";

/** The controller's default --max-duration. */
export const DEFAULT_MAX_DURATION_MS = 24 * 3600_000;

export interface AgentOptions {
  engine: Pick<DockerEngine, "selfNode"> & Parameters<typeof agentHandlers>[0]["engine"];
  tokenFile: string;
  image: string;
  /** The image of stress guards' stressors and disk fill tools (default local/chaosctl-stress:1). */
  stressImage?: string;
  /** Host path of this node's engine socket, as its engine resolves bind mounts. */
  dockerSocket: string;
  listen: string;
  port: number;
  version: string;
  logger: Logger;
  /** The longest fault it admits, from now (the controller's --max-duration). Default 24 h. */
  maxDurationMs?: number;
  /** Opt-in mode, as the controller's --require-opt-in. Default false. */
  requireOptIn?: boolean;
  limits?: AgentServerDeps["limits"];
}

export interface RunningAgent {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const key = keyFromToken(await readFile(o.tokenFile, "utf8"), o.tokenFile);
  const now = (): Date => new Date();
  let identity: AgentIdentity | undefined;
  const whoami = async (): Promise<AgentIdentity> => (identity ??= await o.engine.selfNode());
  const handlers = agentHandlers({
    engine: o.engine,
    policy: { image: o.image, stressImage: o.stressImage ?? DEFAULT_STRESS_IMAGE, dockerSocket: o.dockerSocket },
    rules: {
      maxDurationMs: o.maxDurationMs ?? DEFAULT_MAX_DURATION_MS,
      requireOptIn: o.requireOptIn ?? false,
      clockSkewMs: DEFAULT_WINDOW_MS,
    },
    identity: whoami,
    version: o.version,
    now,
  });
  const server = agentServer({
    handlers,
    verifier: new RequestVerifier(key),
    key,
    logger: o.logger,
    now,
    // Until the engine has told the agent its node ID, requests bound to a node are refused.
    nodeId: () => identity?.nodeId || undefined,
    ...(o.limits ? { limits: o.limits } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.listen, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const id = await whoami().catch((e: unknown) => ({ nodeId: "", hostname: "", err: String(e) }));
  o.logger.info(
    { event: "start", node: id.nodeId, hostname: id.hostname, listen: o.listen, port, image: o.image },
    "agent listening",
  );
  const events = new AbortController();
  watchGuards(o.engine, o.logger, events.signal);
  return {
    server,
    port,
    close: async () => {
      events.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Logs every guard exit on this node; reconnects with backoff when the stream ends. */
function watchGuards(engine: AgentOptions["engine"], logger: Logger, signal: AbortSignal, backoff = 500): void {
  engine.events(
    (e) => {
      if (e.type !== "container" || e.action !== "die" || e.attributes[L_ROLE] !== "guard") return;
      const a = e.attributes;
      logger.info(
        {
          event: "guard-exit",
          guard: e.id.slice(0, 12),
          schedule: a[L_SCHEDULE],
          run: a[L_RUN],
          fault: a[L_FAULT],
          exitCode: Number(a.exitCode ?? -1),
        },
        "guard ended on this node",
      );
    },
    signal,
    (err) => {
      if (signal.aborted) return;
      logger.warn({ err: err.message, retryInMs: backoff }, "docker events stream ended; reconnecting");
      setTimeout(
        () => !signal.aborted && watchGuards(engine, logger, signal, Math.min(backoff * 2, 30_000)),
        backoff,
      ).unref();
    },
  );
}
