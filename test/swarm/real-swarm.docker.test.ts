// Proves the test Swarm is real (scripts/swarm-up.sh): Swarm schedules and heals
// a replicated service from the locally built image, and the project image runs.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  APP_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  serviceTasks,
  waitFor,
  WEB_IMAGE,
  type TestService,
  type TaskInfo,
} from "../helpers/docker.js";

describe("a real one-node Swarm", () => {
  let svc: TestService | undefined;
  let first: TaskInfo[] = [];

  beforeAll(async () => {
    await requireSwarm([WEB_IMAGE]);
    svc = await createTestService({
      replicas: 2,
      image: WEB_IMAGE,
      healthCmd: "wget -q -O /dev/null http://127.0.0.1/",
      // A wider timeout than the helper's 1 s (the later flag wins): with four lanes loading the
      // machine, two slow probes made Swarm replace the task this file asserts was left alone.
      flags: ["--health-timeout", "5s", "--health-retries", "3"],
    });
  });

  afterAll(async () => {
    await svc?.remove();
  });

  test("a 2-replica service from local/web:1 reaches 2 running, healthy tasks", async () => {
    const id = svc!.id;
    first = await waitFor(
      async () => {
        const tasks = await runningTasks(id);
        return tasks.length === 2 && tasks;
      },
      { timeoutMs: 30_000, what: "2 running tasks" },
    );
    expect(new Set(first.map((t) => t.slot))).toEqual(new Set([1, 2]));
    for (const t of first) {
      expect(t.containerId).toMatch(/^[0-9a-f]{64}$/);
      // The container is really there, serving HTTP, and its healthcheck passes.
      await waitFor(
        async () => (await dockerOk(["inspect", "-f", "{{.State.Health.Status}}", t.containerId!])) === "healthy",
        { timeoutMs: 20_000, what: `task ${t.id} healthy` },
      );
      const page = await dockerOk(["exec", t.containerId!, "wget", "-q", "-O", "-", "http://127.0.0.1/"]);
      expect(page).toContain("chaosctl test web");
    }
  });

  test("killing a task's container makes Swarm replace it", async () => {
    const id = svc!.id;
    expect(first).toHaveLength(2);
    const victim = first[0]!;
    await dockerOk(["kill", victim.containerId!]); // SIGKILL, as `docker kill` in the practice

    const tasks = await waitFor(
      async () => {
        const all = await serviceTasks(id);
        const old = all.find((t) => t.id === victim.id);
        const running = all.filter((t) => t.state === "running" && t.desiredState === "running");
        const replaced = running.length === 2 && !running.some((t) => t.id === victim.id);
        return old && old.state !== "running" && replaced && { old, running };
      },
      { timeoutMs: 30_000, what: "a replacement task" },
    );

    expect(tasks.old.state).toBe("failed");
    expect(tasks.old.exitCode).toBe(137);
    expect(tasks.old.err).toMatch(/137/);
    const replacement = tasks.running.find((t) => t.slot === victim.slot)!;
    expect(replacement.id).not.toBe(victim.id);
    expect(replacement.containerId).not.toBe(victim.containerId);
    // The other task was left alone.
    expect(tasks.running.map((t) => t.id)).toContain(first[1]!.id);
  });

  test("the service is removed by its id, with its containers", async () => {
    const { id, name } = svc!;
    await svc!.remove();
    const inspect = await docker(["service", "inspect", id]);
    expect(inspect.code).not.toBe(0);
    expect(await dockerOk(["ps", "-aq", "--filter", `label=com.docker.swarm.service.id=${id}`])).toBe("");
    expect(await dockerOk(["service", "ls", "-q", "--filter", `name=${name}`])).toBe("");
  });
});

describe("the project image", () => {
  test("docker run local/chaosctl:dev --version prints package.json's version", async () => {
    await requireSwarm([APP_IMAGE]);
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    const out = await dockerOk(["run", "--rm", APP_IMAGE, "--version"]);
    expect(out.trim().split(/\s+/).pop()).toBe(version);
  });

  test("it has node, tc and iptables for the network helper", async () => {
    await requireSwarm([APP_IMAGE]);
    const out = await dockerOk([
      "run",
      "--rm",
      "--entrypoint",
      "sh",
      APP_IMAGE,
      "-c",
      "node --version && command -v tc && command -v iptables",
    ]);
    expect(out.split("\n")).toEqual([process.version, "/usr/sbin/tc", "/usr/sbin/iptables"]);
  });
});
