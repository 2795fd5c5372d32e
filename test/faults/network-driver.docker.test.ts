// The network fault drivers end to end on the real engine: apply starts a guard container
// from local/chaosctl:dev in the target's namespace (NET_ADMIN) that applies the fault itself,
// holds it and reverts it at expiry or on recover. Measures apply->effective and revert->clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, InjectionHandle, Owner, Target } from "../../src/faults/driver.js";
import { L_ROLE, L_SCHEDULE } from "../../src/api/labels.js";
import { guardHelperSpec } from "../../src/faults/guard/spec.js";
import { netemDriver } from "../../src/faults/netem/driver.js";
import { networkDriver } from "../../src/faults/network/driver.js";
import type { NetnsExec } from "../../src/faults/netns/converge.js";
import { netnsGuardCommand } from "../../src/faults/netns/shell-prelude.js";
import { APP_IMAGE, docker, dockerOk, requireSwarm, waitFor, WEB_IMAGE } from "../helpers/docker.js";
import { kernelHasNetem } from "../helpers/kernel.js";
import { BASE_IMAGE, CLEAN, NetnsLab, owned, ping } from "./netns-fixture.js";

const engine = new DockerEngine();
const lab = new NetnsLab();
const SCHEDULE = `test/netdrv-${process.pid}`;
let ctx: DriverContext;
let target: { id: string; ip: string };
let prober: { id: string; ip: string };
let exec: NetnsExec;
let nodeId: string;
const figures: Record<string, number | string> = {};

const asTarget = (id: string): Target => ({ kind: "container", nodeId, containerId: id });
const owner = (run: string, seconds: number): Owner => ({
  schedule: SCHEDULE,
  generation: 1,
  run,
  expires: new Date(Date.now() + seconds * 1000),
});

async function guardsOfTest(): Promise<string[]> {
  const out = await dockerOk([
    "ps",
    "-aq",
    "--filter",
    `label=${L_ROLE}=guard`,
    "--filter",
    `label=${L_SCHEDULE}=${SCHEDULE}`,
  ]);
  return out.split("\n").filter(Boolean);
}

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, BASE_IMAGE, APP_IMAGE]);
  nodeId = await dockerOk(["info", "-f", "{{.Swarm.NodeID}}"]);
  ctx = { engine, image: APP_IMAGE, now: new Date() };
  await lab.up();
  target = await lab.web();
  prober = await lab.web();
  exec = await lab.helper(target.id);
});

afterAll(async () => {
  for (const g of await guardsOfTest()) await docker(["rm", "-f", g]);
  await lab.down();
  console.log("network driver figures:", JSON.stringify(figures, null, 1));
});

