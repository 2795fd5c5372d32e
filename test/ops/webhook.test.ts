// Webhooks against a real HTTP receiver on loopback: order, retries after a 500, nothing lost
// across an outage shorter than the queue, a bounded queue, and a loop that never waits.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebhookSender } from "../../src/ops/webhook/sender.js";
import { WebhookNotifier } from "../../src/ops/webhook/notifier.js";
import { passEvents, webhookBody, type ChaosEvent } from "../../src/ops/webhook/events.js";
import { webhookMetrics } from "../../src/ops/webhook/metrics.js";
import { Registry } from "../../src/ops/metrics/registry.js";
import { webhookUrl } from "../../src/ops/wire.js";
import type { PassFacts } from "../../src/controller/observer.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import { silentLogger } from "../../src/util/log.js";
import { parseExposition } from "./prom.js";

type Handler = (body: string, res: ServerResponse) => void;

/** A receiver on a fixed loopback port that can go down and come back on the same port. */
class Receiver {
  bodies: string[] = [];
  handler: Handler = (_b, res) => res.end("ok");
  private server?: Server;
  port = 0;
  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
  async up(): Promise<void> {
    const server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => this.handler(body, res));
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", () => r()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];
afterEach(async () => {
  senders.splice(0).forEach((s) => s.close());
  await Promise.all(receivers.splice(0).map((r) => r.down()));
});

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  receivers.push(r);
  await r.up();
  return r;
}

function sender(url: string, extra: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}): WebhookSender {
  const s = new WebhookSender({
    url,
    logger: silentLogger,
    backoffMs: 10,
    maxBackoffMs: 50,
    timeoutMs: 2_000,
    ...extra,
  });
  senders.push(s);
  return s;
}

