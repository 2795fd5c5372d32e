// Running the real controller (in-process, or as the compiled bin) on a temp manifest folder,
// against the real engine. Each test uses its own controller instance, so it never touches
// injections of other tests or of other controllers on this engine.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { defaultLeaseFile } from "../../src/ops/lease/file.js";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { buildController } from "../../src/controller/build.js";
import type { Controller } from "../../src/controller/controller.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { createLogger } from "../../src/util/log.js";
import type { ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import { APP_IMAGE, docker, waitFor } from "../helpers/docker.js";

export interface Workspace {
  dir: string;
  instance: string;
  write(file: string, yaml: string): Promise<void>;
  status(file: string): Promise<ChaosScheduleStatus | undefined>;
  history(file: string): Promise<RunRecord[]>;
  /** Removes the folder and every guard of this instance (by their ids). */
  cleanup(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "chaosctl-e2e-"));
  const instance = `e2e-${randomBytes(4).toString("hex")}`;
  const status = async (file: string): Promise<ChaosScheduleStatus | undefined> => {
    const text = await readFile(join(dir, file), "utf8");
    const doc = parseAllDocuments(text)[0];
    return (
      (doc && !Array.isArray(doc) ? (doc.toJS() as { status?: ChaosScheduleStatus }).status : undefined) ?? undefined
    );
  };
  return {
    dir,
    instance,
    write: (file, yaml) => writeFile(join(dir, file), yaml),
    status,
    history: async (file) => (await status(file))?.history ?? [],
    async cleanup() {
      const ids = (await docker(["ps", "-aq", "--filter", `label=chaosctl.io/instance=${instance}`])).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length) await docker(["rm", "-f", ...ids]);
      // The lease of a compiled controller on this folder (kept outside it) and its mutex.
      const lease = await defaultLeaseFile(dir, instance).catch(() => undefined);
      if (lease) for (const f of [lease, `${lease}.mutex`]) await rm(f, { force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function manifest(name: string, spec: string): string {
  return `apiVersion: chaosctl.io/v1alpha1
kind: ChaosSchedule
metadata:
  name: ${name}
spec:
${spec.replace(/^/gm, "  ")}
`;
}

/**
 * The controller in this process; stop() aborts its loop and waits for it. It resyncs every
 * 500 ms (production: 30 s), and afterPasses(n) waits for n more completed reconcile passes:
 * "nothing more happens" is then proven by passes that could have done it, not by a clock.
 * CHAOSCTL_TEST_LOG (any level) shows its log on stderr, at debug.
 */
export function runController(
  ws: Workspace,
  opts: { resyncMs?: number } = {},
): { stop(): Promise<void>; controller: Controller; afterPasses(n: number): Promise<void> } {
  let passes = 0;
  const show = (process.env.CHAOSCTL_TEST_LOG ?? "silent") !== "silent";
  const logger = createLogger("debug", {
    write: (line: string) => {
      if (line.includes('"event":"pass"')) passes++;
      if (show) process.stderr.write(line);
    },
  });
  const store = new DirectoryStore({ dir: ws.dir, logger });
  const controller = buildController({
    store,
    image: APP_IMAGE,
    logger,
    instance: ws.instance,
    resyncMs: opts.resyncMs ?? 500,
  });
  const ctl = new AbortController();
  const done = controller.run(ctl.signal);
  return {
    controller,
    async afterPasses(n) {
      const target = passes + n;
      await waitFor(() => passes >= target, { timeoutMs: 30_000, intervalMs: 50, what: `${n} more reconcile passes` });
    },
    async stop() {
      ctl.abort();
      await done;
      await store.close();
    },
  };
}

const BIN = resolve("dist/src/cli/main.js");

/** The compiled bin as its own process (to SIGKILL it). Needs `npm run build`. */
export function spawnController(ws: Workspace): ChildProcess {
  const child = spawn(
    process.execPath,
    [BIN, "controller", "--dir", ws.dir, "--instance", ws.instance, "--log-level", "warn"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  return child;
}

export async function containerState(id: string): Promise<string> {
  const r = await docker(["inspect", "-f", "{{.State.Status}}", id]);
  return r.code === 0 ? r.stdout.trim() : "gone";
}