describe("network drivers through guard containers", () => {
  it("loss: Injected once in effect, about half dropped; recover: guard gone, namespace clean", async () => {
    let t0 = performance.now();
    const r = await networkDriver.apply(ctx, asTarget(target.id), { loss: { probability: 0.5 } }, owner("loss", 120));
    figures.lossApplyToEffectiveMs = Math.round(performance.now() - t0);
    expect(r.phase).toBe("Injected");
    const handle = (r as { handle: InjectionHandle }).handle;
    expect(handle.guardId).toBeTruthy();
    const p = await ping(prober.id, target.ip, 200, 0.02);
    figures.lossDropRateViaGuard = (1 - p.received / p.sent).toFixed(3);
    expect(p.received).toBeGreaterThan(70);
    expect(p.received).toBeLessThan(130);
    t0 = performance.now();
    expect(await networkDriver.recover(ctx, handle)).toEqual({ phase: "Recovered" });
    figures.lossRecoverToCleanMs = Math.round(performance.now() - t0);
    expect(await owned(exec)).toEqual(CLEAN);
    expect(await guardsOfTest()).toEqual([]);
    expect((await ping(prober.id, target.ip, 30, 0.02)).received).toBe(30);
  });

  it("recover right after apply, the guard verb still loading: the prelude reverts, exits 0 saying so", async () => {
    const r = await networkDriver.apply(ctx, asTarget(target.id), { loss: { probability: 0.5 } }, owner("early", 120));
    expect(r.phase).toBe("Injected");
    const handle = (r as { handle: InjectionHandle }).handle;
    const t0 = performance.now();
    await engine.stopContainer(handle.guardId!, 15); // what recover does first
    figures.earlyStopToExitMs = Math.round(performance.now() - t0);
    const g = await engine.inspectContainer(handle.guardId!);
    expect(g.exitCode).toBe(0);
    const logs = await engine.containerLogs(handle.guardId!, 50);
    expect(`${logs.stdout}${logs.stderr}`).toMatch(/"event":"reverted","result":"reverted"/);
    expect(await owned(exec)).toEqual(CLEAN);
    expect(await networkDriver.recover(ctx, handle)).toEqual({ phase: "Recovered" });
    expect(await guardsOfTest()).toEqual([]);
  });

  it("bandwidth reverted by the guard itself at expiry, with no recover call", async () => {
    const t0 = performance.now();
    const r = await networkDriver.apply(ctx, asTarget(target.id), { bandwidth: { rate: "1mbit" } }, owner("expiry", 8));
    figures.bandwidthApplyToEffectiveMs = Math.round(performance.now() - t0);
    expect(r.phase).toBe("Injected");
    expect((await owned(exec)).roots).toEqual(["eth0"]);
    const cleanAt = await waitFor(async () => ((await owned(exec)).roots.length === 0 ? performance.now() : false), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: "guard revert at expiry",
    });
    figures.bandwidthExpiryToCleanMs = Math.round(cleanAt - t0 - 8000);
    expect(await owned(exec)).toEqual(CLEAN);
    const guard = (r as { handle: InjectionHandle }).handle.guardId!;
    const exited = await waitFor(
      async () =>
        (await dockerOk(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", guard])) === "exited 0"
          ? true
          : false,
      { timeoutMs: 20_000, what: "guard exit 0" },
    );
    expect(exited).toBe(true);
    await docker(["rm", "-f", guard]);
  });

  it("netem on this kernel: without sch_netem Failed KernelUnsupported, no guard, nothing in the namespace; with it, injected and recovered clean", async () => {
    const r = await netemDriver.apply(
      ctx,
      asTarget(target.id),
      { delay: { time: "100ms", jitter: "10ms", distribution: "normal" } },
      owner("netem", 60),
    );
    if (!(await kernelHasNetem())) {
      expect(r).toMatchObject({ phase: "Failed", reason: "KernelUnsupported" });
      expect((r as { message: string }).message).toMatch(/sch_netem/);
    } else {
      // A stock kernel (the VM lane measures the effect itself): applied, then nothing left.
      expect(r.phase).toBe("Injected");
      expect(await owned(exec)).not.toEqual(CLEAN);
      if (r.phase === "Injected") expect(await netemDriver.recover(ctx, r.handle)).toEqual({ phase: "Recovered" });
      await waitFor(async () => (await guardsOfTest()).length === 0, { timeoutMs: 20_000, what: "netem guard gone" });
    }
    expect(await owned(exec)).toEqual(CLEAN);
    expect(await guardsOfTest()).toEqual([]);
  });

  it("invalid input: Failed InvalidSpec before any guard exists", async () => {
    const r = await networkDriver.apply(
      ctx,
      asTarget(target.id),
      { interface: "eth0;reboot", loss: { probability: 0.1 } },
      owner("bad", 60),
    );
    expect(r).toMatchObject({ phase: "Failed", reason: "InvalidSpec" });
    expect(await guardsOfTest()).toEqual([]);
  });

  it("a target removed mid-fault: recover says Gone, once, no error", async () => {
    const victim = await lab.web();
    const r = await networkDriver.apply(
      ctx,
      asTarget(victim.id),
      { bandwidth: { rate: "1mbit" }, loss: { probability: 0.2 } },
      owner("gone", 120),
    );
    expect(r.phase).toBe("Injected");
    await dockerOk(["rm", "-f", victim.id]);
    const handle = (r as { handle: InjectionHandle }).handle;
    expect(await networkDriver.recover(ctx, handle)).toEqual({ phase: "Gone" });
    await waitFor(async () => (await guardsOfTest()).length === 0, {
      timeoutMs: 20_000,
      what: "guard of the dead target to go",
    });
  });
});

// The guard's shell prelude (netns-guard.sh, docs/guards.md "The shell prelude") on the real engine:
// its signal windows, a crash that re-runs it on a namespace it already wrote, a late start.
describe("network guards: the shell prelude's windows", () => {
  const LOSS = { loss: { probability: 0.5 } };
  const logsOf = async (id: string): Promise<string> => {
    const l = await engine.containerLogs(id, 200);
    return `${l.stdout}${l.stderr}`;
  };
  const runningGuard = (run: string): Promise<string> =>
    waitFor(
      async () => {
        for (const g of await guardsOfTest()) {
          const st = await dockerOk([
            "inspect",
            "-f",
            '{{index .Config.Labels "chaosctl.io/run"}} {{.State.Status}}',
            g,
          ]);
          if (st === `${run} running`) return g;
        }
        return undefined;
      },
      { timeoutMs: 15_000, intervalMs: 5, what: `the guard of ${run} running` },
    );

  it("the guard's entry is the shell: it applies and logs first, Node.js adopts without writing, recover is clean", async () => {
    const r = await networkDriver.apply(ctx, asTarget(target.id), LOSS, owner("shell", 120));
    expect(r.phase).toBe("Injected");
    const handle = (r as { handle: InjectionHandle }).handle;
    const entry = await dockerOk(["inspect", "-f", "{{json .Config.Entrypoint}}", handle.guardId!]);
    expect(JSON.parse(entry)).toEqual(["/bin/sh", "/app/netns-guard.sh"]);
    const logs = await waitFor(
      async () => {
        const text = await logsOf(handle.guardId!);
        return /"role":"guard"/.test(text) && text; // the guard verb is up
      },
      { timeoutMs: 20_000, what: "the guard verb's first record" },
    );
    const applied = logs.split("\n").filter((l) => l.includes('"event":"applied"'));
    expect(applied[0]).toMatch(/"event":"applied","by":"prelude","shell":true/);
    expect(applied.filter((l) => l.includes('"by":"prelude"'))).toHaveLength(1); // Node.js's prelude did not apply again
    expect((await owned(exec)).chains).toHaveLength(1);
    expect(await networkDriver.recover(ctx, handle)).toEqual({ phase: "Recovered" });
    expect(await owned(exec)).toEqual(CLEAN);
  });

  it("the guard holds the run's duration from the moment its shell applied the fault, at most 1 s past the run's expiry, then reverts", async () => {
    const now = new Date();
    const own = { ...owner("hold", 2), expires: new Date(now.getTime() + 2_000) };
    const r = await networkDriver.apply({ ...ctx, now }, asTarget(target.id), LOSS, own);
    expect(r.phase).toBe("Injected");
    const guard = (r as { handle: InjectionHandle }).handle.guardId!;
    const cmd = JSON.parse(await dockerOk(["inspect", "-f", "{{json .Config.Cmd}}", guard])) as string[];
    expect(cmd.slice(-2)).toEqual(["--hold", "2000"]); // the run's duration, from the driver's now
    const done = await waitFor(
      async () => (await dockerOk(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", guard])) === "exited 0",
      { timeoutMs: 20_000, intervalMs: 100, what: "the guard's exit after its hold" },
    );
    expect(done).toBe(true);
    expect(await owned(exec)).toEqual(CLEAN);
    const records = (await logsOf(guard))
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string; time?: number | string; deadline?: string; by?: string });
    const at = (ev: string): number => {
      const rec = records.find((x) => x.event === ev);
      return typeof rec?.time === "number" ? rec.time : Date.parse(rec?.time ?? "");
    };
    const applied = at("applied"); // the shell's record, its clock in ms
    const deadline = Date.parse(records.find((x) => x.event === "expired")?.deadline ?? "");
    const until = own.expires.getTime();
    expect(records.find((x) => x.event === "applied")?.by).toBe("prelude");
    expect(applied).toBeGreaterThan(now.getTime()); // it landed after the call: a window cut short without the hold
    expect(deadline).toBe(Math.min(applied + 2_000, until + 1_000));
    expect(at("reverted")).toBeGreaterThanOrEqual(deadline);
    await docker(["rm", "-f", guard]);
  });

  it(
    "a stop 0-350 ms after the guard's start (the shell applying, Node.js loading, the verb holding): reverted at the stop, exit 0, every time",
    { timeout: 180_000 },
    async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++) {
        const run = `stop-${i}-${Date.now().toString(36)}`;
        const applying = networkDriver.apply(ctx, asTarget(target.id), LOSS, owner(run, 120));
        const guard = await runningGuard(run);
        await new Promise((res) => setTimeout(res, i * 50));
        await engine.stopContainer(guard, 15); // what recover, the kill switch and an early revert do
        const g = await engine.inspectContainer(guard);
        expect(g.exitCode, `stop ${i}: the guard's exit`).toBe(0);
        const logs = await logsOf(guard);
        expect(logs, `stop ${i}: it says it reverted`).toMatch(/"event":"reverted","result":"reverted"/);
        expect(await owned(exec), `stop ${i}: nothing left at the stop`).toEqual(CLEAN);
        const r = await applying;
        outcomes.push(
          /stopped before the guard verb/.test(logs)
            ? "stopped mode"
            : /fault reverted \(prelude, stopped\)/.test(logs)
              ? "Node.js prelude"
              : "guard verb",
        );
        if (r.phase === "Injected") expect(await networkDriver.recover(ctx, r.handle)).toEqual({ phase: "Recovered" });
        await docker(["rm", "-f", guard]);
        expect(await owned(exec)).toEqual(CLEAN);
      }
      // Which window each stop hit (not asserted: timing-dependent).
      console.log(`shell prelude stop outcomes: ${outcomes.join(", ")}`);
      expect(outcomes).toHaveLength(8);
    },
  );

  it("a guard whose Node.js crashes comes back: its shell finds the namespace written, the guard converges, holds and reverts at expiry", async () => {
    const r = await networkDriver.apply(ctx, asTarget(target.id), LOSS, owner("crash", 10));
    expect(r.phase).toBe("Injected");
    const guard = (r as { handle: InjectionHandle }).handle.guardId!;
    await waitFor(async () => /"role":"guard"/.test(await logsOf(guard)), {
      timeoutMs: 20_000,
      what: "the guard verb up",
    });
    // Kill the guard's Node.js (not the shell, not the init): the shell exits with its status, 137.
    // Detached: the container stops with its shell, which may end the exec before it answers.
    await dockerOk([
      "exec",
      "-d",
      guard,
      "sh",
      "-c",
      'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = node ] && kill -9 "${p#/proc/}"; done; true',
    ]);
    await waitFor(
      async () =>
        (await dockerOk(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", guard])) === "1 running" &&
        /prelude-skipped/.test(await logsOf(guard)),
      { timeoutMs: 20_000, intervalMs: 50, what: "the guard restarted, its shell's batch refused" },
    );
    const logs = await waitFor(
      async () => {
        const text = await logsOf(guard);
        return /"event":"applied","by":"prelude","ms"/.test(text) && text; // Node.js's prelude converged
      },
      { timeoutMs: 20_000, what: "the restarted guard's apply" },
    );
    expect(logs).toMatch(/"event":"prelude-skipped","by":"prelude","shell":true,"err":"[^"]+"/);
    expect((await owned(exec)).chains).toHaveLength(1); // one copy: the converge added nothing twice
    const done = await waitFor(
      async () =>
        (await dockerOk(["inspect", "-f", "{{.State.Status}}", guard])) === "exited" &&
        dockerOk(["inspect", "-f", "{{.State.ExitCode}}", guard]),
      { timeoutMs: 30_000, intervalMs: 100, what: "the guard's exit after expiry" },
    );
    expect(done).toBe("0");
    expect(await owned(exec)).toEqual(CLEAN);
    await docker(["rm", "-f", guard]);
  });

  it("a late start (its expiry passed): the shell applies nothing, the guard removes what its run left", async () => {
    const own = owner("late", 120);
    const r = await networkDriver.apply(ctx, asTarget(target.id), LOSS, own);
    expect(r.phase).toBe("Injected");
    const handle = (r as { handle: InjectionHandle }).handle;
    await dockerOk(["rm", "-f", handle.guardId!]); // SIGKILL: the fault stays, nothing to revert it
    expect((await owned(exec)).chains).toHaveLength(1);
    const hs = guardHelperSpec({
      image: APP_IMAGE,
      fault: "network",
      owner: own,
      target: asTarget(target.id),
      until: new Date(Date.now() - 1_000),
      spec: handle.spec,
      networkMode: `container:${target.id}`,
      capAdd: ["NET_ADMIN"],
      command: netnsGuardCommand,
    });
    expect(hs.entrypoint).toEqual(["/bin/sh", "/app/netns-guard.sh"]);
    const out = await engine.runHelper(hs, 60_000);
    expect(out.exitCode).toBe(0);
    expect(`${out.stdout}${out.stderr}`).not.toMatch(/"shell":true/); // the shell logged nothing: it did nothing
    expect(await owned(exec)).toEqual(CLEAN);
    await docker(["rm", "-f", hs.name!]);
  });
});
