// Network faults in the pure planner: per-target resolution at start, re-resolution when
// destination tasks move, targets that are gone, and replacements in mode all.
import { describe, expect, it } from "vitest";
import { plan, defaultPlanConfig, type Action, type PlanInput, type StartRun } from "../../src/controller/plan.js";
import { deriveStatus, type RunEvent } from "../../src/controller/status.js";
import type { ClusterSnapshot, TaskInfo } from "../../src/engine/engine.js";
import type { InjectionHandle } from "../../src/faults/driver.js";
import { T0, guard, manifest, seeded, service, snapshot, task } from "../support/builders.js";

const web = service("web", 2);
const db = service("db", 1);
const net = (network: string, ip: string) => ({ network, addresses: [`${ip}/24`] });

/** web.1, web.2 and db.1 on overlay "app"; web.2 also on "other", where db has no task. */
function cluster(dbIp = "10.0.1.9"): ClusterSnapshot {
  const s = snapshot([web, db]);
  s.tasks = [
    task(web, "n1", { id: "web.1", slot: 1, networks: [net("app", "10.0.1.2"), net("ingress", "10.0.0.2")] }),
    task(web, "n1", { id: "web.2", slot: 2, networks: [net("app", "10.0.1.3")] }),
    task(db, "n1", { id: "db.1", slot: 1, networks: [net("app", dbIp), net("ingress", "10.0.0.9")] }),
  ];
  return s;
}

const input = (over: Partial<PlanInput>): PlanInput => ({
  now: T0,
  manifests: [],
  invalidKeys: new Set(),
  snapshot: cluster(),
  injections: [],
  config: defaultPlanConfig,
  random: seeded(3),
  ...over,
});
const of = <T extends Action["type"]>(p: { actions: Action[] }, type: T) =>
  p.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
const at = (s: number) => new Date(T0.getTime() + s * 1000);

const partition = { network: { partition: { from: { services: ["db"] }, direction: "both" } } };
const schedule = (fault: object, over: Record<string, unknown> = {}, status?: object) =>
  manifest(
    "cut",
    { selector: { services: ["web"], mode: "all" }, fault, duration: "60s", safety: { allowAll: true }, ...over },
    status ? { status } : {},
  );

/** An active network injection on `taskId`, as observed from its guard's labels. */
const injected = (taskId: string, spec: object, over: Partial<InjectionHandle> = {}): InjectionHandle =>
  guard("default/cut", "r1", taskId, {
    fault: "network",
    expires: at(60),
    spec: { injection: { schedule: "default/cut", run: "r1" }, spec },
    ...over,
  });

describe("network faults: resolution when a run starts", () => {
  it("each target gets its own resolved spec: the service's addresses on networks it shares, never ingress", () => {
    const s = of(plan(input({ manifests: [schedule(partition)] })), "start")[0] as StartRun;
    expect(s.targets.map((t) => t.taskId)).toEqual(expect.arrayContaining(["web.1", "web.2"]));
    const byTask = Object.fromEntries(s.targets.map((t, i) => [t.taskId, s.targetSpecs?.[i]]));
    expect(byTask["web.1"]).toEqual({ partition: { cidrs: ["10.0.1.9/32"], direction: "both" } });
    expect(byTask["web.2"]).toEqual({ partition: { cidrs: ["10.0.1.9/32"], direction: "both" } });
    expect(s.note).toBeUndefined();
  });

  it("a service with no address on a shared network is named in the run's note (and cuts nothing)", () => {
    const snap = cluster();
    snap.tasks = snap.tasks.map((t) => (t.id === "web.2" ? { ...t, networks: [net("other", "10.0.2.3")] } : t));
    const s = of(plan(input({ snapshot: snap, manifests: [schedule(partition)] })), "start")[0] as StartRun;
    const i = s.targets.findIndex((t) => t.taskId === "web.2");
    expect(s.targetSpecs?.[i]).toEqual({ partition: { cidrs: [], direction: "both" } });
    expect(s.note).toBe(
      "service db has no task address on a network shared with web.2: no traffic to or from it is affected",
    );
  });

  it("netem: `to.services` become CIDRs, ports kept; without `to` the spec passes unchanged", () => {
    const netem = { netem: { delay: { time: "100ms" }, to: { services: ["db"], ports: [5432] } } };
    const s = of(plan(input({ manifests: [schedule(netem)] })), "start")[0] as StartRun;
    expect(s.targetSpecs?.[0]).toEqual({ delay: { time: "100ms" }, to: { cidrs: ["10.0.1.9/32"], ports: [5432] } });
    const plain = of(
      plan(input({ manifests: [schedule({ netem: { loss: { percent: 5 } } })] })),
      "start",
    )[0] as StartRun;
    expect(plain.targetSpecs).toEqual([{ loss: { percent: 5 } }, { loss: { percent: 5 } }]);
  });

  it("a destination the drivers would refuse skips the run with InvalidSpec, before anything starts", () => {
    const bad = { network: { partition: { from: { cidrs: ["10.0.0.300/8"] } } } };
    const p = plan(input({ manifests: [schedule(bad)] }));
    expect(of(p, "start")).toEqual([]);
    expect(of(p, "skip")[0]).toMatchObject({ reason: "InvalidSpec", message: expect.stringContaining("10.0.0.300/8") });
  });

  it("container faults carry no per-target specs", () => {
    const s = of(plan(input({ manifests: [schedule({ pause: {} })] })), "start")[0] as StartRun;
    expect(s.targetSpecs).toBeUndefined();
  });
});