const until = async (ok: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("webhook sender (real HTTP receiver)", () => {
  it("delivers in order and retries after a 500", async () => {
    const rx = await receiver();
    let fails = 2;
    rx.handler = (body, res) => {
      if (body === '"b"' && fails-- > 0) {
        res.statusCode = 500;
        return res.end("busy");
      }
      rx.bodies.push(body);
      res.end("ok");
    };
    const registry = new Registry();
    const s = sender(rx.url, { stats: webhookMetrics(registry) });
    for (const x of ["a", "b", "c", "d"]) s.enqueue(JSON.stringify(x));
    await s.drained();
    expect(rx.bodies).toEqual(['"a"', '"b"', '"c"', '"d"']);
    const m = parseExposition(registry.expose());
    expect(m.get("chaosctl_webhook_failures_total")).toBe(2);
    expect(m.get("chaosctl_webhook_deliveries_total")).toBe(4);
    expect(m.get("chaosctl_webhook_queue_length")).toBe(0);
  });

  it("loses nothing across a receiver outage shorter than the queue", async () => {
    const rx = await receiver();
    rx.handler = (body, res) => {
      rx.bodies.push(body);
      res.end("ok");
    };
    const s = sender(rx.url, { capacity: 100 });
    s.enqueue('"before"');
    await s.drained();
    await rx.down(); // connection refused from now on
    for (let i = 0; i < 50; i++) s.enqueue(JSON.stringify(`during-${i}`));
    await new Promise((r) => setTimeout(r, 200)); // several failed attempts while down
    expect(rx.bodies).toEqual(['"before"']);
    expect(s.length).toBe(50);
    await rx.up(); // same port
    await s.drained();
    expect(rx.bodies).toEqual(['"before"', ...Array.from({ length: 50 }, (_, i) => `"during-${i}"`)]);
  });

  it("a full queue drops the oldest event and counts it", async () => {
    const rx = await receiver();
    await rx.down();
    const registry = new Registry();
    const s = sender(rx.url, { capacity: 3, stats: webhookMetrics(registry) });
    for (let i = 0; i < 5; i++) s.enqueue(String(i));
    expect(s.length).toBe(3);
    const dropped = parseExposition(registry.expose());
    expect(dropped.get("chaosctl_webhook_dropped_total", { why: "full" })).toBe(2);
    rx.handler = (body, res) => {
      rx.bodies.push(body);
      res.end();
    };
    await rx.up();
    await s.drained();
    // The head was in flight when the queue overflowed: 0 stays, 1 and 2 make room for 3 and 4.
    expect(rx.bodies).toEqual(["0", "3", "4"]);
  });

  it("a 4xx is not retried: counted as rejected, the next event goes out", async () => {
    const rx = await receiver();
    rx.handler = (body, res) => {
      rx.bodies.push(body);
      res.statusCode = body === '"bad"' ? 400 : 200;
      res.end();
    };
    const registry = new Registry();
    const s = sender(rx.url, { stats: webhookMetrics(registry) });
    s.enqueue('"bad"');
    s.enqueue('"good"');
    await s.drained();
    expect(rx.bodies).toEqual(['"bad"', '"good"']);
    expect(parseExposition(registry.expose()).get("chaosctl_webhook_dropped_total", { why: "rejected" })).toBe(1);
  });
});

const history = (result: string, extra: Record<string, unknown> = {}): ChaosScheduleStatus => ({
  history: [
    {
      run: "r1",
      fault: "kill",
      services: ["web"],
      tasks: ["task0123456789abcdef"],
      result: result as never,
      startedAt: "2026-01-01T10:00:00Z",
      source: { commit: "abcdef0123456789", path: "chaos/web.yaml" },
      ...extra,
    },
  ],
});

function facts(
  statuses: Array<[string, ChaosScheduleStatus | undefined, ChaosScheduleStatus]>,
  started: string[] = [],
): PassFacts {
  return {
    plan: {
      actions: started.map((key) => ({
        type: "start",
        key,
        generation: 1,
        run: "r1",
        scheduledAt: new Date(),
        fault: "kill",
        faultSpec: {},
        targets: [
          {
            kind: "container",
            nodeId: "n1",
            nodeHostname: "node-1",
            serviceName: "web",
            taskId: "task0123456789abcdef",
          },
        ],
        services: ["web"],
      })),
      schedules: new Map(),
    } as unknown as PassFacts["plan"],
    statuses: new Map(statuses.map(([k, prev, next]) => [k, { ...(prev ? { prev } : {}), next }])),
  };
}

describe("webhook events", () => {
  const at = new Date("2026-01-01T10:00:05Z");

  it("started, then ended with verdict and healing; never twice", () => {
    const seen = new Set<string>();
    const s = passEvents(facts([["default/web", undefined, history("Running")]], ["default/web"]), at, seen);
    expect(s.map((e) => e.type)).toEqual(["run.started"]);
    expect(s[0]).toMatchObject({
      schedule: "default/web",
      run: "r1",
      fault: "kill",
      targets: ["task task01234567 of web on node-1"],
      source: { commit: "abcdef0123456789", path: "chaos/web.yaml" },
    });
    expect(s[0]?.text).toBe(
      "chaos: default/web started a kill run on task task01234567 of web on node-1 (from chaos/web.yaml at abcdef012345).",
    );
    const ended = history("Succeeded", { verdict: "Pass", recovery: "Recovered", recoverySeconds: 4.2 });
    const e = passEvents(facts([["default/web", history("Running"), ended]]), at, seen);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ type: "run.ended", result: "Succeeded", verdict: "Pass", recoverySeconds: 4.2 });
    expect(e[0]?.text).toContain("ended Succeeded, verdict Pass, healed in 4.2s");
    // The same transition again (a status write that did not land): not repeated.
    expect(passEvents(facts([["default/web", history("Running"), ended]]), at, seen)).toEqual([]);
  });

  it("aborted and halted", () => {
    const prev = history("Running");
    const next = {
      ...history("Aborted", { reason: "ProbeFailed", message: "web-up failed 2 times", verdict: "Fail" }),
      conditions: [{ type: "Halted", status: "True" as const, reason: "ProbeFailed", message: "probe web-up failed" }],
    };
    const e = passEvents(facts([["default/web", prev, next]]), at, new Set());
    expect(e.map((x) => x.type)).toEqual(["run.aborted", "schedule.halted"]);
    expect(e[0]?.text).toContain("was ABORTED (ProbeFailed): web-up failed 2 times");
    expect(e[1]?.text).toContain("no run starts until `chaosctl resume default/web`");
  });

  it("a dry run or a skip is no event; slack posts only text", () => {
    expect(passEvents(facts([["k", undefined, history("DryRun")]], ["k"]), at, new Set())).toEqual([]);
    expect(passEvents(facts([["k", undefined, history("Skipped")]], ["k"]), at, new Set())).toEqual([]);
    const ev: ChaosEvent = { type: "killswitch.on", time: at.toISOString(), text: "hi" };
    expect(JSON.parse(webhookBody(ev, "slack"))).toEqual({ text: "hi" });
    expect(JSON.parse(webhookBody(ev, "json"))).toEqual(ev);
  });
});

