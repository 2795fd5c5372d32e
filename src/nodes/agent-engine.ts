// AgentEngine: the Engine of a remote node, reached through that node's agent (src/agent) over
// its signed RPC. It serves the container-level operations the drivers use; cluster-wide reads
// (snapshot, events) and Swarm updates stay with the controller's own engine on a manager.
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import type {
  ContainerInfo,
  DockerEvent,
  Engine,
  ExecResult,
  HelperSpec,
  NodeSpecUpdate,
  ClusterSnapshot,
} from "../engine/engine.js";
import { EngineError, EngineTimeout, NodeUnreachable } from "../engine/errors.js";
import { H_SIGNATURE, responseSignature, sameHex, signRequest } from "./auth.js";
import { AgentUnauthorized, errorFromWire, RPC_PREFIX, type ErrorBody, type Op, type WhoAmI } from "./protocol.js";
import type { InjectionReport } from "./protocol.js";

export interface AgentEndpoint {
  host: string;
  port: number;
}

export interface AgentEngineOptions extends AgentEndpoint {
  key: Buffer;
  /**
   * The node ID the agent must be on: every request is signed for it, and an agent on another
   * node refuses it. Without one (before discovery), only read-only operations are accepted.
   */
  nodeId?: string;
  /** Default bound of one call, when the operation has no longer bound of its own. */
  timeoutMs?: number;
  clock?: () => Date;
}

export class AgentEngine implements Engine {
  private readonly counts: Record<string, number> = {};
  readonly label: string;

  constructor(private readonly opts: AgentEngineOptions) {
    this.label = `${opts.host}:${opts.port}`;
  }

  get calls(): Readonly<Record<string, number>> {
    return this.counts;
  }

  whoami(): Promise<WhoAmI> {
    return this.call("whoami", {});
  }

  /** Every guard on the agent's node, running or exited (one call). */
  injections(): Promise<InjectionReport> {
    return this.call("injections", {});
  }

  snapshot(): Promise<ClusterSnapshot> {
    return Promise.reject(new EngineError(`agent ${this.label} does not serve cluster snapshots: ask a manager`));
  }
  listContainers(labelFilters: string[] = []): Promise<ContainerInfo[]> {
    return this.call("listContainers", { labelFilters });
  }
  inspectContainer(id: string): Promise<ContainerInfo> {
    return this.call("inspectContainer", { id });
  }
  async killContainer(id: string, signal: string): Promise<void> {
    await this.call("killContainer", { id, signal });
  }
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call("stopContainer", { id, timeoutSeconds }, timeoutSeconds * 1000 + 15_000);
  }
  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call("restartContainer", { id, timeoutSeconds }, timeoutSeconds * 1000 + 15_000);
  }
  async pauseContainer(id: string): Promise<void> {
    await this.call("pauseContainer", { id });
  }
  async unpauseContainer(id: string): Promise<void> {
    await this.call("unpauseContainer", { id });
  }
  async removeContainer(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.call("removeContainer", { id, force: opts.force === true });
  }
  async startHelper(spec: HelperSpec): Promise<string> {
    return (await this.call<{ id: string }>("startHelper", { spec })).id;
  }
  runHelper(spec: HelperSpec, timeoutMs: number): Promise<ExecResult> {
    return this.call("runHelper", { spec, timeoutMs }, timeoutMs + 10_000);
  }
  containerLogs(id: string, tail: number): Promise<{ stdout: string; stderr: string }> {
    return this.call("containerLogs", { id, tail });
  }
  exec(containerId: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    return this.call("exec", { containerId, argv, timeoutMs }, timeoutMs + 5_000);
  }
  updateNode(_id: string, _version: number, _update: NodeSpecUpdate): Promise<void> {
    return Promise.reject(new EngineError(`agent ${this.label} does not update Swarm nodes: ask a manager`));
  }
  imageExists(_ref: string): Promise<boolean> {
    return Promise.reject(new EngineError(`agent ${this.label} does not answer image queries`));
  }
  events(_onEvent: (e: DockerEvent) => void, _signal: AbortSignal, onError?: (err: Error) => void): void {
    onError?.(new EngineError(`agent ${this.label} does not stream events`));
  }
  async ping(): Promise<void> {
    await this.call("ping", {});
  }

  /** One signed request; the answer must be signed for this request's nonce, or it is not believed. */
  private call<T>(op: Op, args: object, timeoutMs = this.opts.timeoutMs ?? 15_000): Promise<T> {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
    const path = `${RPC_PREFIX}${op}`;
    const body = Buffer.from(JSON.stringify(args));
    const nonce = randomBytes(16).toString("hex");
    const now = (this.opts.clock ?? (() => new Date()))();
    const headers = signRequest(this.opts.key, "POST", path, body, now, nonce, this.opts.nodeId);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: this.opts.host,
          port: this.opts.port,
          method: "POST",
          path,
          headers: { ...headers, "content-type": "application/json", "content-length": body.length },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (e) =>
            reject(new NodeUnreachable(`agent ${this.label}: ${e.message}`, undefined, { cause: e })),
          );
          res.on("end", () => {
            const text = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            const parsed = parseJson(text);
            if (status === 401)
              return reject(
                errorFromWire(
                  401,
                  errorOf(parsed) ?? { code: "Unauthorized", message: "refused our credentials" },
                  this.label,
                ),
              );
            const sig = res.headers[H_SIGNATURE];
            if (typeof sig !== "string" || !sameHex(sig, responseSignature(this.opts.key, nonce, status, text))) {
              return reject(
                new AgentUnauthorized(`agent ${this.label}: answer to ${op} is not signed with our key`, status),
              );
            }
            if (status === 200 && parsed && typeof parsed === "object" && "result" in parsed)
              return resolve((parsed as { result: T }).result);
            reject(errorFromWire(status, errorOf(parsed) ?? { code: "Error", message: `HTTP ${status}` }, this.label));
          });
        },
      );
      req.on("timeout", () => req.destroy(new EngineTimeout(`agent ${this.label}: ${op} took over ${timeoutMs} ms`)));
      req.on("error", (e) =>
        reject(
          e instanceof EngineError
            ? e
            : new NodeUnreachable(`agent ${this.label} unreachable: ${e.message}`, undefined, { cause: e }),
        ),
      );
      req.end(body);
    });
  }
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function errorOf(v: unknown): ErrorBody["error"] | undefined {
  if (!v || typeof v !== "object" || !("error" in v)) return undefined;
  const e = (v as ErrorBody).error;
  return e && typeof e.code === "string" && typeof e.message === "string" ? e : undefined;
}
