// Pure parts of guards: the revert decision, arguments, labels ↔ handles, conditions, and the
// runtime's sequence with a recording effect (no Docker).
import { describe, expect, it } from "vitest";
import type { ContainerInfo, Engine } from "../../src/engine/engine.js";
import type { Owner, Target } from "../../src/faults/driver.js";
import { guardArgv, parseGuardArgs } from "../../src/faults/guard/args.js";
import { EffectRefused, TargetGone, type GuardEffectFactory } from "../../src/faults/guard/effect.js";
import { guardCondition, observeGuards } from "../../src/faults/guard/observe.js";
import { runGuard } from "../../src/faults/guard/runtime.js";
import { guardHelperSpec, guardLabels, guardName } from "../../src/faults/guard/spec.js";
import { guardDecision, HOLD_LEAD_MAX_MS, holdDeadline, MAX_TIMER_MS } from "../../src/faults/guard/timing.js";
import { createLogger, silentLogger } from "../../src/util/log.js";

const t = (iso: string): Date => new Date(iso);
const owner: Owner = {
  schedule: "default/web-pause",
  generation: 3,
  run: "abc-g3-x1",
  expires: t("2030-01-01T00:00:10Z"),
};
const target: Target = {
  kind: "container",
  nodeId: "node1",
  serviceId: "svc1",
  serviceName: "web",
  taskId: "task1",
  containerId: "c".repeat(64),
};

describe("guardDecision(until, now)", () => {
  it.each([
    ["2030-01-01T00:00:10Z", "2030-01-01T00:00:00Z", { revert: false, holdMs: 10_000 }],
    ["2030-01-01T00:00:10Z", "2030-01-01T00:00:09.999Z", { revert: false, holdMs: 1 }],
    ["2030-01-01T00:00:10Z", "2030-01-01T00:00:10Z", { revert: true }],
    ["2030-01-01T00:00:10Z", "2030-01-01T00:01:00Z", { revert: true }],
    ["2099-01-01T00:00:00Z", "2030-01-01T00:00:00Z", { revert: false, holdMs: MAX_TIMER_MS }],
  ])("until %s at %s → %j", (until, now, want) => expect(guardDecision(t(until), t(now))).toEqual(want));
});

describe("holdDeadline(until, holdMs, appliedAt)", () => {
  const until = t("2030-01-01T00:00:10Z");
  it.each([
    ["no hold: at until, whenever it was applied", undefined, "2030-01-01T00:00:07.400Z", "2030-01-01T00:00:10.000Z"],
    ["applied 150 ms late: the whole hold from then", 3_000, "2030-01-01T00:00:07.150Z", "2030-01-01T00:00:10.150Z"],
    ["applied on time", 3_000, "2030-01-01T00:00:07.000Z", "2030-01-01T00:00:10.000Z"],
    ["applied 5 s late (a restarted guard): capped", 3_000, "2030-01-01T00:00:12.000Z", "2030-01-01T00:00:11.000Z"],
    ["a clock behind: never before until", 3_000, "2030-01-01T00:00:06.000Z", "2030-01-01T00:00:10.000Z"],
  ])("%s", (_what, hold, applied, want) => expect(holdDeadline(until, hold, t(applied)).toISOString()).toBe(want));
  it("the cap is until + HOLD_LEAD_MAX_MS", () => {
    expect(holdDeadline(until, 60_000, until).getTime()).toBe(until.getTime() + HOLD_LEAD_MAX_MS);
  });
});

describe("guard arguments", () => {
  it("round-trips through argv", () => {
    const args = { fault: "pause" as const, target: "abc123", until: t("2030-01-01T00:00:10.250Z"), spec: { x: 1 } };
    const argv = guardArgv(args);
    expect(argv.slice(0, 1)).toEqual(["guard"]);
    const raw: Record<string, string> = {};
    for (let i = 1; i < argv.length; i += 2) raw[argv[i]!.slice(2)] = argv[i + 1]!;
    expect(parseGuardArgs(raw)).toEqual(args);
    const held = { ...args, holdMs: 3_000 };
    const heldArgv = guardArgv(held);
    expect(heldArgv.slice(-2)).toEqual(["--hold", "3000"]); // last: the argv of a guard without a hold is unchanged
    expect(parseGuardArgs({ ...raw, hold: "3000" })).toEqual(held);
  });
  it.each(["0", "-5", "1.5", "3s", "", "12345678901"])("rejects --hold %j", (hold) => {
    expect(() => parseGuardArgs({ fault: "pause", target: "a", until: "2030-01-01T00:00:00Z", hold })).toThrow(
      /--hold/,
    );
  });
  it.each([
    [{ fault: "nope", target: "a", until: "2030-01-01T00:00:00Z" }, /--fault/],
    [{ fault: "pause", target: "a b", until: "2030-01-01T00:00:00Z" }, /--target/],
    [{ fault: "pause", target: "a", until: "tomorrow" }, /--until/],
    [{ fault: "pause", target: "a", until: "2030-01-01T00:00:00Z", spec: "{" }, /--spec/],
  ])("rejects %j as a usage error", (raw, msg) => {
    expect(() => parseGuardArgs(raw)).toThrow(msg);
    try {
      parseGuardArgs(raw);
    } catch (e) {
      expect((e as { exitCode?: number }).exitCode).toBe(2);
    }
  });
});