describe("webhook notifier", () => {
  it("never makes the loop wait: passEnded returns while the receiver holds the request", async () => {
    const rx = await receiver();
    const held: ServerResponse[] = [];
    rx.handler = (body, res) => {
      rx.bodies.push(body);
      held.push(res); // answered only at the end
    };
    const s = sender(rx.url, { timeoutMs: 30_000 });
    const events: ChaosEvent[] = [];
    const n = new WebhookNotifier({ sender: s, format: "json", logger: silentLogger, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 20; i++) {
      const prev = { history: [{ run: `r${i}`, fault: "kill", result: "Running" as const }] };
      const next = { history: [{ run: `r${i}`, fault: "kill", result: "Succeeded" as const }] };
      n.passEnded({ startedAt: new Date(), endedAt: new Date(), result: facts([["default/web", prev, next]]) });
    }
    // All 20 passes returned; the receiver has at most the first request, unanswered.
    expect(events).toHaveLength(20);
    expect(s.length).toBe(20);
    await until(() => held.length === 1, "the first request");
    expect(rx.bodies).toHaveLength(1);
    rx.handler = (body, res) => {
      rx.bodies.push(body);
      res.end();
    };
    held[0]?.end();
    await s.drained();
    expect(rx.bodies.map((b) => (JSON.parse(b) as ChaosEvent).run)).toEqual(
      Array.from({ length: 20 }, (_, i) => `r${i}`),
    );
  });

  it("kill switch on and off", async () => {
    const bodies: string[] = [];
    let on = false;
    const n = new WebhookNotifier({
      sender: { enqueue: (b) => bodies.push(b) },
      format: "slack",
      logger: silentLogger,
      killSwitch: async () => on,
    });
    const pass = async () => {
      n.passEnded({ startedAt: new Date(), endedAt: new Date(), result: facts([]) });
      await new Promise((r) => setTimeout(r, 5));
    };
    await pass(); // off at start: nothing to say
    on = true;
    await pass();
    await pass();
    on = false;
    await pass();
    expect(bodies.map((b) => (JSON.parse(b) as { text: string }).text)).toEqual([
      "chaos: the KILL SWITCH is on: every injection is being reverted and nothing new starts.",
      "chaos: the kill switch is off: schedules run again.",
    ]);
  });
});

describe("--webhook-url-file", () => {
  it("reads an http(s) URL and never echoes the file's content", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chaosctl-hook-"));
    const f = join(dir, "url");
    await writeFile(f, "https://hooks.example.com/services/T0/B0/secret\n");
    expect(await webhookUrl(f)).toBe("https://hooks.example.com/services/T0/B0/secret");
    await writeFile(f, "not a url secret-token");
    await expect(webhookUrl(f)).rejects.toThrow(/does not hold a URL/);
    await expect(webhookUrl(f)).rejects.not.toThrow(/secret-token/);
    await writeFile(f, "file:///etc/passwd");
    await expect(webhookUrl(f)).rejects.toThrow(/only http and https/);
    await expect(webhookUrl(join(dir, "missing"))).rejects.toThrow(/--webhook-url-file/);
  });
});
