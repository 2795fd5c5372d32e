// The one implementation of `Engine` on the Docker Engine API, and the only file that imports
// dockerode. Every call is counted by operation (`calls`) and every failure becomes a typed
// engine error (map-error.ts) carrying the original as `cause`.
// size: the whole Docker boundary in one class, one short method per engine call.
import Docker from "dockerode";
import { request } from "node:http";
import { PassThrough } from "node:stream";
import type {
  ClusterSnapshot,
  ConfigInfo,
  ContainerInfo,
  DockerEvent,
  Engine,
  ExecResult,
  HelperSpec,
  NodeSpecUpdate,
  SwarmConfigs,
} from "./engine.js";
import { EngineError, EngineTimeout } from "./errors.js";
import { mapDockerError, type ErrorSubject } from "./map-error.js";
import {
  mapConfig,
  mapContainerInspect,
  mapContainerSummary,
  mapEvent,
  mapNode,
  mapService,
  mapTask,
} from "./mapping.js";
import { demuxBuffer } from "./demux.js";
import type {
  RawConfig,
  RawContainerInspect,
  RawContainerSummary,
  RawEvent,
  RawNode,
  RawService,
  RawTask,
} from "./raw.js";

export interface DockerEngineOptions {
  /** Unix socket path; default from DOCKER_HOST (unix://...) or /var/run/docker.sock. */
  socketPath?: string;
  /** tcp://host:port (or http://...), when not using a socket. */
  host?: string;
}

const DEFAULT_SOCKET = "/var/run/docker.sock";
const EVENT_TYPES: Array<"container" | "service" | "node" | "config"> = ["container", "service", "node", "config"];

function connectionOptions(opts: DockerEngineOptions): Docker.DockerOptions {
  if (opts.socketPath) return { socketPath: opts.socketPath };
  const hostUrl = opts.host ?? process.env.DOCKER_HOST;
  if (!hostUrl) return { socketPath: DEFAULT_SOCKET };
  if (hostUrl.startsWith("unix://")) return { socketPath: hostUrl.slice("unix://".length) };
  const u = new URL(hostUrl.replace(/^tcp:/, "http:"));
  return { host: u.hostname, port: Number(u.port || 2375), protocol: u.protocol === "https:" ? "https" : "http" };
}

export class DockerEngine implements Engine, SwarmConfigs {
  private readonly docker: Docker;
  private readonly counts: Record<string, number> = {};
  private readonly errorCounts: Record<string, number> = {};
  private selfNodeId?: Promise<string>;
  private readonly connection: Docker.DockerOptions;

  constructor(opts: DockerEngineOptions = {}) {
    this.connection = connectionOptions(opts);
    this.docker = new Docker(this.connection);
  }

  get calls(): Readonly<Record<string, number>> {
    return this.counts;
  }

  get errors(): Readonly<Record<string, number>> {
    return this.errorCounts;
  }

  /** Counts one API call and maps its failure to a typed error. */
  private async call<T>(op: string, subject: ErrorSubject, what: string, fn: () => Promise<T>): Promise<T> {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
    try {
      return await fn();
    } catch (err) {
      this.errorCounts[op] = (this.errorCounts[op] ?? 0) + 1;
      throw mapDockerError(err, subject, what);
    }
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const [selfNodeId, nodes, services, tasks, containers] = await Promise.all([
      this.nodeId(),
      this.call("nodes.list", "node", "list nodes", () => this.docker.listNodes() as Promise<RawNode[]>),
      this.call("services.list", "service", "list services", () => this.docker.listServices() as Promise<RawService[]>),
      this.call("tasks.list", "other", "list tasks", () => this.docker.listTasks() as Promise<RawTask[]>),
      this.call("containers.list", "container", "list containers", () => this.listRaw([])),
    ]);
    return {
      at: new Date(),
      selfNodeId,
      nodes: nodes.map(mapNode),
      services: services.map(mapService),
      tasks: tasks.map(mapTask),
      containers: containers.map(mapContainerSummary),
    };
  }

  /** This engine's Swarm node id, asked once (`info`) and cached; retried after a failure. */
  private nodeId(): Promise<string> {
    if (!this.selfNodeId) {
      const p = this.call(
        "info",
        "other",
        "info",
        () => this.docker.info() as Promise<{ Swarm?: { NodeID?: string } }>,
      ).then((i) => i.Swarm?.NodeID ?? "");
      this.selfNodeId = p;
      p.catch(() => (this.selfNodeId = undefined));
    }
    return this.selfNodeId;
  }

