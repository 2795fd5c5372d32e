// A holder of the agent token, hostile, against a real agent (in this process, on the host's
// engine and one-node Swarm, whose only node is a manager): every request below is refused, and
// the engine sees no call that changes anything (counted on the agent's own DockerEngine). Then
// the transport: a request captured for this node is refused by an agent on another node; a
// slow sender, an oversized body and connections past the limit are closed unread.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import { request } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DockerEngine } from "../../src/engine/docker.js";
import { AgentEngine } from "../../src/nodes/agent-engine.js";
import type { HelperSpec } from "../../src/engine/engine.js";
import { startAgent, type RunningAgent } from "../../src/agent/run.js";
import { signRequest } from "../../src/nodes/auth.js";
import { AgentRefused, AgentUnauthorized } from "../../src/nodes/protocol.js";
import { guardArgv } from "../../src/faults/guard/args.js";
import { wrapNodeSpec } from "../../src/faults/node/spec.js";
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
const HOUR = 3600_000;
let dir: string;
let agent: RunningAgent;
let client: AgentEngine;
let nodeId: string;
let web: TestService;
let guarded: TestService;
const containers: string[] = [];

const READS = /(\.list|\.inspect|\.logs|\.wait|^ping|^info)$/;
/** Engine calls that change something, made by the agent's engine so far. */
const mutating = (): number =>
  Object.entries(engine.calls)
    .filter(([op]) => !READS.test(op))
    .reduce((a, [, n]) => a + n, 0);

async function taskOf(svc: TestService): Promise<string> {
  const [t] = await waitFor(
    async () => {
      const ts = await runningTasks(svc.id);
      return ts.length === 1 && ts[0]?.containerId ? ts : undefined;
    },
    { timeoutMs: 30_000, what: `a running task of ${svc.name}` },
  );
  return t?.containerId ?? "";
}

const owner = { schedule: "test/hostile", generation: 1, run: "r-hostile" };
const labels = { "chaosctl.io/role": "guard", "chaosctl.io/schedule": owner.schedule, "chaosctl.io/run": owner.run };

function guard(fault: string, target: string, until: Date, spec: unknown, extra: Partial<HelperSpec> = {}): HelperSpec {
  return {
    image: APP_IMAGE,
    name: `chaosctl-guard-hostile-${randomBytes(4).toString("hex")}`,
    cmd: guardArgv({ fault: fault as "pause", target, until, spec }),
    labels,
    networkMode: "none",
    binds: ["/var/run/docker.sock:/var/run/docker.sock"],
    ...extra,
  };
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  dir = await mkdtemp(join(tmpdir(), "chaosctl-hostile-"));
  await writeFile(join(dir, "token"), token + "\n", { mode: 0o600 });
  web = await createTestService({ namePrefix: "chaosctl-hostile-web" });
  guarded = await createTestService({
    namePrefix: "chaosctl-hostile-protected",
    labels: { "chaosctl.io/protected": "true" },
  });
  agent = await startAgent({
    engine,
    tokenFile: join(dir, "token"),
    image: APP_IMAGE,
    dockerSocket: "/var/run/docker.sock",
    listen: "127.0.0.1",
    port: 0,
    version: "test",
    logger: silentLogger,
    maxDurationMs: HOUR,
    limits: { maxConnections: 8 },
  });
  nodeId = (await new AgentEngine({ host: "127.0.0.1", port: agent.port, key }).whoami()).nodeId;
  client = new AgentEngine({ host: "127.0.0.1", port: agent.port, key, nodeId });
});

