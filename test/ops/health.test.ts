// Health (pure liveness) and the operations port on loopback: /metrics parses, /healthz follows
// the loop, /readyz follows the engine and the store and names the role.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Health, liveness } from "../../src/ops/health.js";
import { parseListenAddr, startOpsServer, type OpsServer } from "../../src/ops/server.js";
import { ControllerMetrics } from "../../src/ops/metrics/controller-metrics.js";
import { silentLogger } from "../../src/util/log.js";
import { parseExposition } from "./prom.js";

describe("liveness (pure)", () => {
  it.each([
    ["recent activity", { now: 100_000, lastBeat: 95_000, stuckAfterMs: 90_000 }, true],
    ["silent too long", { now: 200_000, lastBeat: 100_000, stuckAfterMs: 90_000 }, false],
    [
      "a pass running too long, though the elector beats",
      { now: 200_000, lastBeat: 199_000, passStartedAt: 100_000, stuckAfterMs: 90_000 },
      false,
    ],
    [
      "a pass running, within the bound",
      { now: 200_000, lastBeat: 199_000, passStartedAt: 150_000, stuckAfterMs: 90_000 },
      true,
    ],
  ])("%s", (_n, input, ok) => {
    expect(liveness(input).ok).toBe(ok);
  });
});

describe("parseListenAddr", () => {
  it.each([
    [":9464", { host: "0.0.0.0", port: 9464 }],
    ["9464", { host: "0.0.0.0", port: 9464 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::1]:80", { host: "::1", port: 80 }],
  ])("%s", (addr, expected) => expect(parseListenAddr(addr)).toEqual(expected));
  it("refuses nonsense", () => expect(() => parseListenAddr("host:port")).toThrow(/metrics-addr/));
});

describe("operations server (loopback)", () => {
  let server: OpsServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves /metrics, /healthz, /readyz; writes and removes the HEALTHCHECK marker", async () => {
    let now = 1_000_000;
    let engineUp = false;
    let role = "standby";
    const health = new Health({
      stuckAfterMs: 90_000,
      clock: () => now,
      role: () => role,
      pingEngine: async () => {
        if (!engineUp) throw new Error("connect ENOENT /var/run/docker.sock");
      },
    });
    const metrics = new ControllerMetrics();
    dir = await mkdtemp(join(tmpdir(), "chaosctl-ops-"));
    const marker = join(dir, "health-url");
    server = await startOpsServer({
      addr: "127.0.0.1:0",
      registry: metrics.registry,
      health,
      logger: silentLogger,
      markerFile: marker,
    });
    expect((await readFile(marker, "utf8")).trim()).toBe(`${server.url}/healthz`);
    const get = async (p: string) => {
      const r = await fetch(`${server!.url}${p}`);
      return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
    };
    const m = await get("/metrics");
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseExposition(m.text).types.get("chaosctl_reconcile_pass_duration_seconds")).toBe("histogram");

    expect((await get("/healthz")).status).toBe(200);
    let ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ role: "standby", store: "not loaded" });
    expect(JSON.parse(ready.text).engine).toMatch(/unreachable/);
    engineUp = true;
    health.markStoreLoaded();
    ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ status: "ready", role: "standby", engine: "ok", store: "loaded" });
    role = "leader";
    expect(JSON.parse((await get("/readyz")).text).role).toBe("leader");

    now += 91_000; // nothing beat for longer than the bound
    const stuck = await get("/healthz");
    expect(stuck.status).toBe(503);
    expect(JSON.parse(stuck.text).status).toBe("stuck");
    health.beat();
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/nope")).status).toBe(404);
    await server.close();
    server = undefined;
    await expect(readFile(marker, "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("an engine that never answers makes /readyz fail within its bound", async () => {
    const health = new Health({ stuckAfterMs: 90_000, role: () => "leader", pingEngine: () => new Promise(() => {}) });
    health.markStoreLoaded();
    const t0 = Date.now();
    const p = await health.ready(300);
    expect(p.ok).toBe(false);
    expect(p.body.engine).toMatch(/no answer within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
