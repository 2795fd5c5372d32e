// Child process of the bench (one per configuration, so its CPU and RSS are the controller's
// alone): builds the controller on a manifest folder, runs warm-up passes (the first writes
// every schedule's next run time), then times idle passes and prints one JSON line.
// Usage: node dist/bench/idle-pass.js '{"dir":...,"instance":...,"passes":10,"warmup":3,"fake":{...}}'
import { buildController } from "../src/controller/build.js";
import { DockerEngine } from "../src/engine/docker.js";
import type { Engine } from "../src/engine/engine.js";
import { DirectoryStore } from "../src/store/directory/store.js";
import { createLogger } from "../src/util/log.js";
import { FakeEngine, type FakeClusterSize } from "./fake-engine.js";
import { APP_IMAGE } from "./fixture.js";

export interface IdleInput {
  dir: string;
  instance: string;
  passes: number;
  warmup: number;
  fake?: FakeClusterSize;
}

export interface IdlePassSample {
  cpuMs: number;
  wallMs: number;
  reads: number;
  mutating: number;
  byOp: Record<string, number>;
  actions: number;
  statusWrites: number;
}

export interface IdleOutput {
  samples: IdlePassSample[];
  warmupStatusWrites: number;
  rssMB: number;
  heapUsedMB: number;
  tasks: number;
  containers: number;
}

/** Docker API operations that change nothing; every other counted operation is mutating. */
export const READ_OPS: ReadonlySet<string> = new Set([
  "info",
  "nodes.list",
  "nodes.inspect",
  "services.list",
  "tasks.list",
  "containers.list",
  "containers.inspect",
  "containers.logs",
  "containers.wait",
  "exec.inspect",
  "images.inspect",
  "ping",
  "events",
]);

async function main(input: IdleInput): Promise<IdleOutput> {
  const logger = createLogger("silent");
  const engine: Engine = input.fake ? new FakeEngine(input.fake) : new DockerEngine();
  const store = new DirectoryStore({ dir: input.dir, logger });
  const controller = buildController({
    store,
    engine,
    image: APP_IMAGE,
    logger,
    instance: input.instance,
  });
  const written = (w: Map<string, string>): number => [...w.values()].filter((x) => x === "written").length;
  try {
    let warmupStatusWrites = 0;
    for (let i = 0; i < input.warmup; i++) warmupStatusWrites += written((await controller.pass()).writes);
    const samples: IdlePassSample[] = [];
    let size = { tasks: 0, containers: 0 };
    for (let i = 0; i < input.passes; i++) {
      const before = { ...engine.calls };
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const r = await controller.pass();
      const wallMs = performance.now() - t0;
      const c = process.cpuUsage(cpu);
      const byOp: Record<string, number> = {};
      for (const [op, n] of Object.entries(engine.calls))
        if (n - (before[op] ?? 0) > 0) byOp[op] = n - (before[op] ?? 0);
      const sum = (pred: (op: string) => boolean): number =>
        Object.entries(byOp)
          .filter(([op]) => pred(op))
          .reduce((a, [, n]) => a + n, 0);
      samples.push({
        cpuMs: (c.user + c.system) / 1000,
        wallMs,
        reads: sum((op) => READ_OPS.has(op)),
        mutating: sum((op) => !READ_OPS.has(op)),
        byOp,
        actions: r.plan.actions.length,
        statusWrites: written(r.writes),
      });
      if (i === 0) {
        const snap = await engine.snapshot();
        size = { tasks: snap.tasks.length, containers: snap.containers.length };
      }
    }
    const mem = process.memoryUsage();
    return { samples, warmupStatusWrites, rssMB: mem.rss / 1e6, heapUsedMB: mem.heapUsed / 1e6, ...size };
  } finally {
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await main(JSON.parse(process.argv[2] ?? "{}") as IdleInput);
  process.stdout.write(JSON.stringify(out) + "\n");
}