function guardContainer(labels: Record<string, string>, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: "g1",
    names: ["g"],
    image: "local/chaosctl:dev",
    labels,
    state: "running",
    created: 1_893_456_000,
    ...over,
  };
}

describe("labels ↔ handles", () => {
  it("observeGuards rebuilds owner, target, spec and state from a guard's labels", () => {
    const labels = guardLabels(owner, target, "pause", { a: 1 });
    const others = [
      guardContainer({ "com.docker.swarm.task.id": "t" }, { id: "web" }),
      guardContainer({ "chaosctl.io/role": "helper" }, { id: "h" }),
    ];
    const [h, ...rest] = observeGuards([...others, guardContainer(labels)], t("2030-01-01T00:00:05Z"));
    expect(rest).toEqual([]);
    expect(h).toEqual({
      fault: "pause",
      owner,
      target,
      guardId: "g1",
      guardState: "running",
      since: new Date(1_893_456_000_000),
      spec: { a: 1 },
      expired: false,
    });
    expect(
      observeGuards([guardContainer(labels, { state: "exited", exitCode: 0 })], t("2030-01-01T00:00:10Z"))[0],
    ).toMatchObject({
      expired: true,
      guardExitCode: 0,
      guardState: "exited",
    });
    expect(observeGuards([guardContainer(labels)])[0]?.expired).toBeUndefined();
  });

  it("names a guard uniquely per schedule, run, fault and target", () => {
    const n = guardName(owner, target, "pause");
    expect(n).toMatch(/^chaosctl-guard-pause-cccccccccccc-[0-9a-f]{12}$/);
    expect(guardName({ ...owner, run: "other" }, target, "pause")).not.toBe(n);
    expect(guardName(owner, { ...target, containerId: "d".repeat(64) }, "pause")).not.toBe(n);
  });

  it("builds the guard container: own socket, no network, bounded on-failure restarts", () => {
    const s = guardHelperSpec({ image: "img", fault: "pause", owner, target, until: owner.expires!, spec: {} });
    expect(s).toMatchObject({
      image: "img",
      networkMode: "none",
      binds: ["/var/run/docker.sock:/var/run/docker.sock"],
      restartOnFailure: true,
      maxRestarts: 3,
    });
    expect(s.cmd).toEqual([
      "guard",
      "--fault",
      "pause",
      "--target",
      target.containerId,
      "--until",
      "2030-01-01T00:00:10.000Z",
      "--spec",
      "{}",
    ]);
    expect(s.labels["chaosctl.io/role"]).toBe("guard");
  });
});

describe("guardCondition(handle, now, grace)", () => {
  const h = observeGuards([guardContainer(guardLabels(owner, target, "pause"))])[0]!;
  it.each([
    ["running", undefined, "2030-01-01T00:00:00Z", "enforcing"],
    ["restarting", undefined, "2030-01-01T00:00:11Z", "enforcing"],
    ["running", undefined, "2030-01-01T00:00:15Z", "overdue"],
    ["exited", 0, "2030-01-01T00:00:11Z", "completed"],
    ["exited", 1, "2030-01-01T00:00:05Z", "failed"],
    ["exited", 137, "2030-01-01T00:00:05Z", "failed"],
    ["dead", undefined, "2030-01-01T00:00:05Z", "failed"],
  ])("%s (exit %s) at %s → %s", (state, code, now, want) => {
    expect(
      guardCondition(
        { ...h, guardState: state, ...(code !== undefined ? { guardExitCode: code } : {}) },
        t(now),
        5_000,
      ),
    ).toBe(want);
  });
});

