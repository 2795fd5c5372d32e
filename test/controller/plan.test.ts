import { describe, expect, it } from "vitest";
import {
  plan,
  defaultPlanConfig,
  runId,
  type PlanInput,
  type StartRun,
  type SkipRun,
  HOLD_RETRY_MS,
} from "../../src/controller/plan.js";
import { T0, guard, manifest, node, seeded, service, snapshot, task } from "../support/builders.js";

const web = service("web", 3);
const db = service("db", 2);
const input = (over: Partial<PlanInput>): PlanInput => ({
  now: T0,
  manifests: [],
  invalidKeys: new Set(),
  snapshot: snapshot([web, db]),
  injections: [],
  config: defaultPlanConfig,
  random: seeded(7),
  ...over,
});
const starts = (p: ReturnType<typeof plan>): StartRun[] => p.actions.filter((a): a is StartRun => a.type === "start");
const skips = (p: ReturnType<typeof plan>): SkipRun[] => p.actions.filter((a): a is SkipRun => a.type === "skip");
const kill = { kill: { signal: "SIGKILL" } };

describe("plan: selection", () => {
  it.each([
    ["one", { services: ["web"], mode: "one" }, 1],
    ["all keeps one task untouched by default", { services: ["web"], mode: "all" }, 2],
    ["fixed 2", { services: ["web"], mode: "fixed", value: "2" }, 2],
    ["fixed-percent 34% of 3 rounds down", { services: ["web"], mode: "fixed-percent", value: "34" }, 1],
    ["stack filter that matches nothing", { stack: "other" }, 0],
    ["services across web and db, all, never all of either", { services: ["web", "db"], mode: "all" }, 3],
  ])("%s", (_n, selector, want) => {
    const p = plan(input({ manifests: [manifest("s", { selector, fault: kill })] }));
    const got = starts(p)[0]?.targets.length ?? 0;
    expect(got).toBe(want);
    if (want === 0) expect(skips(p)[0]?.reason).toBe("NoTargets");
  });

  it("random-max-percent picks between 1 and the maximum, never more", () => {
    const big = service("big", 10);
    for (let seed = 1; seed < 50; seed++) {
      const p = plan(
        input({
          snapshot: snapshot([big]),
          random: seeded(seed),
          manifests: [
            manifest("s", { selector: { services: ["big"], mode: "random-max-percent", value: "50" }, fault: kill }),
          ],
        }),
      );
      const n = starts(p)[0]?.targets.length ?? 0;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(5);
    }
  });

  it("filters by node labels, roles and names", () => {
    const snap = snapshot([web]);
    snap.nodes = [node("n1", { labels: { zone: "a" } }), node("n2", { role: "worker", labels: { zone: "b" } })];
    snap.tasks = [task(web, "n1", { id: "web.1" }), task(web, "n2", { id: "web.2" }), task(web, "n2", { id: "web.3" })];
    const sel = (s: object) =>
      starts(
        plan(
          input({
            snapshot: snap,
            manifests: [manifest("s", { selector: { services: ["web"], mode: "all", ...s }, fault: kill })],
          }),
        ),
      )[0]
        ?.targets.map((t) => t.taskId)
        .sort();
    expect(sel({ nodeLabels: { zone: "b" } })).toEqual(["web.2", "web.3"]);
    expect(sel({ nodeRoles: ["manager"] })).toEqual(["web.1"]);
    expect(sel({ nodes: ["host-n2"] })).toEqual(["web.2", "web.3"]);
  });

  it("never targets protected services, chaosctl itself, or tasks that are not running", () => {
    const prot = service("prot", 3, { labels: { "chaosctl.io/protected": "true" } });
    const self = service("chaosctl", 3, { labels: { "chaosctl.io/role": "controller" } });
    const snap = snapshot([prot, self, web]);
    snap.tasks = snap.tasks.map((t) => (t.id === "web.1" ? { ...t, state: "starting" } : t));
    const p = plan(
      input({
        snapshot: snap,
        manifests: [
          manifest("s", {
            selector: { serviceLabels: {}, mode: "all", services: ["prot", "chaosctl", "web"] },
            fault: kill,
          }),
        ],
      }),
    );
    expect(starts(p)[0]?.targets.map((t) => t.taskId)).toEqual(["web.2"]);
  });

  it("opt-in mode takes only services labelled chaosctl.io/enabled=true", () => {
    const on = service("on", 2, { labels: { "chaosctl.io/enabled": "true" } });
    const p = plan(
      input({
        snapshot: snapshot([on, web]),
        config: { ...defaultPlanConfig, requireOptIn: true },
        manifests: [manifest("s", { selector: { services: ["on", "web"], mode: "all" }, fault: kill })],
      }),
    );
    expect(starts(p)[0]?.services).toEqual(["on"]);
  });
});

