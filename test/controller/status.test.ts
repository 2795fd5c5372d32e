import { describe, expect, it } from "vitest";
import { deriveStatus, type RunEvent, type StatusInput } from "../../src/controller/status.js";
import { T0, guard, manifest, service, snapshot, task } from "../support/builders.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";

const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const web = service("web", 2);
const kill = manifest("k", { selector: { services: ["web"] }, fault: { kill: {} } });
const pause = manifest("p", { selector: { services: ["web"] }, fault: { pause: {} }, duration: "10s" });
const target = {
  kind: "container" as const,
  nodeId: "n1",
  serviceId: web.id,
  serviceName: "web",
  taskId: "web.1",
  containerId: "ctr-web.1",
};
const started = (fault: "kill" | "pause" | "process"): RunEvent => ({
  type: "started",
  run: "r1",
  generation: 1,
  fault,
  scheduledAt: T0,
  targets: [target],
  services: ["web"],
});
const input = (over: Partial<StatusInput>): StatusInput => ({
  now: T0,
  manifest: kill.manifest,
  injections: [],
  events: [],
  snapshot: snapshot([web]),
  recoveryTimeoutMs: 600_000,
  ...over,
});

/** A 10 s pause of web.1 applied at T0, its guard running: the guard and the status derived then. */
function pauseRunning() {
  const g = guard("default/p", "r1", "web.1", { expires: at(10), since: T0 });
  const s1 = deriveStatus(
    input({
      manifest: pause.manifest,
      injections: [g],
      events: [started("pause"), { type: "applied", run: "r1", results: [{ target, ok: true }] }],
    }),
  );
  return { g, s1 };
}

