// Small helpers for tests that run against the real Docker engine and Swarm.
// They drive the docker CLI (argv arrays, never shell strings), so test set-up
// stays independent of the code under test (src/engine).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker ...args`; never throws for a non-zero exit (see dockerOk). */
export function docker(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "docker",
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(new Error(`docker ${args.join(" ")}: ${err.message}`));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs `docker ...args` and returns trimmed stdout; throws with stderr on failure. */
export async function dockerOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Fails with a hint when the engine, the swarm or the test images are missing. */
export async function requireSwarm(images: string[] = [WEB_IMAGE]): Promise<void> {
  const hint = "run `bash scripts/swarm-up.sh` first";
  const info = await docker(["info", "-f", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"]);
  if (info.code !== 0) throw new Error(`no Docker engine answers (${info.stderr.trim()}): ${hint}`);
  if (info.stdout.trim() !== "active true") {
    throw new Error(`this engine is not a swarm manager (${info.stdout.trim()}): ${hint}`);
  }
  for (const image of images) {
    if ((await docker(["image", "inspect", image])).code !== 0) {
      throw new Error(`image ${image} is missing: ${hint}`);
    }
  }
}

/** Polls `cond` until it returns a value other than undefined/false, or times out. */
export async function waitFor<T>(
  cond: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; intervalMs?: number; what?: string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e; // a transient error (e.g. a task not yet visible) is retried
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what ?? "condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

export const WEB_IMAGE = "local/web:1";
export const APP_IMAGE = "local/chaosctl:dev";

/** A Swarm task as the Engine API returns it (`docker inspect <task>`), reduced. */
export interface TaskInfo {
  id: string;
  slot: number | undefined;
  state: string; // running, failed, shutdown, ...
  desiredState: string;
  containerId: string | undefined;
  exitCode: number | undefined;
  err: string | undefined;
}

interface RawTask {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** Every task of a service (current and past), read from the Engine API. */
export async function serviceTasks(serviceId: string): Promise<TaskInfo[]> {
  const ids = (await dockerOk(["service", "ps", "-q", "--no-trunc", serviceId])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const raw = JSON.parse(await dockerOk(["inspect", "--type", "task", ...ids])) as RawTask[];
  return raw.map((t) => ({
    id: t.ID,
    slot: t.Slot,
    state: t.Status.State,
    desiredState: t.DesiredState,
    containerId: t.Status.ContainerStatus?.ContainerID || undefined,
    exitCode: t.Status.ContainerStatus?.ExitCode,
    err: t.Status.Err || undefined,
  }));
}

export async function runningTasks(serviceId: string): Promise<TaskInfo[]> {
  return (await serviceTasks(serviceId)).filter((t) => t.state === "running" && t.desiredState === "running");
}

export interface TestService {
  id: string;
  name: string;
  /** Removes the service by id and waits until its containers are gone. Idempotent. */
  remove(): Promise<void>;
}

export interface TestServiceOptions {
  replicas?: number;
  image?: string;
  /** Shell command for --health-cmd; interval/retries are short so tests stay quick. */
  healthCmd?: string;
  labels?: Record<string, string>;
  /** Extra `docker service create` flags, before the image. */
  flags?: string[];
  /** Command and args after the image. */
  command?: string[];
  namePrefix?: string;
}

/**
 * Creates a replicated Swarm service (detached: it returns at once; wait for tasks
 * with waitFor + runningTasks). The name is unique; clean up with `remove()`.
 */
export async function createTestService(opts: TestServiceOptions = {}): Promise<TestService> {
  const name = `${opts.namePrefix ?? "chaosctl-test"}-${randomBytes(4).toString("hex")}`;
  const args = ["service", "create", "--detach", "--quiet", "--name", name];
  args.push("--replicas", String(opts.replicas ?? 1), "--label", "chaosctl-test=1");
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push("--label", `${k}=${v}`);
  if (opts.healthCmd !== undefined) {
    args.push("--health-cmd", opts.healthCmd, "--health-interval", "1s", "--health-timeout", "1s");
    args.push("--health-retries", "2", "--health-start-period", "1s");
  }
  args.push(...(opts.flags ?? []), opts.image ?? WEB_IMAGE, ...(opts.command ?? []));
  const id = (await dockerOk(args)).split("\n").pop() ?? "";
  if (!/^[a-z0-9]{25}$/.test(id)) throw new Error(`docker service create printed no service id: ${id}`);
  let removed = false;
  return {
    id,
    name,
    async remove() {
      if (removed) return;
      const r = await docker(["service", "rm", id]);
      if (r.code !== 0 && !/not found/i.test(r.stderr)) throw new Error(`docker service rm ${id}: ${r.stderr.trim()}`);
      removed = true;
      await waitFor(
        async () => (await dockerOk(["ps", "-aq", "--filter", `label=com.docker.swarm.service.id=${id}`])) === "",
        { timeoutMs: 30_000, what: `containers of service ${name} to be gone` },
      );
    },
  };
}