describe("plan: safety", () => {
  it("a one-task service is never emptied by default, but allowAll permits it", () => {
    const solo = service("solo", 1);
    const m = (safety: object) => manifest("s", { selector: { services: ["solo"] }, fault: kill, safety });
    expect(skips(plan(input({ snapshot: snapshot([solo]), manifests: [m({})] })))[0]?.reason).toBe(
      "WouldFaultAllTasks",
    );
    expect(
      starts(plan(input({ snapshot: snapshot([solo]), manifests: [m({ allowAll: true })] })))[0]?.targets,
    ).toHaveLength(1);
  });

  it("maxUnavailable holds across schedules: the second run in one pass is skipped and says why", () => {
    const a = manifest("a", { selector: { services: ["web"] }, fault: kill, safety: { maxUnavailable: 1 } });
    const b = manifest("b", { selector: { services: ["web"] }, fault: kill, safety: { maxUnavailable: 1 } });
    const p = plan(input({ manifests: [a, b] }));
    expect(starts(p).map((s) => s.key)).toEqual(["default/a"]);
    expect(skips(p)[0]).toMatchObject({ key: "default/b", reason: "MaxUnavailable" });
    expect(skips(p)[0]?.message).toContain("service web: 1 task(s) unavailable + 1 more would exceed maxUnavailable 1");
  });

  it("two schedules in one pass never pick the same task", () => {
    for (let seed = 1; seed < 30; seed++) {
      const a = manifest("a", { selector: { services: ["web"] }, fault: kill });
      const b = manifest("b", { selector: { services: ["web"] }, fault: { pause: {} }, duration: "10s" });
      const p = plan(input({ manifests: [a, b], random: seeded(seed) }));
      const tasks = starts(p).flatMap((s) => s.targets.map((t) => t.taskId));
      expect(tasks).toHaveLength(2);
      expect(new Set(tasks).size).toBe(2);
    }
  });

  it("maxUnavailable counts tasks Swarm has not replaced yet and tasks faulted by other schedules", () => {
    const snap = snapshot([web]);
    snap.tasks = snap.tasks.filter((t) => t.id !== "web.3"); // one task missing
    const m = manifest("a", { selector: { services: ["web"] }, fault: kill, safety: { maxUnavailable: "34%" } });
    expect(skips(plan(input({ snapshot: snap, manifests: [m] })))[0]?.reason).toBe("MaxUnavailable");
    const paused = guard("default/other", "r1", "web.1");
    const m2 = manifest("a", { selector: { services: ["web"] }, fault: kill, safety: { maxUnavailable: 1 } });
    expect(skips(plan(input({ manifests: [m2], injections: [paused] })))[0]?.reason).toBe("MaxUnavailable");
  });
});