describe("deriveStatus", () => {
  it("records a kill, then measures healing from Swarm's task timestamps", () => {
    const s1 = deriveStatus(
      input({ events: [started("kill"), { type: "applied", run: "r1", results: [{ target, ok: true }] }] }),
    );
    expect(s1.history?.[0]).toMatchObject({
      run: "r1",
      result: "Succeeded",
      targets: 1,
      tasks: ["web.1"],
      recovery: "Pending",
      endedAt: T0.toISOString(),
    });
    expect(s1).toMatchObject({ lastScheduleTime: T0.toISOString(), lastScheduleGeneration: 1, phase: "Completed" });

    // Swarm has not replaced it yet: web.1 is gone, web.2 runs, 1 of 2.
    const half = snapshot([web], { at: at(1) });
    half.tasks = half.tasks.filter((t) => t.id !== "web.1");
    const s2 = deriveStatus(input({ now: at(1), prev: s1, snapshot: half }));
    expect(s2.history?.[0]?.recovery).toBe("Pending");

    // The replacement entered "running" at +3.4 s; observed at +5 s.
    const healed = snapshot([web], { at: at(5) });
    healed.tasks = [...half.tasks, task(web, "n1", { id: "web.1b", timestamp: at(3.4).toISOString() })];
    const s3 = deriveStatus(input({ now: at(5), prev: s2, snapshot: healed }));
    expect(s3.history?.[0]).toMatchObject({
      recovery: "Recovered",
      recoverySeconds: 3.4,
      recoveredAt: at(3.4).toISOString(),
    });
  });

  it("a process fault leaves its task: healed as soon as the service runs its tasks, the signalled one included", () => {
    const proc = manifest("pr", { selector: { services: ["web"] }, fault: { process: { name: "worker" } } });
    const s1 = deriveStatus(
      input({
        manifest: proc.manifest,
        events: [started("process"), { type: "applied", run: "r1", results: [{ target, ok: true }] }],
      }),
    );
    expect(s1.history?.[0]).toMatchObject({ result: "Succeeded", recovery: "Pending" });
    const s2 = deriveStatus(
      input({ manifest: proc.manifest, now: at(1), prev: s1, snapshot: snapshot([web], { at: at(1) }) }),
    );
    expect(s2.history?.[0]).toMatchObject({ recovery: "Recovered", recoverySeconds: 0 });
  });

  it("the killed task still shown running does not count as healed", () => {
    const s1 = deriveStatus(
      input({ events: [started("kill"), { type: "applied", run: "r1", results: [{ target, ok: true }] }] }),
    );
    const stale = snapshot([web], { at: at(0.2) });
    expect(deriveStatus(input({ now: at(0.2), prev: s1, snapshot: stale })).history?.[0]?.recovery).toBe("Pending");
  });

  it("with a healthcheck, a running but unhealthy replacement is not healed", () => {
    const hweb = service("web", 2, { hasHealthcheck: true });
    const s1 = deriveStatus(
      input({
        snapshot: snapshot([hweb]),
        events: [started("kill"), { type: "applied", run: "r1", results: [{ target, ok: true }] }],
      }),
    );
    const snap = snapshot([hweb], { at: at(4) });
    snap.tasks = snap.tasks.map((t) =>
      t.id === "web.1"
        ? { ...t, id: "web.1b", containerId: "c-new", createdAt: at(1).toISOString(), timestamp: at(2).toISOString() }
        : t,
    );
    snap.containers = [
      { id: "c-new", names: [], image: "x", labels: {}, state: "running", health: "starting", created: 0 },
    ];
    expect(deriveStatus(input({ now: at(4), prev: s1, snapshot: snap })).history?.[0]?.recovery).toBe("Pending");
    snap.containers = [{ ...snap.containers[0]!, health: "healthy" }];
    const snap2 = { ...snap, at: at(6) };
    expect(deriveStatus(input({ now: at(6), prev: s1, snapshot: snap2 })).history?.[0]).toMatchObject({
      recovery: "Recovered",
      recoverySeconds: 6,
    });
    // Docker's health_status event time is used when the controller saw it.
    const snap3 = { ...snap2, healthyAt: { "c-new": at(5.2).toISOString() } };
    expect(deriveStatus(input({ now: at(6), prev: s1, snapshot: snap3 })).history?.[0]).toMatchObject({
      recovery: "Recovered",
      recoverySeconds: 5.2,
    });
  });

  it("a pause stays Running and Active while its guard runs, and ends when the guard has reverted", () => {
    const { g, s1 } = pauseRunning();
    expect(s1.phase).toBe("Active");
    expect(s1.history?.[0]?.result).toBe("Running");
    expect(s1.active).toEqual([
      {
        run: "r1",
        fault: "pause",
        service: "web",
        task: "web.1",
        container: "ctr-web.1",
        node: "n1",
        since: T0.toISOString(),
        until: at(10).toISOString(),
      },
    ]);
    const done = { ...g, guardState: "exited", guardExitCode: 0 };
    const s2 = deriveStatus(
      input({
        manifest: pause.manifest,
        now: at(10.3),
        prev: s1,
        injections: [done],
        snapshot: snapshot([web], { at: at(10.3) }),
      }),
    );
    expect(s2.history?.[0]).toMatchObject({
      result: "Succeeded",
      endedAt: at(10).toISOString(),
      recovery: "Recovered",
      recoverySeconds: 0,
    });
    expect(s2.active).toEqual([]);
    expect(s2.phase).toBe("Completed");
  });

  it("a pause whose task Swarm ended mid-fault ends when the task did, and its healing is measured from there", () => {
    const { g, s1 } = pauseRunning();
    // Observed at +7 s: web.1 failed at +4 s (its healthcheck, say), web.1b running since +6 s;
    // the guard found its target gone and exited.
    const later = snapshot([web], { at: at(7) });
    later.tasks = [
      ...later.tasks.map((t) =>
        t.id === "web.1" ? { ...t, state: "failed", desiredState: "shutdown", timestamp: at(4).toISOString() } : t,
      ),
      task(web, "n1", { id: "web.1b", timestamp: at(6).toISOString() }),
    ];
    const done = { ...g, guardState: "exited", guardExitCode: 0 };
    const s2 = deriveStatus(
      input({ manifest: pause.manifest, now: at(7), prev: s1, injections: [done], snapshot: later }),
    );
    expect(s2.history?.[0]).toMatchObject({
      result: "Succeeded",
      endedAt: at(4).toISOString(),
      recovery: "Recovered",
      recoverySeconds: 2,
    });
    // A task being replaced but still running has not ended: the run ends when the controller sees it.
    const replacing = snapshot([web], { at: at(7) });
    replacing.tasks = replacing.tasks.map((t) =>
      t.id === "web.1" ? { ...t, desiredState: "shutdown", timestamp: at(1).toISOString() } : t,
    );
    const s3 = deriveStatus(
      input({ manifest: pause.manifest, now: at(7), prev: s1, injections: [done], snapshot: replacing }),
    );
    expect(s3.history?.[0]?.endedAt).toBe(at(7).toISOString());
  });

  it("a pause whose whole window passed while its guard started (driver: Done) is Failed ExpiredBeforeApplied, not Interrupted", () => {
    const s1 = deriveStatus(
      input({
        manifest: pause.manifest,
        events: [started("pause"), { type: "applied", run: "r1", results: [{ target, ok: true, phase: "Done" }] }],
      }),
    );
    expect(s1.history?.[0]).toMatchObject({
      result: "Failed",
      reason: "ExpiredBeforeApplied",
      recovery: "NotApplicable",
    });
    expect(s1.history?.[0]?.message).toMatch(/--guard-timeout/);
    // Injected on one target, expired on the other: the run goes on (the guard settles it).
    const s2 = deriveStatus(
      input({
        manifest: pause.manifest,
        events: [
          started("pause"),
          {
            type: "applied",
            run: "r1",
            results: [
              { target, ok: true, phase: "Injected" },
              { target, ok: true, phase: "Done" },
            ],
          },
        ],
      }),
    );
    expect(s2.history?.[0]?.result).toBe("Running");
  });

  it("a run whose outcome was never recorded is Interrupted, never repeated", () => {
    const prev: ChaosScheduleStatus = deriveStatus(input({ events: [started("kill")] }));
    expect(prev.history?.[0]?.result).toBe("Running");
    const s = deriveStatus(input({ now: at(30), prev }));
    expect(s.history?.[0]).toMatchObject({ result: "Interrupted", reason: "ControllerRestarted" });
    expect(s.lastScheduleGeneration).toBe(1);
  });

  it("all targets failing makes the run Failed with the reason", () => {
    const s = deriveStatus(
      input({
        events: [
          started("kill"),
          {
            type: "applied",
            run: "r1",
            results: [{ target, ok: false, reason: "ContainerNotFound", message: "gone" }],
          },
        ],
      }),
    );
    expect(s.history?.[0]).toMatchObject({ result: "Failed", reason: "ContainerNotFound" });
    expect(s.history?.[0]?.message).toContain("1 of 1 target(s) failed: web.1: ContainerNotFound (gone)");
    expect(s.phase).toBe("Failed");
  });

  it("history is bounded; lastTransitionTime moves only on a flip", () => {
    let st: ChaosScheduleStatus | undefined;
    const m = manifest("k", {
      schedule: "@every 1m",
      historyLimit: 3,
      selector: { services: ["web"] },
      fault: { kill: {} },
    });
    for (let i = 0; i < 6; i++) {
      st = deriveStatus(
        input({
          manifest: m.manifest,
          now: at(i * 60),
          ...(st ? { prev: st } : {}),
          events: [
            {
              type: "skipped",
              run: `r${i}`,
              generation: 1,
              fault: "kill",
              scheduledAt: at(i * 60),
              reason: "NoTargets",
              message: "none",
            },
          ],
        }),
      );
    }
    expect(st?.history?.map((r) => r.run)).toEqual(["r3", "r4", "r5"]);
    expect(st?.conditions?.[0]?.lastTransitionTime).toBe(T0.toISOString());
  });
});