describe("network faults: destinations that move", () => {
  const old = { partition: { cidrs: ["10.0.1.9/32"], direction: "both" } };
  const run = { lastScheduleGeneration: 1, lastScheduleTime: T0.toISOString() };

  it.each([
    [
      "db's task moved to a new address: re-apply with it",
      cluster("10.0.1.20"),
      0,
      [{ partition: { cidrs: ["10.0.1.20/32"], direction: "both" } }],
    ],
    ["nothing moved: nothing to do", cluster(), 0, []],
    [
      "db has no address this instant (replacement not allocated): keep what is in force",
      (() => {
        const s = cluster();
        s.tasks = s.tasks.filter((t) => t.serviceId !== db.id);
        return s;
      })(),
      0,
      [],
    ],
    ["less than 2 s of the run left: let it end", cluster("10.0.1.20"), 58.5, []],
  ] as [string, ClusterSnapshot, number, object[]][])("%s", (_n, snap, seconds, want) => {
    const h = injected("web.1", old);
    const p = plan(
      input({ now: at(seconds), snapshot: snap, manifests: [schedule(partition, {}, run)], injections: [h] }),
    );
    expect(of(p, "reapply")).toEqual(want.map((faultSpec) => ({ type: "reapply", handle: h, faultSpec })));
    expect(of(p, "revert")).toEqual([]);
  });

  it("a handle without a guard spec of ours is never re-applied", () => {
    const h = { ...injected("web.1", old), spec: undefined };
    expect(
      plan(input({ snapshot: cluster("10.0.1.20"), manifests: [schedule(partition, {}, run)], injections: [h] }))
        .actions,
    ).toEqual([]);
  });
});