describe("plan: network faults compose on one task", () => {
  const solo = service("solo", 1);
  const bw = { network: { bandwidth: { rate: "1mbit" } } };
  const delay = { netem: { delay: { time: "100ms" } } };
  const on = (name: string, fault: object, safety: object = { allowAll: true }) =>
    manifest(name, { selector: { services: ["solo"] }, fault, duration: "60s", safety });
  const faulted = (fault: "netem" | "network" | "pause") => guard("default/first", "r1", "solo.1", { fault });

  it("a bandwidth cap joins a task that carries a netem delay (and back), without spending budget", () => {
    const p1 = plan(
      input({
        snapshot: snapshot([solo]),
        manifests: [on("bw", bw, { allowAll: true, maxUnavailable: 1 })],
        injections: [faulted("netem")],
      }),
    );
    expect(starts(p1)[0]?.targets.map((t) => t.taskId)).toEqual(["solo.1"]);
    const p2 = plan(
      input({ snapshot: snapshot([solo]), manifests: [on("d", delay)], injections: [faulted("network")] }),
    );
    expect(starts(p2)[0]?.targets.map((t) => t.taskId)).toEqual(["solo.1"]);
  });

  it("never the same kind twice, never onto a paused task, never a kill onto a network-faulted task", () => {
    expect(
      skips(plan(input({ snapshot: snapshot([solo]), manifests: [on("d", delay)], injections: [faulted("netem")] })))[0]
        ?.reason,
    ).toBe("NoTargets");
    expect(
      skips(plan(input({ snapshot: snapshot([solo]), manifests: [on("bw", bw)], injections: [faulted("pause")] })))[0]
        ?.reason,
    ).toBe("NoTargets");
    expect(
      skips(
        plan(
          input({
            snapshot: snapshot([solo]),
            manifests: [manifest("k", { selector: { services: ["solo"] }, fault: kill, safety: { allowAll: true } })],
            injections: [faulted("netem")],
          }),
        ),
      )[0]?.reason,
    ).toBe("NoTargets");
  });

  it("in one pass: a delay and a cap from two schedules land on the same task; a third network schedule of a kind already there does not", () => {
    const p = plan(input({ snapshot: snapshot([solo]), manifests: [on("a", delay), on("b", bw), on("c", delay)] }));
    expect(starts(p).map((s) => [s.key, s.targets.map((t) => t.taskId)])).toEqual([
      ["default/a", ["solo.1"]],
      ["default/b", ["solo.1"]],
    ]);
    expect(skips(p)[0]).toMatchObject({ key: "default/c", reason: "NoTargets" });
  });

  it("the keep-one-task rule counts only new tasks: a stacked cap passes where a fresh task would empty the service", () => {
    // web: 3 tasks; web.1 delayed (netem), web.2 paused. mode all: web.3 would leave no task untouched, web.1 costs nothing.
    const injections = [
      guard("default/d", "r1", "web.1", { fault: "netem" }),
      guard("default/p", "r2", "web.2", { fault: "pause" }),
    ];
    const p = plan(
      input({
        manifests: [manifest("bw", { selector: { services: ["web"], mode: "all" }, fault: bw, duration: "60s" })],
        injections,
      }),
    );
    expect(starts(p)[0]?.targets.map((t) => t.taskId)).toEqual(["web.1"]);
    expect(starts(p)[0]?.note).toMatch(/left untouched/);
  });
});

