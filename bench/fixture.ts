// What the Swarm benches run against: a throw-away service and the real controller in this
// process on a temp manifest folder with its own instance. Everything is removed by id.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildController } from "../src/controller/build.js";
import type { Controller } from "../src/controller/controller.js";
import { DockerEngine } from "../src/engine/docker.js";
import { DirectoryStore } from "../src/store/directory/store.js";
import { createLogger } from "../src/util/log.js";
import { docker, lines, waitUntil } from "./docker-cli.js";

export const WEB_IMAGE = "local/web:1";
export const APP_IMAGE = "local/chaosctl:dev";

export interface BenchService {
  id: string;
  name: string;
  replicas: number;
  /** Ids of the tasks Swarm wants running that are running. */
  running(): Promise<string[]>;
  /** Waits until every replica runs. */
  healthy(timeoutMs?: number): Promise<void>;
  remove(): Promise<void>;
}

/** A replicated busybox httpd service; Swarm restarts killed tasks without delay. */
export async function benchService(replicas: number): Promise<BenchService> {
  const name = `chaosctl-bench-${randomBytes(4).toString("hex")}`;
  const id = await docker([
    "service",
    "create",
    "--detach",
    "--quiet",
    "--name",
    name,
    "--label",
    "chaosctl.bench=1",
    "--replicas",
    String(replicas),
    "--restart-delay",
    "0s",
    WEB_IMAGE,
  ]);
  const running = async (): Promise<string[]> =>
    lines(
      await docker([
        "service",
        "ps",
        id,
        "--no-trunc",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}} {{.CurrentState}}",
      ]),
    )
      .filter((l) => / Running /.test(` ${l} `))
      .map((l) => l.split(" ")[0] ?? "");
  const svc: BenchService = {
    id,
    name,
    replicas,
    running,
    async healthy(timeoutMs = 30_000) {
      await waitUntil(
        async () => (await running()).length >= replicas,
        timeoutMs,
        `${replicas} running tasks of ${name}`,
        150,
      );
    },
    async remove() {
      await docker(["service", "rm", id]).catch(() => undefined);
      await waitUntil(
        async () => (await docker(["ps", "-aq", "--filter", `label=com.docker.swarm.service.id=${id}`])) === "",
        30_000,
        `containers of ${name} gone`,
        250,
      ).catch(() => undefined);
    },
  };
  try {
    await svc.healthy();
  } catch (e) {
    await svc.remove();
    throw e;
  }
  return svc;
}

export interface BenchWorkspace {
  dir: string;
  instance: string;
  write(file: string, yaml: string): Promise<void>;
  /** Removes the folder and every container of this instance (guards), by id. */
  cleanup(): Promise<void>;
}

export async function benchWorkspace(): Promise<BenchWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "chaosctl-bench-"));
  const instance = `bench-${randomBytes(4).toString("hex")}`;
  return {
    dir,
    instance,
    write: (file, yaml) => writeFile(join(dir, file), yaml),
    async cleanup() {
      const ids = lines(
        await docker(["ps", "-aq", "--filter", `label=chaosctl.io/instance=${instance}`]).catch(() => ""),
      );
      if (ids.length) await docker(["rm", "-f", ...ids]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function manifest(name: string, spec: string): string {
  return `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, "  ")}\n`;
}

export interface RunningController {
  controller: Controller;
  engine: DockerEngine;
  /** Date.now() at the start of every reconcile pass (to split a latency into wait and work). */
  passStarts: number[];
  /** The calls a pass makes on its way to an injection, each with Date.now() at its start and end. */
  trace: TracedCall[];
  stop(): Promise<void>;
}

export interface TracedCall {
  op: "snapshot" | "list" | "writeStatus" | "launchHelper" | "pauseContainer" | "killContainer";
  t0: number;
  t1: number;
}

/** The first traced call of each of `ops` that started between `from` and `to`; undefined if one is missing. */
export function firstCalls<K extends TracedCall["op"]>(
  trace: readonly TracedCall[],
  from: number,
  to: number,
  ops: readonly K[],
): Record<K, TracedCall> | undefined {
  const out: Partial<Record<K, TracedCall>> = {};
  for (const op of ops) {
    const c = trace.find((x) => x.op === op && x.t0 >= from && x.t0 <= to);
    if (!c) return undefined;
    out[op] = c;
  }
  return out as Record<K, TracedCall>;
}

/** Records when `obj[op]` is called and returns, into `trace` (the object keeps working as before). */
function traced<T extends object>(obj: T, op: TracedCall["op"] & keyof T, trace: TracedCall[]): void {
  const f = obj[op] as unknown as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (typeof f !== "function") return;
  const bound = f.bind(obj);
  (obj as Record<string, unknown>)[op] = async (...a: unknown[]) => {
    // In the trace from the call's start (t1 NaN until it returns): a kill's `die` event comes
    // before the kill call's answer, and the bench reads the trace as soon as the event is in.
    const call: TracedCall = { op, t0: Date.now(), t1: NaN };
    trace.push(call);
    if (trace.length > 5_000) trace.splice(0, 1_000);
    try {
      return await bound(...a);
    } finally {
      call.t1 = Date.now();
    }
  };
}

/** The controller's loop in this process, exactly as `chaosctl controller` wires it. */
export function startController(ws: BenchWorkspace, opts: { killSwitchFile?: string } = {}): RunningController {
  const logger = createLogger(process.env.CHAOSCTL_BENCH_LOG ?? "silent");
  const store = new DirectoryStore({ dir: ws.dir, logger });
  const engine = new DockerEngine();
  const trace: TracedCall[] = [];
  for (const op of ["snapshot", "launchHelper", "pauseContainer", "killContainer"] as const) traced(engine, op, trace);
  for (const op of ["list", "writeStatus"] as const) traced(store, op, trace);
  const controller = buildController({
    store,
    engine,
    image: APP_IMAGE,
    logger,
    instance: ws.instance,
    ...(opts.killSwitchFile ? { killSwitchFile: opts.killSwitchFile } : {}),
  });
  const passStarts: number[] = [];
  const pass = controller.pass.bind(controller);
  controller.pass = () => (passStarts.push(Date.now()), pass());
  const ctl = new AbortController();
  const done = controller.run(ctl.signal);
  return {
    controller,
    engine,
    passStarts,
    trace,
    async stop() {
      ctl.abort();
      await done;
      await store.close();
    },
  };
}