describe("targets that go away; replacements in mode all", () => {
  const loss = { network: { loss: { probability: 0.5 } } };
  const lossSpec = { loss: { probability: 0.5 } };
  const run = {
    lastScheduleGeneration: 1,
    lastScheduleTime: T0.toISOString(),
    history: [
      { run: "r1", generation: 1, fault: "network", result: "Running" as const, tasks: ["web.1", "web.2"], targets: 2 },
    ],
  };
  /** web.1 killed: its task failed; `replacement` (if any) runs in its slot. */
  const afterKill = (replacement?: Partial<TaskInfo>): ClusterSnapshot => {
    const s = cluster();
    s.tasks = s.tasks.map((t) => (t.id === "web.1" ? { ...t, state: "failed", desiredState: "shutdown" } : t));
    if (replacement)
      s.tasks.push(task(web, "n1", { id: "web.1b", slot: 1, networks: [net("app", "10.0.1.4")], ...replacement }));
    return s;
  };
  const handles = () => [injected("web.1", lossSpec), injected("web.2", lossSpec)];

  it("mode all: the task in the gone target's slot joins the run, same run id and expiry; the gone one is dropped", () => {
    const [h1, h2] = handles();
    const p = plan(
      input({ now: at(10), snapshot: afterKill({}), manifests: [schedule(loss, {}, run)], injections: [h1!, h2!] }),
    );
    expect(of(p, "revert")).toEqual([{ type: "revert", handle: h1, reason: "TargetGone" }]);
    expect(of(p, "extend")).toEqual([
      {
        type: "extend",
        key: "default/cut",
        generation: 1,
        run: "r1",
        fault: "network",
        expires: at(60),
        replaces: "web.1",
        faultSpec: lossSpec,
        target: expect.objectContaining({ taskId: "web.1b", containerId: "ctr-web.1b", serviceName: "web" }),
      },
    ]);
    expect(of(p, "start")).toEqual([]);
  });

  it("mode all, partition: the replacement gets the destinations resolved for itself", () => {
    const cut = { partition: { cidrs: ["10.0.1.9/32"], direction: "both" } };
    const p = plan(
      input({
        now: at(10),
        snapshot: afterKill({}),
        manifests: [schedule(partition, {}, run)],
        injections: [injected("web.1", cut), injected("web.2", cut)],
      }),
    );
    expect(of(p, "extend")[0]?.faultSpec).toEqual(cut);
  });

  it.each([
    ["Swarm has not started the replacement yet: the gone target is held, nothing else", undefined, 10, []],
    ["a task in a new slot (scale-up) is not a replacement", { id: "web.3", slot: 3 }, 10, []],
    ["a replacement that is not running yet waits", { state: "starting" }, 10, []],
    ["less than 2 s left: no replacement, the run ends as it is", {}, 58.5, []],
  ] as [string, Partial<TaskInfo> | undefined, number, Action[]][])("%s", (_n, replacement, seconds, want) => {
    const p = plan(
      input({
        now: at(seconds),
        snapshot: afterKill(replacement),
        manifests: [schedule(loss, {}, run)],
        injections: handles(),
      }),
    );
    expect(p.actions).toEqual(want);
  });

  it("a replacement already tried by this run (listed in its record) is not tried again", () => {
    const tried = { ...run, history: [{ ...run.history[0]!, tasks: ["web.1", "web.2", "web.1b"] }] };
    const p = plan(
      input({ now: at(10), snapshot: afterKill({}), manifests: [schedule(loss, {}, tried)], injections: handles() }),
    );
    expect(of(p, "extend")).toEqual([]);
  });

  it("without allowAll, the replacement is injected only while another task stays untouched", () => {
    const keep = schedule(loss, { safety: {} }, run);
    // web.2 is faulted and web.1b would be the only other running task: never all of them.
    expect(
      of(plan(input({ now: at(10), snapshot: afterKill({}), manifests: [keep], injections: handles() })), "extend"),
    ).toEqual([]);
  });

  it.each(["one", "fixed", "fixed-percent", "random-max-percent"])(
    "mode %s: the gone target is recorded TargetGone and its replacement is not injected",
    (mode) => {
      const [h1, h2] = handles();
      const m = schedule(loss, { selector: { services: ["web"], mode, value: "1" } }, run);
      const p = plan(input({ now: at(10), snapshot: afterKill({}), manifests: [m], injections: [h1!, h2!] }));
      expect(p.actions).toEqual([{ type: "revert", handle: h1, reason: "TargetGone" }]);
    },
  );

  it("container faults too: a paused target that is gone is dropped, once", () => {
    const h = guard("default/cut", "r1", "web.1", { expires: at(60) });
    const m = schedule({ pause: {} }, {}, run);
    expect(plan(input({ now: at(10), snapshot: afterKill({}), manifests: [m], injections: [h] })).actions).toEqual([
      { type: "revert", handle: h, reason: "TargetGone" },
    ]);
    const collected = { ...h, guardState: "exited", guardExitCode: 0 };
    expect(
      plan(input({ now: at(11), snapshot: afterKill({}), manifests: [m], injections: [collected] })).actions,
    ).toEqual([]);
  });
});

