// The network fault drivers end to end on the real engine: apply starts a guard container
// from local/chaosctl:dev in the target's namespace (NET_ADMIN) that applies the fault itself,
// holds it and reverts it at expiry or on recover. Measures apply->effective and revert->clean.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine } from "../../src/engine/docker.js";
import type { DriverContext, InjectionHandle, Owner, Target } from "../../src/faults/driver.js";
import { L_ROLE, L_SCHEDULE } from "../../src/api/labels.js";
import { netemDriver } from "../../src/faults/netem/driver.js";
import { networkDriver } from "../../src/faults/network/driver.js";
import type { NetnsExec } from "../../src/faults/netns/converge.js";
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