describe("deriveStatus: held-back and skipped runs", () => {
  const skipped = (over: Partial<Extract<RunEvent, { type: "skipped" }>> = {}): RunEvent => ({
    type: "skipped",
    run: "r1",
    generation: 1,
    fault: "pause",
    scheduledAt: T0,
    reason: "WouldFaultAllTasks",
    message: "service web: 2 desired, 2 running; held: web.1 by default/other",
    ...over,
  });

  it("a held run is not spent: status.waiting says why and until when; no history, no lastSchedule, not Completed", () => {
    const st = deriveStatus(input({ manifest: pause.manifest, next: T0, events: [skipped({ retryUntil: at(60) })] }));
    expect(st.waiting).toEqual({
      run: "r1",
      generation: 1,
      scheduledAt: T0.toISOString(),
      retryUntil: at(60).toISOString(),
      reason: "WouldFaultAllTasks",
      message: "service web: 2 desired, 2 running; held: web.1 by default/other",
    });
    expect(st.history).toEqual([]);
    expect(st.lastScheduleGeneration).toBeUndefined();
    expect(st.phase).toBe("Scheduled");
    // The next pass that does not hold it (started, spent, or not due) drops it.
    expect(deriveStatus(input({ manifest: pause.manifest, prev: st })).waiting).toBeUndefined();
  });

  it("a spent skip under GitOps carries the manifest's commit and path, as applied runs do", () => {
    const source = { commit: "0123456789abcdef0123456789abcdef01234567", path: "chaos/p.yaml" };
    const st = deriveStatus(input({ manifest: pause.manifest, events: [skipped({ source })] }));
    expect(st.history?.[0]).toMatchObject({ result: "Skipped", reason: "WouldFaultAllTasks", source });
  });
});