describe("status of network runs", () => {
  const target = (taskId: string) => ({
    kind: "container" as const,
    nodeId: "n1",
    serviceId: web.id,
    serviceName: "web",
    taskId,
    containerId: `ctr-${taskId}`,
  });
  const m = schedule({ network: { loss: { probability: 0.5 } } });
  const started: RunEvent = {
    type: "started",
    run: "r1",
    generation: 1,
    fault: "network",
    scheduledAt: T0,
    targets: [target("web.1"), target("web.2")],
    services: ["web"],
  };
  const applied: RunEvent = {
    type: "applied",
    run: "r1",
    results: [
      { target: target("web.1"), ok: true },
      { target: target("web.2"), ok: true },
    ],
  };

  it("a replacement counts as a target of the run; the gone task is recorded, not an error", () => {
    const s1 = deriveStatus({
      now: T0,
      manifest: m.manifest,
      injections: [],
      events: [started, applied],
      snapshot: cluster(),
      recoveryTimeoutMs: 600_000,
    });
    const live = guard("default/cut", "r1", "web.1b", { fault: "network", expires: at(60) });
    const s2 = deriveStatus({
      now: at(10),
      manifest: m.manifest,
      prev: s1,
      injections: [live, guard("default/cut", "r1", "web.2", { fault: "network", expires: at(60) })],
      snapshot: cluster(),
      recoveryTimeoutMs: 600_000,
      events: [
        { type: "reverted", run: "r1", reason: "TargetGone", ok: true, task: "web.1" },
        { type: "extended", run: "r1", replaces: "web.1", result: { target: target("web.1b"), ok: true } },
      ],
    });
    expect(s2.history?.[0]).toMatchObject({
      result: "Running",
      targets: 3,
      tasks: ["web.1", "web.2", "web.1b"],
      message:
        "target task web.1 gone: nothing to revert; task web.1b replaced web.1: injected for the rest of the run",
    });
    expect(s2.history?.[0]?.reason).toBeUndefined();
  });

  it("status.active marks a held injection whose task is gone", () => {
    const snap = cluster();
    snap.tasks = snap.tasks.map((t) => (t.id === "web.1" ? { ...t, state: "failed" } : t));
    const hs = [
      guard("default/cut", "r1", "web.1", { fault: "network", expires: at(60) }),
      guard("default/cut", "r1", "web.2", { fault: "network", expires: at(60) }),
    ];
    const s = deriveStatus({
      now: T0,
      manifest: m.manifest,
      injections: hs,
      events: [started, applied],
      snapshot: snap,
      recoveryTimeoutMs: 600_000,
    });
    expect(s.active?.map((a) => [a.task, a.state])).toEqual([
      ["web.1", "TargetGone"],
      ["web.2", undefined],
    ]);
  });

  it("a failed re-apply is said in the run's message", () => {
    const s1 = deriveStatus({
      now: T0,
      manifest: m.manifest,
      injections: [],
      events: [started, applied],
      snapshot: cluster(),
      recoveryTimeoutMs: 600_000,
    });
    // As the controller leaves it: the old guard reverted, nothing re-applied; the run ends there.
    const reverted = guard("default/cut", "r1", "web.1", {
      fault: "network",
      expires: at(60),
      guardState: "exited",
      guardExitCode: 0,
    });
    const s2 = deriveStatus({
      now: at(5),
      manifest: m.manifest,
      prev: s1,
      injections: [reverted],
      snapshot: cluster(),
      recoveryTimeoutMs: 600_000,
      events: [{ type: "reapplied", run: "r1", task: "web.1", ok: false, reason: "ApplyTimeout", message: "slow" }],
    });
    expect(s2.history?.[0]).toMatchObject({
      result: "Succeeded",
      endedAt: at(5).toISOString(),
      message: "task web.1 destinations moved: re-apply failed: ApplyTimeout (slow)",
    });
  });
});
