// The runners against real servers on loopback (http, and the monitor driving it), and the pure
// judges of the other kinds table-tested: wrong shapes and bad input are failures with a message.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DefaultedProbe } from "../../src/api/types.js";
import type { ClusterSnapshot, Engine } from "../../src/engine/engine.js";
import { judgeCommand } from "../../src/probes/cmd.js";
import { judgeResponse } from "../../src/probes/http.js";
import { ProbeMonitor } from "../../src/probes/monitor.js";
import { judgeAnswer } from "../../src/probes/prometheus.js";
import { judgeService } from "../../src/probes/service.js";
import { silentLogger } from "../../src/util/log.js";

let server: Server;
let base = "";
/** What the test server answers on /state: toggled by the tests. */
let healthy = true;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/ok") return res.end("all ok");
    if (req.url === "/teapot") return res.writeHead(418).end("short and stout");
    if (req.url === "/slow") return void setTimeout(() => res.end("late"), 3_000);
    if (req.url === "/huge") {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const more = (): void => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      return more();
    }
    if (req.url === "/state") return res.writeHead(healthy ? 200 : 503).end(healthy ? "up" : "down");
    if (req.url === "/echo" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      return void req.on("end", () => res.end(`${String(req.headers["x-probe"] ?? "")}:${body}`));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const noEngine = {} as Engine;
const monitor = (onChange: () => void = () => {}) =>
  new ProbeMonitor({ engine: noEngine, image: "local/chaosctl:dev", logger: silentLogger, onChange });
const httpProbe = (path: string, more: Partial<DefaultedProbe> & { expect?: object } = {}): DefaultedProbe => {
  const { expect: ex, ...rest } = more;
  return {
    name: "web",
    mode: "EOT",
    interval: "100ms",
    failureThreshold: 1,
    http: { url: `${base}${path}`, method: "GET", ...(ex ? { expect: ex } : {}) },
    ...rest,
  };
};

describe("http runner", () => {
  it("passes on 2xx by default and matches the body", async () => {
    const m = monitor();
    expect(await m.checkOnce(httpProbe("/ok", { expect: { body: "^all" } }), {})).toMatchObject({ ok: true });
    const r = await m.checkOnce(httpProbe("/ok", { expect: { body: "^none" } }), {});
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/body does not match \/\^none\/: "all ok"/);
  });

  it("a status outside the expectation fails, a listed one passes", async () => {
    const m = monitor();
    expect((await m.checkOnce(httpProbe("/teapot"), {})).message).toMatch(/status 418, expected 2xx/);
    expect((await m.checkOnce(httpProbe("/teapot", { expect: { status: "200,418" } }), {})).ok).toBe(true);
    expect((await m.checkOnce(httpProbe("/teapot", { expect: { status: 418 } }), {})).ok).toBe(true);
  });

  it("sends method, headers and body", async () => {
    const p = httpProbe("/echo", { expect: { body: "^hello:ping$" } });
    p.http = { ...p.http!, method: "POST", headers: { "x-probe": "hello" }, body: "ping" };
    expect(await monitor().checkOnce(p, {})).toMatchObject({ ok: true });
  });

  it("a slow answer fails at the timeout", async () => {
    const r = await monitor().checkOnce(httpProbe("/slow", { timeout: "300ms" }), {});
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/no answer within 300 ms/) });
  });

  it("a huge body fails without reading it all", async () => {
    const r = await monitor().checkOnce(httpProbe("/huge"), {});
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/larger than 1 MiB/) });
  });

  it("a refused connection fails with the socket's reason", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const p = httpProbe("/");
    p.http = { url: `http://127.0.0.1:${port}/`, method: "GET" };
    const r = await monitor().checkOnce(p, {});
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/ECONNREFUSED/);
  });

  it("judgeResponse: default 2xx, classes and lists", () => {
    expect(judgeResponse(undefined, 204, "").ok).toBe(true);
    expect(judgeResponse(undefined, 301, "").ok).toBe(false);
    expect(judgeResponse({ status: "3xx,404" }, 404, "").ok).toBe(true);
  });
});