describe("runGuard sequence (recording effect)", () => {
  const engine = {} as unknown as Engine; // the recording effect never touches it
  type Step = "apply" | "revert";
  function recorder(opts: { applyErr?: Error; revertFailures?: number } = {}): {
    steps: Step[];
    effects: Record<string, GuardEffectFactory>;
  } {
    const steps: Step[] = [];
    let failures = opts.revertFailures ?? 0;
    return {
      steps,
      effects: {
        pause: () => ({
          async apply() {
            steps.push("apply");
            if (opts.applyErr) throw opts.applyErr;
          },
          async revert() {
            steps.push("revert");
            if (failures-- > 0) throw new Error("engine unreachable");
          },
        }),
      },
    };
  }
  const run = (until: Date, r: ReturnType<typeof recorder>, stop = new AbortController().signal) =>
    runGuard(
      { fault: "pause", target: "c1", until, spec: {} },
      { engine, log: silentLogger, now: () => new Date(), effects: r.effects, stop, revertAttempts: 3 },
    );

  it("applies, holds until expiry, reverts, exits 0", async () => {
    const r = recorder();
    const t0 = Date.now();
    expect(await run(new Date(t0 + 150), r)).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
    expect(r.steps).toEqual(["apply", "revert"]);
  });
  it("started after expiry: only reverts", async () => {
    const r = recorder();
    expect(await run(new Date(Date.now() - 1), r)).toBe(0);
    expect(r.steps).toEqual(["revert"]);
  });
  it("a stop signal reverts at once", async () => {
    const r = recorder();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    expect(await run(new Date(t0 + 60_000), r, ac.signal)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r.steps).toEqual(["apply", "revert"]);
  });
  it("a refused effect exits 0 without a revert (nothing was applied)", async () => {
    const r = recorder({ applyErr: new EffectRefused("TargetNotRunning", "exited") });
    expect(await run(new Date(Date.now() + 60_000), r)).toBe(0);
    expect(r.steps).toEqual(["apply"]);
  });
  it("a gone target exits 0", async () => {
    const r = recorder({ applyErr: new TargetGone("gone") });
    expect(await run(new Date(Date.now() + 60_000), r)).toBe(0);
  });
  it("a transient apply error takes back what may be applied and exits 1 (restart policy retries)", async () => {
    const r = recorder({ applyErr: new Error("ECONNRESET") });
    expect(await run(new Date(Date.now() + 60_000), r)).toBe(1);
    expect(r.steps).toEqual(["apply", "revert"]);
  });
  it("retries a failing revert, then exits 1 if it keeps failing", async () => {
    const ok = recorder({ revertFailures: 2 });
    expect(await run(new Date(Date.now() - 1), ok)).toBe(0);
    expect(ok.steps).toEqual(["revert", "revert", "revert"]);
    const bad = recorder({ revertFailures: 10 });
    expect(await run(new Date(Date.now() - 1), bad)).toBe(1);
    expect(bad.steps).toEqual(["revert", "revert", "revert"]);
  });

  it("--hold: holds from the applied moment a prelude reports, and the revert's lateness counts from there", async () => {
    const r = recorder();
    const records: Array<Record<string, unknown>> = [];
    const log = createLogger("info", { write: (line: string) => void records.push(JSON.parse(line)) });
    const t0 = Date.now();
    const until = new Date(t0 + 100);
    const appliedAt = new Date(t0 + 80); // landed 80 ms into a 100 ms window
    const code = await runGuard(
      { fault: "pause", target: "c1", until, spec: {}, holdMs: 100 },
      {
        engine,
        log,
        now: () => new Date(),
        effects: r.effects,
        stop: new AbortController().signal,
        appliedAt: () => appliedAt,
      },
    );
    expect(code).toBe(0);
    expect(r.steps).toEqual(["apply", "revert"]);
    const expired = records.find((x) => x.event === "expired");
    expect(expired?.deadline).toBe(new Date(t0 + 180).toISOString());
    expect(Date.now()).toBeGreaterThanOrEqual(t0 + 180); // not before its deadline
    const reverted = records.find((x) => x.event === "reverted");
    expect(reverted?.lateMs).toBeGreaterThanOrEqual(0);
  });
  it("--hold without a prelude: the hold counts from the verb's own apply", async () => {
    const records: Array<Record<string, unknown>> = [];
    const log = createLogger("info", { write: (line: string) => void records.push(JSON.parse(line)) });
    const steps: string[] = [];
    let appliedAt = 0;
    const slow: GuardEffectFactory = () => ({
      async apply() {
        await new Promise((res) => setTimeout(res, 60));
        appliedAt = Date.now();
        steps.push("apply");
      },
      async revert() {
        steps.push("revert");
      },
    });
    const t0 = Date.now();
    await runGuard(
      { fault: "pause", target: "c1", until: new Date(t0 + 50), spec: {}, holdMs: 50 },
      { engine, log, now: () => new Date(), effects: { pause: slow }, stop: new AbortController().signal },
    );
    expect(steps).toEqual(["apply", "revert"]);
    const deadline = Date.parse(String(records.find((x) => x.event === "expired")?.deadline));
    expect(deadline).toBeGreaterThanOrEqual(appliedAt + 50 - 1); // the verb's apply returned, then 50 ms
    expect(deadline).toBeLessThanOrEqual(t0 + 50 + HOLD_LEAD_MAX_MS);
  });
});
