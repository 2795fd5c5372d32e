// BENCH ONLY: an in-memory `Engine` holding a cluster too big for this machine (10,000 tasks),
// so an idle pass can be timed at that size. It is never used by the controller outside the
// bench. Each snapshot decodes the raw Docker API JSON and maps it with the real mapping code,
// as DockerEngine does after its HTTP calls (the socket round trips are what it leaves out).
// Mutating calls are counted and do nothing: the bench reports that none happened.
import { randomBytes } from "node:crypto";
import type {
  ClusterSnapshot,
  ContainerInfo,
  DockerEvent,
  Engine,
  ExecResult,
  HelperSpec,
} from "../src/engine/engine.js";
import { ContainerNotFound } from "../src/engine/errors.js";
import { mapContainerSummary, mapNode, mapService, mapTask } from "../src/engine/mapping.js";
import type { RawContainerSummary, RawNode, RawService, RawTask } from "../src/engine/raw.js";

export interface FakeClusterSize {
  services: number;
  tasksPerService: number;
}

const hex = (n: number): string => randomBytes(n).toString("hex");

export const fakeServiceName = (i: number): string => `fake-svc-${i}`;

/** One manager node running every task: all task containers are local (the heaviest list). */
export class FakeEngine implements Engine {
  private readonly counts: Record<string, number> = {};
  private readonly nodeId = hex(13).slice(0, 25);
  private readonly raw: { nodes: string; services: string; tasks: string; containers: string };

  constructor(size: FakeClusterSize) {
    const now = new Date().toISOString();
    const nodes: RawNode[] = [
      {
        ID: this.nodeId,
        Version: { Index: 9 },
        Spec: { Role: "manager", Availability: "active", Labels: {} },
        Description: { Hostname: "fake-1" },
        Status: { State: "ready", Addr: "127.0.0.1" },
        ManagerStatus: { Leader: true, Reachability: "reachable" },
      },
    ];
    const services: RawService[] = [];
    const tasks: RawTask[] = [];
    const containers: RawContainerSummary[] = [];
    for (let s = 0; s < size.services; s++) {
      const sid = hex(13).slice(0, 25);
      const name = fakeServiceName(s);
      services.push({
        ID: sid,
        Version: { Index: 10 + s },
        Spec: {
          Name: name,
          Labels: {},
          TaskTemplate: { ContainerSpec: { Image: "local/web:1" } },
          Mode: { Replicated: { Replicas: size.tasksPerService } },
        },
      });
      for (let slot = 1; slot <= size.tasksPerService; slot++) {
        const tid = hex(13).slice(0, 25);
        const cid = hex(32);
        tasks.push({
          ID: tid,
          ServiceID: sid,
          NodeID: this.nodeId,
          Slot: slot,
          DesiredState: "running",
          CreatedAt: now,
          Status: {
            Timestamp: now,
            State: "running",
            Message: "started",
            ContainerStatus: { ContainerID: cid, ExitCode: 0 },
          },
          NetworksAttachments: [
            {
              Network: { ID: "ingressid", Spec: { Name: "ingress" } },
              Addresses: [`10.${s % 250}.${Math.floor(slot / 250)}.${slot % 250}/16`],
            },
          ],
        });
        containers.push({
          Id: cid,
          Names: [`/${name}.${slot}.${tid}`],
          Image: "local/web:1",
          State: "running",
          Status: "Up 2 hours",
          Created: Math.floor(Date.now() / 1000) - 7200,
          Labels: {
            "com.docker.swarm.service.id": sid,
            "com.docker.swarm.service.name": name,
            "com.docker.swarm.task.id": tid,
            "com.docker.swarm.node.id": this.nodeId,
            "com.docker.swarm.task.name": `${name}.${slot}.${tid}`,
          },
        });
      }
    }
    this.raw = {
      nodes: JSON.stringify(nodes),
      services: JSON.stringify(services),
      tasks: JSON.stringify(tasks),
      containers: JSON.stringify(containers),
    };
  }

  get calls(): Readonly<Record<string, number>> {
    return this.counts;
  }

  private count(op: string): void {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    if (!this.counts["info"]) this.count("info"); // DockerEngine asks once and caches
    for (const op of ["nodes.list", "services.list", "tasks.list", "containers.list"]) this.count(op);
    return {
      at: new Date(),
      selfNodeId: this.nodeId,
      nodes: (JSON.parse(this.raw.nodes) as RawNode[]).map(mapNode),
      services: (JSON.parse(this.raw.services) as RawService[]).map(mapService),
      tasks: (JSON.parse(this.raw.tasks) as RawTask[]).map(mapTask),
      containers: (JSON.parse(this.raw.containers) as RawContainerSummary[]).map(mapContainerSummary),
    };
  }

  async listContainers(labelFilters: string[] = []): Promise<ContainerInfo[]> {
    this.count("containers.list");
    const all = (JSON.parse(this.raw.containers) as RawContainerSummary[]).map(mapContainerSummary);
    return all.filter((c) =>
      labelFilters.every((f) => {
        const [k, v] = f.split("=", 2) as [string, string | undefined];
        return v === undefined ? k in c.labels : c.labels[k] === v;
      }),
    );
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    this.count("containers.inspect");
    const c = (await this.listContainers()).find((x) => x.id === id);
    if (!c) throw new ContainerNotFound(`no such container: ${id}`);
    return c;
  }

  async killContainer(): Promise<void> {
    this.count("containers.kill");
  }
  async stopContainer(): Promise<void> {
    this.count("containers.stop");
  }
  async restartContainer(): Promise<void> {
    this.count("containers.restart");
  }
  async pauseContainer(): Promise<void> {
    this.count("containers.pause");
  }
  async unpauseContainer(): Promise<void> {
    this.count("containers.unpause");
  }
  async removeContainer(): Promise<void> {
    this.count("containers.remove");
  }
  async startHelper(_spec: HelperSpec): Promise<string> {
    this.count("containers.create");
    this.count("containers.start");
    return hex(32);
  }
  async runHelper(_spec: HelperSpec): Promise<ExecResult> {
    this.count("containers.create");
    this.count("containers.start");
    return { exitCode: 0, stdout: "", stderr: "" };
  }
  async containerLogs(): Promise<{ stdout: string; stderr: string }> {
    this.count("containers.logs");
    return { stdout: "", stderr: "" };
  }
  async exec(): Promise<ExecResult> {
    this.count("exec.create");
    return { exitCode: 0, stdout: "", stderr: "" };
  }
  async updateNode(): Promise<void> {
    this.count("nodes.update");
  }
  async imageExists(): Promise<boolean> {
    this.count("images.inspect");
    return true;
  }
  events(_onEvent: (e: DockerEvent) => void, _signal: AbortSignal): void {
    this.count("events");
  }
  async ping(): Promise<void> {
    this.count("ping");
  }
}