describe("plan: schedules, concurrency and reverts", () => {
  const pause = { pause: {} };
  it("@once fires once per generation, with a stable run id", () => {
    const m = manifest("p", { selector: { services: ["web"] }, fault: pause, duration: "10s" }, { generation: 3 });
    const s = starts(plan(input({ manifests: [m] })))[0];
    expect(s).toMatchObject({ fault: "pause", durationMs: 10_000, run: runId("default/p", 3, T0), generation: 3 });
    const done = manifest(
      "p",
      { selector: { services: ["web"] }, fault: pause, duration: "10s" },
      { generation: 3, status: { lastScheduleGeneration: 3 } },
    );
    expect(plan(input({ manifests: [done] })).actions).toEqual([]);
  });

  it("the controller-wide cap bounds a fault's duration", () => {
    const m = manifest("p", { selector: { services: ["web"] }, fault: pause, duration: "2h" });
    expect(
      starts(plan(input({ manifests: [m], config: { ...defaultPlanConfig, maxDurationMs: 60_000 } })))[0]?.durationMs,
    ).toBe(60_000);
  });

  it.each([
    ["Forbid skips while a run is active", "Forbid", ["skip"]],
    ["Allow starts another", "Allow", ["start"]],
    ["Replace reverts the active run, then starts", "Replace", ["revert", "start"]],
  ])("%s", (_n, concurrencyPolicy, want) => {
    const m = manifest(
      "p",
      { schedule: "@every 1m", concurrencyPolicy, selector: { services: ["web"] }, fault: pause, duration: "5m" },
      { status: { lastScheduleTime: new Date(T0.getTime() - 60_000).toISOString() } },
    );
    const active = guard("default/p", "old", "web.1", { expires: new Date(T0.getTime() + 240_000) });
    const p = plan(input({ manifests: [m], injections: [active] }));
    expect(p.actions.map((a) => a.type)).toEqual(want);
  });

  it.each([
    ["suspend reverts at once and schedules nothing", { suspend: true }, [], "Suspended"],
    ["a deleted manifest loses what it injected", null, [], "Deleted"],
    ["a new generation ends the previous generation's runs", {}, [], "SpecChanged"],
    ["the kill switch reverts everything", {}, ["killSwitch"], "KillSwitch"],
  ] as [string, object | null, string[], string][])("%s", (_n, specOver, flags, reason) => {
    const h = guard("default/p", "r1", "web.1", { expires: new Date(T0.getTime() + 60_000), generation: 1 });
    const ms =
      specOver === null
        ? []
        : [
            manifest(
              "p",
              { schedule: "@every 1h", selector: { services: ["web"] }, fault: pause, duration: "5m", ...specOver },
              {
                generation: reason === "SpecChanged" ? 2 : 1,
                status: { lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 1 },
              },
            ),
          ];
    const p = plan(
      input({
        manifests: ms,
        injections: [h],
        config: { ...defaultPlanConfig, killSwitch: flags.includes("killSwitch") },
      }),
    );
    expect(p.actions.filter((a) => a.type === "revert")).toEqual([{ type: "revert", handle: h, reason }]);
    expect(starts(p)).toEqual([]);
  });

  it("a guard that died with an error is reverted directly, whoever owns it", () => {
    const dead = guard("default/p", "r1", "web.1", {
      guardState: "exited",
      guardExitCode: 137,
      expires: new Date(T0.getTime() + 60_000),
    });
    const done = guard("default/p", "r0", "web.2", { guardState: "exited", guardExitCode: 0 });
    const m = manifest(
      "p",
      { schedule: "@every 1h", selector: { services: ["web"] }, fault: { pause: {} }, duration: "5m" },
      { status: { lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 1 } },
    );
    expect(plan(input({ manifests: [m], injections: [dead, done] })).actions).toEqual([
      { type: "revert", handle: dead, reason: "GuardFailed" },
    ]);
  });

  it("an invalid manifest keeps what it injected until expiry, and the guard's lateness is caught", () => {
    const h = guard("default/p", "r1", "web.1", { expires: new Date(T0.getTime() + 10_000) });
    const kept = plan(input({ invalidKeys: new Set(["default/p"]), injections: [h] }));
    expect(kept.actions).toEqual([]);
    expect(kept.wakeAt?.getTime()).toBe(T0.getTime() + 10_050);
    const late = plan(
      input({ now: new Date(T0.getTime() + 16_000), invalidKeys: new Set(["default/p"]), injections: [h] }),
    );
    expect(late.actions).toEqual([{ type: "revert", handle: h, reason: "Expired" }]);
  });

  it("a missed run is recorded as skipped, an unsupported fault says so", () => {
    const late = manifest(
      "k",
      { schedule: "@every 1m", selector: { services: ["web"] }, fault: kill, startingDeadline: "10s" },
      { status: { nextScheduleTime: new Date(T0.getTime() - 30_000).toISOString() } },
    );
    const node = manifest("n", {
      selector: { nodeRoles: ["worker"] },
      fault: { node: { action: "drain" } },
      duration: "1m",
    });
    const p = plan(input({ manifests: [late, node] }));
    expect(skips(p).map((s) => s.reason)).toEqual(["MissedStartingDeadline", "FaultUnsupported"]);
  });

  it("wakes for the next schedule time", () => {
    const m = manifest(
      "k",
      { schedule: "@every 1m", selector: { services: ["web"] }, fault: kill },
      { status: { lastScheduleTime: new Date(T0.getTime() - 20_000).toISOString() } },
    );
    expect(plan(input({ manifests: [m] })).wakeAt).toEqual(new Date(T0.getTime() + 40_000));
  });
});

