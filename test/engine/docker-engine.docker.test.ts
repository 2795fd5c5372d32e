// DockerEngine against the real engine and its one-node Swarm.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import { ContainerNotFound, ContainerStateConflict, EngineTimeout, ImageMissing } from "../../src/engine/errors.js";
import type { DockerEvent } from "../../src/engine/engine.js";
import { APP_IMAGE, docker, dockerOk, requireSwarm, runningTasks, waitFor, WEB_IMAGE } from "../helpers/docker.js";
import { createOverlayService, type OverlayService } from "./fixtures.js";

const engine = new DockerEngine();
let svc: OverlayService;
const started: string[] = []; // plain containers this file starts, removed by id

async function runWeb(): Promise<string> {
  const id = await dockerOk(["run", "-d", "--network", "none", "--label", "chaosctl-test=engine", WEB_IMAGE]);
  started.push(id);
  return id;
}

beforeAll(async () => {
  await requireSwarm();
  svc = await createOverlayService({
    replicas: 2,
    healthCmd: "wget -q -O /dev/null http://127.0.0.1/ || exit 1",
    namePrefix: "chaosctl-engine",
  });
  await waitFor(async () => (await runningTasks(svc.id)).length === 2, { timeoutMs: 30_000, what: "2 running tasks" });
});

afterAll(async () => {
  await svc?.remove();
  if (started.length) await docker(["rm", "-f", ...started]);
});

describe("DockerEngine on the real engine", () => {
  it("snapshot maps a 2-replica service, its tasks and containers (with health)", async () => {
    const expectedNode = await dockerOk(["info", "-f", "{{.Swarm.NodeID}}"]);
    const snap = await waitFor(
      async () => {
        const s = await engine.snapshot();
        const cs = s.containers.filter((c) => c.serviceId === svc.id);
        return cs.length === 2 && cs.every((c) => c.health === "healthy") ? s : undefined;
      },
      { timeoutMs: 30_000, what: "two healthy containers in a snapshot" },
    );
    expect(snap.selfNodeId).toBe(expectedNode);
    expect(snap.nodes.find((n) => n.id === expectedNode)).toMatchObject({
      role: "manager",
      state: "ready",
      leader: true,
    });
    const service = snap.services.find((s) => s.id === svc.id);
    expect(service).toMatchObject({ name: svc.name, mode: "replicated", replicas: 2, hasHealthcheck: true });
    expect(service?.labels["chaosctl-test"]).toBe("1");
    const tasks = snap.tasks.filter((t) => t.serviceId === svc.id && t.state === "running");
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((t) => t.slot))).toEqual(new Set([1, 2]));
    for (const t of tasks) {
      expect(t.nodeId).toBe(expectedNode);
      const c = snap.containers.find((x) => x.id === t.containerId);
      expect(c).toMatchObject({
        taskId: t.id,
        serviceId: svc.id,
        nodeId: expectedNode,
        state: "running",
        health: "healthy",
      });
    }
  });

  it("counts every API call by operation", async () => {
    const e = new DockerEngine();
    await e.snapshot();
    await e.snapshot();
    // info is asked once and cached; each snapshot lists the four kinds once.
    expect(e.calls).toEqual({ info: 1, "nodes.list": 2, "services.list": 2, "tasks.list": 2, "containers.list": 2 });
    await e.ping();
    expect(e.calls.ping).toBe(1);
  });

  it("maps errors to typed classes and keeps the cause", async () => {
    const missing = "0".repeat(64);
    const err = await engine.killContainer(missing, "SIGKILL").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerNotFound);
    expect((err as Error).cause).toBeDefined();
    const id = await runWeb();
    await expect(engine.unpauseContainer(id)).rejects.toBeInstanceOf(ContainerStateConflict);
    await engine.pauseContainer(id);
    expect((await engine.inspectContainer(id)).state).toBe("paused");
    await expect(engine.pauseContainer(id)).rejects.toBeInstanceOf(ContainerStateConflict);
    await engine.unpauseContainer(id);
    await engine.stopContainer(id, 1);
    await expect(engine.stopContainer(id, 1)).rejects.toBeInstanceOf(ContainerStateConflict); // 304
    await expect(
      engine.startHelper({ image: "local/does-not-exist:0", cmd: ["true"], labels: {} }),
    ).rejects.toBeInstanceOf(ImageMissing);
    expect(await engine.imageExists("local/does-not-exist:0")).toBe(false);
    expect(await engine.imageExists(WEB_IMAGE)).toBe(true);
  });

  it("runHelper collects demuxed output and exit code, and removes the helper", async () => {
    const label = `chaosctl-test-run=${process.pid}-${Date.now()}`;
    const [k, v] = label.split("=") as [string, string];
    const r = await engine.runHelper(
      {
        image: WEB_IMAGE,
        cmd: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"],
        labels: { [k]: v },
        networkMode: "none",
      },
      20_000,
    );
    expect(r).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
    expect(await dockerOk(["ps", "-aq", "--filter", `label=${label}`])).toBe("");
  });

  it("a helper never runs the image's HEALTHCHECK (that check is the controller's)", async () => {
    const id = await engine.startHelper({
      image: APP_IMAGE,
      cmd: ["--version"],
      labels: { "chaosctl-test": "engine" },
    });
    started.push(id);
    expect(JSON.parse(await dockerOk(["inspect", "-f", "{{json .Config.Healthcheck}}", id]))).toMatchObject({
      Test: ["NONE"],
    });
    expect(await dockerOk(["image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", APP_IMAGE])).not.toBe("null");
  });

  it("runHelper past its timeout kills and removes the helper", async () => {
    const label = `chaosctl-test-timeout=${process.pid}-${Date.now()}`;
    const [k, v] = label.split("=") as [string, string];
    const t0 = Date.now();
    await expect(
      engine.runHelper({ image: WEB_IMAGE, cmd: ["/bin/sleep", "60"], labels: { [k]: v }, networkMode: "none" }, 1_000),
    ).rejects.toBeInstanceOf(EngineTimeout);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await dockerOk(["ps", "-aq", "--filter", `label=${label}`])).toBe("");
  });

  it("exec runs argv in a container and demuxes its output", async () => {
    const id = await runWeb();
    const r = await engine.exec(id, ["/bin/sh", "-c", "echo hi; echo oops >&2; exit 4"], 10_000);
    expect(r).toEqual({ exitCode: 4, stdout: "hi\n", stderr: "oops\n" });
  });

  it("events deliver a container die for a killed container, and end on abort", async () => {
    const id = await runWeb();
    const seen: DockerEvent[] = [];
    const errors: Error[] = [];
    const ac = new AbortController();
    engine.events(
      (e) => seen.push(e),
      ac.signal,
      (e) => errors.push(e),
    );
    await new Promise((r) => setTimeout(r, 300)); // the stream is open before the kill
    await engine.killContainer(id, "SIGKILL");
    const die = await waitFor(() => seen.find((e) => e.type === "container" && e.action === "die" && e.id === id), {
      timeoutMs: 10_000,
      what: "die event",
    });
    expect(die.attributes.exitCode).toBe("137");
    ac.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([]);
  });

  it("an unreachable socket is NodeUnreachable", async () => {
    const e = new DockerEngine({ socketPath: "/nonexistent/docker.sock" });
    await expect(e.ping()).rejects.toMatchObject({ code: "NodeUnreachable" });
  });
});