  private listRaw(labelFilters: string[]): Promise<RawContainerSummary[]> {
    const opts: Docker.ContainerListOptions = { all: true };
    if (labelFilters.length > 0) opts.filters = JSON.stringify({ label: labelFilters });
    return this.docker.listContainers(opts);
  }

  async listContainers(labelFilters: string[] = []): Promise<ContainerInfo[]> {
    const raw = await this.call("containers.list", "container", "list containers", () => this.listRaw(labelFilters));
    return raw.map(mapContainerSummary);
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    const raw = await this.call(
      "containers.inspect",
      "container",
      `inspect container ${id}`,
      () => this.docker.getContainer(id).inspect() as Promise<RawContainerInspect>,
    );
    return mapContainerInspect(raw);
  }

  async killContainer(id: string, signal: string): Promise<void> {
    await this.call("containers.kill", "container", `kill container ${id}`, () =>
      this.docker.getContainer(id).kill({ signal }),
    );
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call("containers.stop", "container", `stop container ${id}`, () =>
      this.docker.getContainer(id).stop({ t: timeoutSeconds }),
    );
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call("containers.restart", "container", `restart container ${id}`, () =>
      this.docker.getContainer(id).restart({ t: timeoutSeconds }),
    );
  }

  async pauseContainer(id: string): Promise<void> {
    await this.call("containers.pause", "container", `pause container ${id}`, () =>
      this.docker.getContainer(id).pause(),
    );
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.call("containers.unpause", "container", `unpause container ${id}`, () =>
      this.docker.getContainer(id).unpause(),
    );
  }

  async removeContainer(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.call("containers.remove", "container", `remove container ${id}`, () =>
      this.docker.getContainer(id).remove({ force: opts.force ?? false }),
    );
  }

  async startHelper(spec: HelperSpec): Promise<string> {
    const id = await this.createHelper(spec);
    await this.startCreated(id);
    return id;
  }