describe("plan: probes", () => {
  const pauseSpec = { schedule: "@every 1m", selector: { services: ["web"] }, fault: { pause: {} }, duration: "5m" };
  const due = {
    status: { lastScheduleTime: new Date(T0.getTime() - 60_000).toISOString(), lastScheduleGeneration: 1 },
  };

  it("an aborted run: every injection of it reverted (ProbeFailed), other runs untouched", () => {
    const a1 = guard("default/p", "r1", "web.1", { expires: new Date(T0.getTime() + 60_000) });
    const a2 = guard("default/p", "r1", "web.2", { expires: new Date(T0.getTime() + 60_000) });
    const other = guard("default/q", "r9", "web.3", { expires: new Date(T0.getTime() + 60_000) });
    const ms = [
      manifest(
        "p",
        { ...pauseSpec, schedule: "@every 1h", concurrencyPolicy: "Allow" },
        { status: { lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 1 } },
      ),
      manifest(
        "q",
        { ...pauseSpec, schedule: "@every 1h" },
        { status: { lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 1 } },
      ),
    ];
    const p = plan(input({ manifests: ms, injections: [a1, a2, other], aborted: new Set(["r1"]) }));
    expect(p.actions).toEqual([
      { type: "revert", handle: a1, reason: "ProbeFailed" },
      { type: "revert", handle: a2, reason: "ProbeFailed" },
    ]);
  });

  it("a halted schedule starts nothing although its run is due; others start", () => {
    const ms = [manifest("p", pauseSpec, due), manifest("q", pauseSpec, due)];
    expect(starts(plan(input({ manifests: ms }))).map((a) => a.key)).toEqual(["default/p", "default/q"]);
    const p = plan(input({ manifests: ms, halted: new Set(["default/p"]) }));
    expect(starts(p).map((a) => a.key)).toEqual(["default/q"]);
    expect(skips(p)).toEqual([]);
  });

  it("the stop condition reverts everything (StopCondition) and starts nothing", () => {
    const h = guard("default/p", "r1", "web.1", { expires: new Date(T0.getTime() + 60_000) });
    const p = plan(
      input({ manifests: [manifest("p", pauseSpec, due)], injections: [h], stopCondition: "alerts firing" }),
    );
    expect(p.actions).toEqual([{ type: "revert", handle: h, reason: "StopCondition" }]);
  });
});

