// A real agent (in this process, on the host's engine and one-node Swarm) and its client: what an
// unauthenticated or replayed request gets (401, and no engine call at all), and that the
// drivers work unchanged through AgentEngine (kill replaces the task; a pause guard started
// through the agent binds the agent's socket, reverts at its expiry and is reported exited).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DockerEngine } from "../../src/engine/docker.js";
import { AgentEngine } from "../../src/nodes/agent-engine.js";
import { startAgent, type RunningAgent } from "../../src/agent/run.js";
import { signRequest } from "../../src/nodes/auth.js";
import { AgentRefused, AgentUnauthorized } from "../../src/nodes/protocol.js";
import { killDriver } from "../../src/faults/kill/driver.js";
import { pauseDriver } from "../../src/faults/pause/driver.js";
import { silentLogger } from "../../src/util/log.js";
import {
  APP_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  WEB_IMAGE,
  type TestService,
} from "../helpers/docker.js";

const token = randomBytes(24).toString("hex");
const key = Buffer.from(token);
const engine = new DockerEngine();
let dir: string;
let agent: RunningAgent;
let client: AgentEngine;
let svc: TestService;
const guards: string[] = [];

const total = (c: Readonly<Record<string, number>>): number => Object.values(c).reduce((a, b) => a + b, 0);

function raw(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: agent.port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function taskContainer(): Promise<string> {
  const [t] = await waitFor(
    async () => {
      const ts = await runningTasks(svc.id);
      return ts.length === 1 && ts[0]?.containerId ? ts : undefined;
    },
    { timeoutMs: 30_000, what: "one running task" },
  );
  return t?.containerId ?? "";
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  dir = await mkdtemp(join(tmpdir(), "chaosctl-agent-"));
  await writeFile(join(dir, "token"), token + "\n", { mode: 0o600 });
  svc = await createTestService({ namePrefix: "chaosctl-agent-test" });
  // /run/docker.sock is the host's socket under another name (/var/run -> /run): a guard bound to
  // it works, and its binds show the agent's path, not the /var/run/docker.sock the driver asked for.
  agent = await startAgent({
    engine,
    tokenFile: join(dir, "token"),
    image: APP_IMAGE,
    dockerSocket: "/run/docker.sock",
    listen: "127.0.0.1",
    port: 0,
    version: "test",
    logger: silentLogger,
  });
  // Requests that change anything are signed for the agent's node: learn it first, as the
  // controller's node directory knows it from the Swarm.
  const { nodeId } = await new AgentEngine({ host: "127.0.0.1", port: agent.port, key }).whoami();
  client = new AgentEngine({ host: "127.0.0.1", port: agent.port, key, nodeId });
});

afterAll(async () => {
  for (const g of guards) await docker(["rm", "-f", g]);
  await svc?.remove();
  await agent?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("agent authentication (real server)", () => {
  it("refuses an unsigned kill and one signed with another token: 401, the container untouched, no engine call", async () => {
    const id = await taskContainer();
    const before = total(engine.calls);
    const body = JSON.stringify({ id, signal: "SIGKILL" });
    const unsigned = await raw("/v1/killContainer", body);
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.text)).toMatchObject({ error: { code: "MissingSignature" } });
    const forged = await raw("/v1/killContainer", body, {
      ...signRequest(Buffer.from(randomBytes(24).toString("hex")), "POST", "/v1/killContainer", body, new Date()),
    });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.text)).toMatchObject({ error: { code: "BadSignature" } });
    expect(total(engine.calls)).toBe(before);
    expect((await engine.inspectContainer(id)).state).toBe("running");
    expect((await runningTasks(svc.id)).map((t) => t.containerId)).toEqual([id]);
  });

  it("answers a signed request once and refuses its replay", async () => {
    const id = await taskContainer();
    const body = JSON.stringify({ id });
    const h = signRequest(key, "POST", "/v1/inspectContainer", body, new Date());
    const first = await raw("/v1/inspectContainer", body, { ...h });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text)).toMatchObject({ result: { id } });
    const before = total(engine.calls);
    const replay = await raw("/v1/inspectContainer", body, { ...h });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.text)).toMatchObject({ error: { code: "ReplayedNonce" } });
    expect(total(engine.calls)).toBe(before);
  });

  it("a client with the wrong token gets AgentUnauthorized; a stale clock too", async () => {
    const wrong = new AgentEngine({
      host: "127.0.0.1",
      port: agent.port,
      key: Buffer.from(randomBytes(24).toString("hex")),
    });
    await expect(wrong.ping()).rejects.toBeInstanceOf(AgentUnauthorized);
    const late = new AgentEngine({
      host: "127.0.0.1",
      port: agent.port,
      key,
      clock: () => new Date(Date.now() - 60_000),
    });
    await expect(late.ping()).rejects.toThrow(/timestamp outside/);
  });
});