afterAll(async () => {
  for (const c of containers) await docker(["rm", "-f", c]);
  await web?.remove();
  await guarded?.remove();
  await agent?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a hostile token holder (real agent, one-node Swarm): refused, no engine call that changes anything", () => {
  it("every case is refused with AgentRefused and the engine is left alone", async () => {
    const target = await taskOf(web);
    const protectedTask = await taskOf(guarded);
    // Stand-ins for chaosctl's own containers, labelled as the stack labels them.
    const controller = (
      await dockerOk(["run", "-d", "--network", "none", "--label", "chaosctl.io/role=controller", WEB_IMAGE])
    ).trim();
    const agentBox = (
      await dockerOk(["run", "-d", "--network", "none", "--label", "chaosctl.io/role=agent", WEB_IMAGE])
    ).trim();
    containers.push(controller, agentBox);
    const soon = new Date(Date.now() + 60_000);
    const iptables = (net: string): HelperSpec => ({
      image: APP_IMAGE,
      name: `chaosctl-helper-hostile-${randomBytes(4).toString("hex")}`,
      entrypoint: ["iptables"],
      cmd: ["-F"],
      labels: { "chaosctl.io/role": "helper" },
      networkMode: net,
      capAdd: ["NET_ADMIN"],
    });
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        "a guard with no arguments",
        () => client.startHelper({ ...guard("pause", target, soon, {}), cmd: ["guard"] }),
        /guard argv/,
      ],
      [
        "a guard with an unknown fault",
        () =>
          client.startHelper({
            ...guard("pause", target, soon, {}),
            cmd: guardArgv({ fault: "rm-rf" as "pause", target, until: soon, spec: {} }),
          }),
        /--fault must be one of/,
      ],
      [
        "a guard pausing an agent until 2099",
        () => client.startHelper(guard("pause", agentBox, new Date("2099-01-01T00:00:00Z"), {})),
        /max-duration|agent/,
      ],
      [
        "a guard pausing the controller",
        () => client.startHelper(guard("pause", controller, soon, {})),
        /chaosctl's controller/,
      ],
      [
        "a guard pausing a task until 2099",
        () => client.startHelper(guard("pause", target, new Date("2099-01-01T00:00:00Z"), {})),
        /max-duration/,
      ],
      [
        "a guard on a protected service's task",
        () => client.startHelper(guard("pause", protectedTask, soon, {})),
        /protected/,
      ],
      [
        "a network guard joining another container's namespace than its target's",
        () =>
          client.startHelper(
            guard(
              "network",
              target,
              soon,
              { loss: { probability: 1 } },
              { networkMode: `container:${controller}`, capAdd: ["NET_ADMIN"] },
            ),
          ),
        /namespace|chaosctl's controller/,
      ],
      [
        "iptables -F in the controller's namespace",
        () => client.runHelper(iptables(`container:${controller}`), 5_000),
        /chaosctl's controller/,
      ],
      [
        "iptables -F in the agent's namespace",
        () => client.runHelper(iptables(`container:${agentBox}`), 5_000),
        /chaosctl's agent/,
      ],
      ["iptables -F on the host", () => client.runHelper(iptables("host"), 5_000), /network mode host|namespace/],
      [
        "a partition guard for another node",
        () =>
          client.startHelper(
            guard("node", "someothernode0000000000000", soon, wrapNodeSpec("partition", owner, soon), {
              networkMode: "host",
              capAdd: ["NET_ADMIN"],
            }),
          ),
        /this agent is node/,
      ],
      [
        "a pause of a node that is not in the Swarm",
        () => client.startHelper(guard("node", "someothernode0000000000000", soon, wrapNodeSpec("pause", owner, soon))),
        /no node/,
      ],
      [
        "a drain of the only manager (its last active manager)",
        () => client.startHelper(guard("node", nodeId, soon, wrapNodeSpec("drain", owner, soon))),
        /LastActiveManager/,
      ],
      [
        "a partition of this node, the Swarm's only manager (quorum)",
        () =>
          client.startHelper(
            guard("node", nodeId, soon, wrapNodeSpec("partition", owner, soon), {
              networkMode: "host",
              capAdd: ["NET_ADMIN"],
            }),
          ),
        /QuorumLoss|LastActiveManager/,
      ],
      ["a kill of a protected service's task", () => client.killContainer(protectedTask, "SIGKILL"), /protected/],
      ["a kill of the controller", () => client.killContainer(controller, "SIGKILL"), /chaosctl's controller/],
      ["a pause of the agent", () => client.pauseContainer(agentBox), /chaosctl's agent/],
    ];
    const before = mutating();
    const outcomes: string[] = [];
    for (const [what, call, why] of cases) {
      const err = await call().then(
        () => new Error(`${what}: admitted`),
        (e: unknown) => e,
      );
      outcomes.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      expect(err, what).toBeInstanceOf(AgentRefused);
      expect((err as Error).message, what).toMatch(why);
    }
    expect(mutating(), outcomes.join("\n")).toBe(before);
    for (const c of [target, protectedTask, controller, agentBox])
      expect((await engine.inspectContainer(c)).state).toBe("running");
    expect(await dockerOk(["ps", "-aq", "--filter", `label=chaosctl.io/run=${owner.run}`])).toBe("");
  });

  it("the same operations, when the rules admit them, do happen (the refusals above are not blanket)", async () => {
    const target = await taskOf(web);
    const spec = guard("pause", target, new Date(Date.now() + 3_000), {});
    const id = await client.startHelper(spec);
    containers.push(id);
    await waitFor(async () => ((await engine.inspectContainer(target)).state === "paused" ? true : undefined), {
      timeoutMs: 20_000,
      what: "the admitted guard to pause its target",
    });
    await waitFor(async () => ((await engine.inspectContainer(target)).state === "running" ? true : undefined), {
      timeoutMs: 20_000,
      what: "the guard to revert at expiry",
    });
  });
});