describe("plan: a run held back for a reason that may pass", () => {
  const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
  // Two of web's three tasks held by other schedules: a third would leave none untouched.
  const busy = [guard("default/web-kill", "k1", "web.1"), guard("default/web-loss", "l1", "web.2")];
  const pause = manifest("p", { selector: { services: ["web"] }, fault: { pause: {} }, duration: "30s" });
  const withStatus = (status: object) =>
    manifest("p", { selector: { services: ["web"] }, fault: { pause: {} }, duration: "30s" }, { status });

  it("is not spent: held until the starting deadline, kept as the next run, retried soon; the message names the tasks and their holders", () => {
    const p = plan(input({ manifests: [pause], injections: busy }));
    expect(starts(p)).toEqual([]);
    const held = skips(p)[0];
    expect(held).toMatchObject({ key: "default/p", reason: "WouldFaultAllTasks", scheduledAt: T0, retryUntil: at(60) });
    expect(held?.message).toBe(
      "faulting any more would leave no running task untouched (safety.allowAll is false): " +
        "service web: 3 desired, 3 running; held: web.1 by default/web-kill, web.2 by default/web-loss",
    );
    expect(p.schedules.get("default/p")?.next).toEqual(T0);
    expect(p.wakeAt).toEqual(at(HOLD_RETRY_MS / 1000));
  });

  it("keeps its nominal time and run id across passes, starts once the tasks are free, within the deadline", () => {
    const run = runId("default/p", 1, T0);
    const waiting = { run, generation: 1, scheduledAt: T0.toISOString(), reason: "WouldFaultAllTasks", message: "m" };
    const again = skips(plan(input({ now: at(30), manifests: [withStatus({ waiting })], injections: busy })))[0];
    expect(again).toMatchObject({ run, scheduledAt: T0, retryUntil: at(60) });
    const freed = starts(plan(input({ now: at(40), manifests: [withStatus({ waiting })], injections: busy.slice(1) })));
    expect(freed[0]).toMatchObject({ run, scheduledAt: T0 });
  });

  it("is spent at the starting deadline: Skipped with the reason it was held for", () => {
    const run = runId("default/p", 1, T0);
    const waiting = { run, generation: 1, scheduledAt: T0.toISOString(), reason: "WouldFaultAllTasks", message: "m" };
    const p = plan(input({ now: at(61), manifests: [withStatus({ waiting })], injections: busy }));
    const spent = skips(p)[0];
    expect(spent?.retryUntil).toBeUndefined();
    expect(spent).toMatchObject({ run, reason: "WouldFaultAllTasks" });
    expect(spent?.message).toMatch(/; held back until the starting deadline passed$/);
  });

  it("@every: a held run keeps its nominal time; past the deadline it is skipped for the reason it was held", () => {
    const every = (status: object) =>
      manifest(
        "e",
        { schedule: "@every 10m", selector: { services: ["web"] }, fault: { pause: {} }, duration: "30s" },
        { status },
      );
    const first = plan(input({ manifests: [every({})], injections: busy }));
    expect(skips(first)[0]).toMatchObject({ retryUntil: at(60) });
    expect(first.schedules.get("default/e")?.next).toEqual(T0);
    const run = runId("default/e", 1, T0);
    const waiting = { run, generation: 1, scheduledAt: T0.toISOString(), reason: "MaxUnavailable", message: "m" };
    const late = plan(
      input({ now: at(90), manifests: [every({ waiting, nextScheduleTime: T0.toISOString() })], injections: busy }),
    );
    expect(skips(late)[0]).toMatchObject({
      run,
      reason: "MaxUnavailable",
      message: "m; held back until the starting deadline passed",
    });
    expect(skips(late)[0]?.retryUntil).toBeUndefined();
  });

  it("a service still recovering is said so: desired, running, and the task on its way", () => {
    const snap = snapshot([web]);
    const t3 = snap.tasks.find((t) => t.id === "web.3");
    if (t3) Object.assign(t3, { state: "starting", containerId: undefined });
    const p = plan(input({ snapshot: snap, manifests: [pause], injections: busy.slice(0, 1) }));
    expect(skips(p)[0]?.message).toBe(
      "faulting any more would leave no running task untouched (safety.allowAll is false): " +
        "service web: 3 desired, 2 running; held: web.1 by default/web-kill; 1 still recovering (web.3 starting)",
    );
  });

  it("no running task because the service is recovering: held; because of opt-in or a selector matching no service: spent", () => {
    const snap = snapshot([web]);
    for (const t of snap.tasks) Object.assign(t, { state: "starting" });
    const recovering = skips(plan(input({ snapshot: snap, manifests: [pause] })))[0];
    expect(recovering).toMatchObject({ reason: "NoTargets", retryUntil: at(60) });
    expect(recovering?.message).toBe(
      "no running task matches the selector yet: service web: 3 desired, 0 running; 3 still recovering (web.1 starting, web.2 starting, web.3 starting)",
    );
    const optIn = plan(input({ manifests: [pause], config: { ...defaultPlanConfig, requireOptIn: true } }));
    expect(skips(optIn)[0]).toMatchObject({ reason: "NoTargets" });
    expect(skips(optIn)[0]?.retryUntil).toBeUndefined();
    const none = manifest("n", { selector: { services: ["nope"] }, fault: kill });
    expect(skips(plan(input({ manifests: [none] })))[0]?.retryUntil).toBeUndefined();
  });

  it("reasons that do not pass are spent at once: an unsupported fault", () => {
    const p = plan(
      input({
        manifests: [manifest("x", { selector: { services: ["web"] }, fault: kill })],
        config: { ...defaultPlanConfig, supportedFaults: new Set(["pause"]) },
      }),
    );
    expect(skips(p)[0]).toMatchObject({ reason: "FaultUnsupported" });
    expect(skips(p)[0]?.retryUntil).toBeUndefined();
  });
});