describe("the drivers through AgentEngine", () => {
  it("whoami names this node", async () => {
    const me = await client.whoami();
    expect(me.nodeId).toBe((await dockerOk(["info", "-f", "{{.Swarm.NodeID}}"])).trim());
    expect(me.image).toBe(APP_IMAGE);
  });

  it("refuses a helper from another image, and a kill of a container that is no Swarm task", async () => {
    const before = await dockerOk(["ps", "-aq", "--filter", "label=chaosctl.io/role=guard"]);
    await expect(
      client.startHelper({ image: WEB_IMAGE, cmd: ["guard"], labels: { "chaosctl.io/role": "guard" } }),
    ).rejects.toBeInstanceOf(AgentRefused);
    expect(await dockerOk(["ps", "-aq", "--filter", "label=chaosctl.io/role=guard"])).toBe(before);
    const plain = (await dockerOk(["run", "-d", "--network", "none", WEB_IMAGE])).trim();
    try {
      await expect(client.killContainer(plain, "SIGKILL")).rejects.toBeInstanceOf(AgentRefused);
      expect((await engine.inspectContainer(plain)).state).toBe("running");
    } finally {
      await docker(["rm", "-f", plain]);
    }
  });

  it("kill: the task's container dies and Swarm replaces it", async () => {
    const id = await taskContainer();
    const r = await killDriver.apply(
      { engine: client, image: APP_IMAGE, now: new Date() },
      { kind: "container", nodeId: "", containerId: id },
      { signal: "SIGKILL" },
      { schedule: "test/kill", generation: 1, run: "r1" },
    );
    expect(r.phase).toBe("Done");
    const next = await waitFor(
      async () => {
        const c = await taskContainer();
        return c !== id ? c : undefined;
      },
      { timeoutMs: 30_000, what: "a replacement task" },
    );
    expect(next).not.toBe(id);
  });

  it("pause: the guard started through the agent binds the agent's socket, reverts at expiry, and is reported exited 0", async () => {
    const id = await taskContainer();
    const nodeId = (await client.whoami()).nodeId;
    const owner = {
      schedule: "test/agent-pause",
      generation: 1,
      run: `r-${randomBytes(3).toString("hex")}`,
      expires: new Date(Date.now() + 4_000),
      instance: `agent-test-${randomBytes(3).toString("hex")}`,
    };
    const r = await pauseDriver.apply(
      { engine: client, image: APP_IMAGE, now: new Date() },
      { kind: "container", nodeId, containerId: id },
      {},
      owner,
    );
    expect(r.phase).toBe("Injected");
    const guardId = r.phase === "Injected" ? (r.handle.guardId ?? "") : "";
    guards.push(guardId);
    expect((await engine.inspectContainer(id)).state).toBe("paused");
    expect(JSON.parse(await dockerOk(["inspect", "-f", "{{json .HostConfig.Binds}}", guardId]))).toEqual([
      "/run/docker.sock:/var/run/docker.sock",
    ]);
    const live = await client.injections();
    expect(live.handles.find((h) => h.guardId === guardId)).toMatchObject({
      fault: "pause",
      owner: { run: owner.run },
      guardState: "running",
    });
    // Nobody calls recover: the guard reverts on its own at expiry, and the agent reports it.
    const done = await waitFor(
      async () => {
        const rep = await client.injections();
        const h = rep.handles.find((x) => x.guardId === guardId);
        return h && h.guardState === "exited" ? h : undefined;
      },
      { timeoutMs: 20_000, what: "the guard to exit" },
    );
    expect(done.guardExitCode).toBe(0);
    expect((await engine.inspectContainer(id)).state).toBe("running");
    const rec =
      r.phase === "Injected"
        ? await pauseDriver.recover(
            { engine: client, image: APP_IMAGE, now: new Date() },
            { ...r.handle, guardState: "exited", guardExitCode: 0 },
          )
        : undefined;
    expect(rec?.phase).toBe("Recovered");
    expect((await docker(["inspect", guardId])).code).not.toBe(0);
  });
});