describe("requests bound to their node", () => {
  it("a request signed for this node is refused by an agent on another node; a mutating one signed for any node too", async () => {
    const elsewhere = await startAgent({
      engine: Object.assign(Object.create(engine) as DockerEngine, {
        selfNode: async () => ({ nodeId: "othernode00000000000000000", hostname: "other" }),
      }),
      tokenFile: join(dir, "token"),
      image: APP_IMAGE,
      dockerSocket: "/var/run/docker.sock",
      listen: "127.0.0.1",
      port: 0,
      version: "test",
      logger: silentLogger,
    });
    try {
      await new AgentEngine({ host: "127.0.0.1", port: elsewhere.port, key }).whoami(); // learns its node ID
      const target = await taskOf(web);
      const body = JSON.stringify({ id: target, signal: "SIGKILL" });
      const captured = signRequest(key, "POST", "/v1/killContainer", body, new Date(), undefined, nodeId);
      const before = mutating();
      const replay = await rawPost(elsewhere.port, "/v1/killContainer", body, { ...captured });
      expect(replay.status).toBe(401);
      expect(JSON.parse(replay.text)).toMatchObject({ error: { code: "WrongNode" } });
      const unbound = signRequest(key, "POST", "/v1/killContainer", body, new Date());
      const anyNode = await rawPost(agent.port, "/v1/killContainer", body, { ...unbound });
      expect(anyNode.status).toBe(401);
      expect(JSON.parse(anyNode.text)).toMatchObject({ error: { code: "WrongNode" } });
      expect(mutating()).toBe(before);
      expect((await engine.inspectContainer(target)).state).toBe("running");
      await expect(
        new AgentEngine({ host: "127.0.0.1", port: elsewhere.port, key, nodeId }).killContainer(target, "SIGKILL"),
      ).rejects.toBeInstanceOf(AgentUnauthorized);
    } finally {
      await elsewhere.close();
    }
  });
});

describe("before authentication", () => {
  it("an oversized body is answered 413 and closed unread; a slow sender is cut; connections past the limit are dropped", async () => {
    const heap0 = process.memoryUsage().heapUsed;
    // Content-Length of 100 MB, then a trickle: the agent answers from the headers and closes.
    const big = await openRaw(agent.port);
    big.socket.write(
      "POST /v1/killContainer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
    );
    const bigSent = trickle(big.socket, 64 * 1024, 50);
    const t0 = performance.now();
    await big.closed;
    const bigMs = performance.now() - t0;
    expect(big.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(bigSent.bytes()).toBeLessThan(100_000_000);
    bigSent.stop();

    // Headers one byte at a time, never finished: closed by the headers timeout.
    const slow = await openRaw(agent.port);
    const slowSent = trickle(slow.socket, 1, 100, "POST /v1/ping HTTP/1.1\r\nHost: x\r\nX-Padding: ");
    const t1 = performance.now();
    await slow.closed;
    // Figures for docs/agent.md, not asserted (timing belongs to the docs, not to a test).
    console.log(
      `oversized body closed after ${Math.round(bigMs)} ms; slow headers after ${Math.round(performance.now() - t1)} ms`,
    );
    slowSent.stop();
    expect(slowSent.bytes()).toBeLessThan(200);

    // An unsigned request with a body under the limit: 401 from the headers, connection closed.
    const unsigned = await rawPost(agent.port, "/v1/killContainer", JSON.stringify({ id: "x", signal: "SIGKILL" }), {});
    expect(unsigned.status).toBe(401);
    expect(unsigned.connection).toBe("close");

    // 8 connections at most (pooled keep-alive sockets of this process count too): of 20 opened,
    // the ones past the limit are dropped at once, unanswered; a request works again after.
    const opened: Array<Awaited<ReturnType<typeof openRaw>>> = [];
    for (let i = 0; i < 20; i++) opened.push(await openRaw(agent.port));
    await new Promise((r) => setTimeout(r, 300));
    const open = opened.filter((o) => !o.socket.destroyed && o.socket.readyState === "open");
    expect(open.length).toBeLessThanOrEqual(8);
    expect(opened.length - open.length).toBeGreaterThanOrEqual(12);
    expect(opened.every((o) => o.received() === "")).toBe(true);
    for (const o of opened) o.socket.destroy();
    await waitFor(async () => (await client.ping().then(() => true)) || undefined, {
      timeoutMs: 5_000,
      what: "the agent to answer once the held connections are gone",
    });
    // Memory stays flat: nothing of the refused bodies was kept.
    const grew = process.memoryUsage().heapUsed - heap0;
    console.log(`heap growth over the transport cases: ${(grew / 1e6).toFixed(1)} MB`);
    expect(grew).toBeLessThan(20 * 1024 * 1024);
  });
});

function rawPost(
  port: number,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString(),
            connection: res.headers.connection,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function openRaw(port: number): Promise<{ socket: Socket; closed: Promise<void>; received: () => string }> {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (c: Buffer) => (text += c.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  await new Promise<void>((r, j) => {
    socket.once("connect", () => r());
    socket.once("error", j);
  });
  return { socket, closed, received: () => text };
}

/** Writes `chunk` bytes every `everyMs` until stopped or the socket closes (after an optional head). */
function trickle(s: Socket, chunk: number, everyMs: number, head = ""): { bytes: () => number; stop: () => void } {
  let bytes = 0;
  if (head) s.write(head.slice(0, 1));
  let i = 1;
  const timer = setInterval(() => {
    if (s.destroyed) return clearInterval(timer);
    const next = i < head.length ? head.slice(i, i + chunk) : "a".repeat(chunk);
    i += chunk;
    bytes += next.length;
    s.write(next);
  }, everyMs);
  s.once("close", () => clearInterval(timer));
  return { bytes: () => bytes, stop: () => clearInterval(timer) };
}