  /** See Engine.launchHelper. A start that fails leaves the created container (the caller removes it). */
  async launchHelper(spec: HelperSpec): Promise<{ id: string; started: Promise<void> }> {
    const id = await this.createHelper(spec);
    const c = this.connection;
    if (c.protocol === "https") {
      // TLS options are dockerode's: no raw request here, so the start is awaited (the safe order).
      await this.startCreated(id);
      return { id, started: Promise.resolve() };
    }
    let sent!: () => void;
    const handedOver = new Promise<void>((resolve) => (sent = resolve));
    this.counts["containers.start"] = (this.counts["containers.start"] ?? 0) + 1;
    const started = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          method: "POST",
          path: `/containers/${id}/start`,
          ...(c.socketPath ? { socketPath: c.socketPath } : { host: c.host, port: c.port }),
        },
        (res) => {
          const body: Buffer[] = [];
          res.on("data", (b: Buffer) => body.push(b));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status === 204 || status === 304) return resolve();
            const text = Buffer.concat(body).toString("utf8");
            let json: unknown = text;
            try {
              json = JSON.parse(text);
            } catch {
              // plain text
            }
            reject(Object.assign(new Error(`HTTP ${status}`), { statusCode: status, json }));
          });
        },
      );
      // 'finish': the whole request is with the operating system. The engine reads it even if this
      // process dies now, and it completes a start whose caller went away (verified on 20.10).
      req.on("finish", () => sent());
      req.on("error", (err) => {
        sent();
        reject(err);
      });
      req.end();
    }).catch((err: unknown) => {
      // The container is left for the caller to remove: it may have applied something meanwhile,
      // and until it has reverted that, the created container is the cluster's record of it.
      this.errorCounts["containers.start"] = (this.errorCounts["containers.start"] ?? 0) + 1;
      throw mapDockerError(err, "container", `start helper ${id}`);
    });
    started.catch(() => undefined); // observed by the caller through `started`
    await handedOver;
    return { id, started };
  }

  private async startCreated(id: string): Promise<void> {
    try {
      await this.call("containers.start", "container", `start helper ${id}`, () =>
        this.docker.getContainer(id).start(),
      );
    } catch (err) {
      await this.removeContainer(id, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Creates (never pulls: a missing image is ImageMissing) the helper container. */
  private async createHelper(spec: HelperSpec): Promise<string> {
    const hostConfig: Docker.HostConfig = {};
    if (spec.networkMode) hostConfig.NetworkMode = spec.networkMode;
    if (spec.capAdd) hostConfig.CapAdd = spec.capAdd;
    if (spec.binds) hostConfig.Binds = spec.binds;
    if (spec.init) hostConfig.Init = true;
    if (spec.cgroupParent) hostConfig.CgroupParent = spec.cgroupParent;
    if (spec.pidMode) hostConfig.PidMode = spec.pidMode;
    if (spec.cgroupnsMode) (hostConfig as { CgroupnsMode?: string }).CgroupnsMode = spec.cgroupnsMode;
    if (spec.autoRemove) hostConfig.AutoRemove = true;
    if (spec.restartOnFailure)
      hostConfig.RestartPolicy = { Name: "on-failure", MaximumRetryCount: spec.maxRestarts ?? 3 };
    const opts: Docker.ContainerCreateOptions = {
      Image: spec.image,
      Cmd: spec.cmd,
      Labels: spec.labels,
      HostConfig: hostConfig,
      AttachStdout: false,
      AttachStderr: false,
      // The image's HEALTHCHECK is the controller's; a guard or helper would only pay for a node
      // start every interval (expensive on a slow node) to be told it is not a controller.
      Healthcheck: { Test: ["NONE"] },
    };
    if (spec.name) opts.name = spec.name;
    if (spec.env) opts.Env = spec.env;
    if (spec.entrypoint) opts.Entrypoint = spec.entrypoint;
    const c = await this.call("containers.create", "create", `create helper from ${spec.image}`, () =>
      this.docker.createContainer(opts),
    );
    return c.id;
  }

  async runHelper(spec: HelperSpec, timeoutMs: number): Promise<ExecResult> {
    const id = await this.startHelper({ ...spec, restartOnFailure: false });
    const container = this.docker.getContainer(id);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const waited = await this.call(
        "containers.wait",
        "container",
        `wait helper ${id}`,
        () =>
          container.wait({ condition: "not-running", abortSignal: abort.signal }) as Promise<{ StatusCode?: number }>,
      ).catch((err: unknown) => {
        if (abort.signal.aborted)
          throw new EngineTimeout(`helper ${id} did not finish within ${timeoutMs} ms`, undefined, { cause: err });
        throw err;
      });
      const logs = await this.call("containers.logs", "container", `logs of helper ${id}`, () =>
        container.logs({ stdout: true, stderr: true, follow: false }),
      );
      return { exitCode: waited.StatusCode ?? -1, ...demuxBuffer(logs) };
    } finally {
      clearTimeout(timer);
      // Force-remove also kills a helper that outlived its timeout.
      await this.removeContainer(id, { force: true }).catch(() => undefined);
    }
  }

  async containerLogs(id: string, tail: number): Promise<{ stdout: string; stderr: string }> {
    const buf = await this.call("containers.logs", "container", `logs of ${id}`, () =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail }),
    );
    return demuxBuffer(buf);
  }

  async exec(containerId: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const container = this.docker.getContainer(containerId);
    const exec = await this.call("exec.create", "container", `exec in ${containerId}`, () =>
      container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true }),
    );
    const stream = await this.call("exec.start", "container", `exec start in ${containerId}`, () =>
      exec.start({ hijack: true, stdin: false }),
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdout = new PassThrough().on("data", (b: Buffer) => out.push(b));
    const stderr = new PassThrough().on("data", (b: Buffer) => err.push(b));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The exec API cannot kill the process; we stop reading and report the timeout.
        stream.destroy();
        reject(new EngineTimeout(`exec ${argv[0] ?? ""} in ${containerId} exceeded ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      stream.on("end", done);
      stream.on("close", done);
      stream.on("error", (e: Error) => {
        clearTimeout(timer);
        reject(mapDockerError(e, "container", `exec in ${containerId}`));
      });
    });
    const info = await this.call(
      "exec.inspect",
      "container",
      `exec inspect in ${containerId}`,
      () => exec.inspect() as Promise<{ ExitCode?: number | null }>,
    );
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8"),
    };
  }

  async updateNode(id: string, version: number, update: NodeSpecUpdate): Promise<void> {
    const node = this.docker.getNode(id);
    const current = await this.call(
      "nodes.inspect",
      "node",
      `inspect node ${id}`,
      () => node.inspect() as Promise<RawNode>,
    );
    // The API replaces the whole spec: start from the current one, change only what was asked.
    const spec: Record<string, unknown> = { ...(current.Spec ?? {}) };
    if (update.availability) spec.Availability = update.availability;
    if (update.labels) spec.Labels = update.labels;
    await this.call("nodes.update", "node", `update node ${id}`, () =>
      node.update({ _query: { version }, _body: spec }),
    );
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.call("images.inspect", "image", `inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
      return true;
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 404) return false;
      throw err;
    }
  }

  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onError?: (err: Error) => void): void {
    this.counts["events"] = (this.counts["events"] ?? 0) + 1;
    const fail = (err: unknown): void => {
      if (signal.aborted) return; // ending on abort is the normal way out
      onError?.(mapDockerError(err, "other", "events"));
    };
    this.docker
      .getEvents({ filters: { type: EVENT_TYPES }, abortSignal: signal })
      .then((s) => {
        // At run time the body is a Node http.IncomingMessage (a Readable), not a web stream.
        const stream = s as unknown as NodeJS.ReadableStream & { destroy(): void };
        let buffered = "";
        stream.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("utf8");
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line.length === 0) continue;
            try {
              onEvent(mapEvent(JSON.parse(line) as RawEvent));
            } catch (err) {
              stream.destroy();
              fail(err);
              return;
            }
          }
        });
        stream.on("error", fail);
        stream.on("end", () => {
          if (!signal.aborted) fail(new EngineError("event stream ended"));
        });
        signal.addEventListener("abort", () => stream.destroy(), { once: true });
      })
      .catch(fail);
  }

  async listConfigs(labelFilters: string[] = []): Promise<ConfigInfo[]> {
    const raw = (await this.call("configs.list", "config", "list configs", () =>
      this.docker.listConfigs(labelFilters.length ? { filters: { label: labelFilters } } : {}),
    )) as unknown as RawConfig[];
    return raw.map(mapConfig);
  }

  async inspectConfig(idOrName: string): Promise<ConfigInfo> {
    const raw = (await this.call("configs.inspect", "config", `inspect config ${idOrName}`, () =>
      this.docker.getConfig(idOrName).inspect(),
    )) as unknown as RawConfig;
    return mapConfig(raw);
  }

  async createConfig(name: string, data: string, labels: Record<string, string>): Promise<string> {
    const body = { Name: name, Labels: labels, Data: Buffer.from(data, "utf8").toString("base64") };
    const r = (await this.call("configs.create", "config", `create config ${name}`, () =>
      this.docker.createConfig(body),
    )) as unknown as { id?: string; ID?: string };
    const id = r.id ?? r.ID;
    if (!id) throw new EngineError(`create config ${name}: the engine returned no id`);
    return id;
  }

  async updateConfigLabels(id: string, version: number, labels: Record<string, string>): Promise<void> {
    const current = await this.inspectConfig(id);
    // The API takes the whole spec, and only Labels may change: name and data stay as they are.
    const body = { Name: current.name, Labels: labels, Data: Buffer.from(current.data, "utf8").toString("base64") };
    await this.call("configs.update", "config", `update config ${id}`, () =>
      this.docker.getConfig(id).update({ _query: { version }, _body: body }),
    );
  }

  async removeConfig(id: string): Promise<void> {
    await this.call("configs.remove", "config", `remove config ${id}`, () => this.docker.getConfig(id).remove());
  }

  async ping(): Promise<void> {
    await this.call("ping", "other", "ping", () => this.docker.ping());
  }

  /** This engine's Swarm node id and hostname (`info`); works on workers, unlike listNodes. */
  async selfNode(): Promise<{ nodeId: string; hostname: string }> {
    const i = await this.call(
      "info",
      "other",
      "info",
      () => this.docker.info() as Promise<{ Name?: string; Swarm?: { NodeID?: string } }>,
    );
    return { nodeId: i.Swarm?.NodeID ?? "", hostname: i.Name ?? "" };
  }
}