describe("monitor", () => {
  it("a Continuous probe past its threshold decides an abort and wakes the controller", async () => {
    healthy = true;
    let woke = 0;
    const m = monitor(() => woke++);
    const p = httpProbe("/state", { mode: "Continuous", failureThreshold: 2 });
    m.startDuring("ns/s", "run-1", [p], "before");
    await new Promise((r) => setTimeout(r, 350));
    expect(m.abortOf("run-1")).toBeUndefined();
    healthy = false;
    const t0 = Date.now();
    while (!m.abortOf("run-1") && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    const abort = m.abortOf("run-1");
    expect(abort).toMatchObject({ probe: "web", message: expect.stringMatching(/status 503/) });
    expect(woke).toBe(1);
    m.endDuring("ns/s", "run-1", [p]);
    const lines = m.lines("run-1")!;
    expect(lines[0]).toMatchObject({
      name: "web",
      mode: "Continuous",
      verdict: "Fail",
      lastError: expect.stringMatching(/503/),
    });
    expect(lines[0]!.passed).toBeGreaterThan(0);
    expect(lines[0]!.failed).toBeGreaterThanOrEqual(2);
    m.forget("run-1");
    healthy = true;
  });

  it("SOT against a down endpoint returns the failure; EOT passes once the endpoint is back", async () => {
    healthy = false;
    const m = monitor();
    const sot = httpProbe("/state", { mode: "Edge", failureThreshold: 2 });
    expect(await m.sot("ns/s", "run-2", [sot])).toMatchObject({ probe: "web", message: expect.stringMatching(/503/) });
    healthy = true;
    const m2 = monitor();
    expect(await m2.sot("ns/s", "run-3", [sot])).toBeUndefined();
    let done = false;
    m2.onChange = () => (done = true);
    m2.endDuring("ns/s", "run-3", [sot]);
    const t0 = Date.now();
    while (!done && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(m2.settled("run-3")).toBe(true);
    expect(m2.lines("run-3")).toEqual([{ name: "web", mode: "Edge", verdict: "Pass", passed: 2, failed: 0 }]);
  });

  it("a throwing runner is a failed check, not an error", async () => {
    const m = new ProbeMonitor({
      engine: noEngine,
      image: "x",
      logger: silentLogger,
      runners: {
        http: { check: () => Promise.reject(new Error("boom")) },
        cmd: { check: () => new Promise(() => {}) },
        prometheus: { check: () => Promise.reject(new Error("no")) },
        service: { check: () => Promise.reject(new Error("no")) },
      },
    });
    expect(await m.checkOnce(httpProbe("/ok"), {})).toEqual({ ok: false, message: "boom" });
  });
});

describe("prometheus judge", () => {
  const vec = (...vals: string[]) => ({
    status: "success",
    data: {
      resultType: "vector",
      result: vals.map((v, i) => ({ metric: { __name__: "up", job: `j${i}` }, value: [1, v] })),
    },
  });
  const cases: Array<[string, unknown, "<" | ">=" | "==", number, boolean, RegExp]> = [
    [
      "scalar holds",
      { status: "success", data: { resultType: "scalar", result: [1, "0.01"] } },
      "<",
      0.05,
      true,
      /0.01 < 0.05/,
    ],
    [
      "scalar does not hold",
      { status: "success", data: { resultType: "scalar", result: [1, "0.2"] } },
      "<",
      0.05,
      false,
      /scalar 0.2 is not < 0.05/,
    ],
    ["every sample holds", vec("1", "1"), ">=", 1, true, /2 sample/],
    ["one sample does not", vec("1", "0"), ">=", 1, false, /up\{job="j1"\} = 0 is not >= 1/],
    ["empty vector", vec(), "==", 1, false, /no samples/],
    ["NaN sample", vec("NaN"), "==", 1, false, /NaN is not == 1/],
    ["matrix", { status: "success", data: { resultType: "matrix", result: [] } }, "==", 1, false, /matrix result/],
    [
      "string",
      { status: "success", data: { resultType: "string", result: [1, "x"] } },
      "==",
      1,
      false,
      /string result/,
    ],
    [
      "error answer",
      { status: "error", errorType: "bad_data", error: "parse error" },
      "==",
      1,
      false,
      /bad_data: parse error/,
    ],
    ["not an object", [1, 2], "==", 1, false, /not a JSON object/],
    [
      "sample without value",
      { status: "success", data: { resultType: "vector", result: [{ metric: {} }] } },
      "==",
      1,
      false,
      /without a value/,
    ],
  ];
  it.for(cases)("%s", ([, answer, op, value, ok, message]) => {
    const r = judgeAnswer(answer, op, value);
    expect(r.ok).toBe(ok);
    expect(r.message).toMatch(message);
  });
});

describe("service judge", () => {
  const snap = (over: Partial<ClusterSnapshot>): ClusterSnapshot => ({
    at: new Date(0),
    selfNodeId: "n1",
    nodes: [],
    services: [
      { id: "s1", name: "web", labels: {}, mode: "replicated", replicas: 2, hasHealthcheck: true, version: 1 },
    ],
    tasks: [1, 2].map((i) => ({
      id: `t${i}`,
      serviceId: "s1",
      nodeId: "n1",
      slot: i,
      desiredState: "running",
      state: "running",
      timestamp: "",
      createdAt: "",
      message: "",
      containerId: `c${i}`,
      networks: [],
    })),
    containers: [1, 2].map((i) => ({
      id: `c${i}`,
      names: [],
      image: "",
      labels: {},
      state: "running" as const,
      health: "healthy" as const,
      created: 0,
    })),
    ...over,
  });
  it("steady when every desired task runs (and is healthy)", () => {
    expect(judgeService(snap({}), "web", true)).toMatchObject({
      ok: true,
      message: "service web: 2 of 2 tasks running, healthy",
    });
  });
  it("a paused or missing task is not running", () => {
    const s = snap({});
    s.containers[0]!.state = "paused";
    expect(judgeService(s, "web", false).message).toBe("service web: 1 of 2 tasks running (1 paused)");
    expect(judgeService(snap({ tasks: snap({}).tasks.slice(1) }), "web", false).ok).toBe(false);
  });
  it("unhealthy only matters with healthy: true", () => {
    const s = snap({});
    s.containers[1]!.health = "unhealthy";
    expect(judgeService(s, "web", false).ok).toBe(true);
    expect(judgeService(s, "web", true).message).toMatch(/1 task\(s\) not healthy: t2 unhealthy/);
  });
  it("scaled to zero or unknown is not steady", () => {
    const s = snap({});
    s.services[0]!.replicas = 0;
    expect(judgeService(s, "web", false).message).toMatch(/scaled to 0/);
    expect(judgeService(s, "db", false).message).toBe("service db not found");
  });
});

describe("cmd judge", () => {
  it("exit 0 and an optional stdout match", () => {
    expect(judgeCommand(0, "ok\n", "", undefined).ok).toBe(true);
    expect(judgeCommand(0, "ok\n", "", "^ok$").ok).toBe(false);
    expect(judgeCommand(0, "ok\n", "", "^ok").ok).toBe(true);
    expect(judgeCommand(1, "", "wget: can't connect", undefined).message).toBe("exit code 1: wget: can't connect");
  });
});
