// Network faults through the controller on the real one-node Swarm: manifests in a temp
// folder, the controller in-process (or the compiled bin, to SIGKILL it), guards in the targets'
// namespaces, asserted through traffic between local containers, the namespaces themselves and
// the manifests' status. Services sit on their own attachable overlay (dnsrr: no IPVS here); a
// plain container on it is the prober. After every test: no qdisc/chain of ours in any target
// namespace, no guard of the test's controller instance.
import { randomBytes } from "node:crypto";
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NetnsExec } from "../../src/faults/netns/converge.js";
import { ownedNames } from "../../src/faults/netns/ids.js";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { BASE_IMAGE, CLEAN, owned, ping } from "../faults/netns-fixture.js";
import { kernelHasNetem } from "../helpers/kernel.js";
import { manifest, runController, spawnController, workspace, type Workspace } from "./harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<void>> = [];
const figures: Record<string, number | string> = {};
let network = "";
let prober = "";

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE, BASE_IMAGE]);
  network = `chaosctl-e2enet-${randomBytes(4).toString("hex")}`;
  await dockerOk(["network", "create", "-d", "overlay", "--attachable", "--label", "chaosctl-test=1", network]);
  prober = await dockerOk(["run", "-d", "--label", "chaosctl-test=1", "--network", network, WEB_IMAGE]);
}, 60_000);

afterAll(async () => {
  if (prober) await docker(["rm", "-f", prober]);
  if (network) await docker(["network", "rm", network]);
  console.log("network e2e figures:", JSON.stringify(figures, null, 1));
}, 60_000);

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
}, 90_000);

async function service(replicas: number, prefix = "chaosctl-e2enet"): Promise<TestService> {
  const svc = await createTestService({
    replicas,
    namePrefix: prefix,
    flags: ["--network", network, "--endpoint-mode", "dnsrr"],
  });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks`,
  });
  return svc;
}

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

function controller(w: Workspace) {
  const c = runController(w);
  cleanups.push(() => c.stop());
  return c;
}

/** A helper (tc, iptables) in `container`'s namespace; argv run there by docker exec. Removed after the test. */
async function nsExec(container: string): Promise<NetnsExec> {
  const id = await dockerOk([
    "run",
    "-d",
    "--label",
    "chaosctl-test=1",
    "--network",
    `container:${container}`,
    "--cap-add",
    "NET_ADMIN",
    "--entrypoint",
    "sleep",
    BASE_IMAGE,
    "600",
  ]);
  cleanups.push(async () => void (await docker(["rm", "-f", id])));
  return async (argv) => {
    const r = await docker(["exec", id, ...argv], { timeoutMs: 20_000 });
    return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
  };
}

const fullId = (prefix: string) => dockerOk(["inspect", "-f", "{{.Id}}", prefix]);
const overlayIp = (container: string) =>
  dockerOk(["inspect", "-f", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
const containersOf = async (svc: TestService) =>
  (await runningTasks(svc.id)).map((t) => t.containerId).filter((c): c is string => !!c);
const guardsOf = async (w: Workspace) =>
  (await docker(["ps", "-aq", "--filter", `label=chaosctl.io/instance=${w.instance}`])).stdout
    .split("\n")
    .filter(Boolean);

/** The end of every test: every running task of `services` is clean, and no guard of the instance is left. */
async function expectNothingLeft(w: Workspace, services: TestService[]): Promise<void> {
  for (const svc of services) {
    for (const c of await containersOf(svc)) expect(await owned(await nsExec(c))).toEqual(CLEAN);
  }
  await waitFor(async () => (await guardsOf(w)).length === 0, {
    timeoutMs: 15_000,
    what: "no guard of this instance left",
  });
}

describe("network faults through the controller", () => {
  it("network.loss 0.5: about half the probes dropped while active; at expiry reverted, nothing left", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "loss.yaml",
      manifest(
        "loss",
        `duration: 14s\nselector: {services: [${svc.name}]}\nfault: {network: {loss: {probability: 0.5}}}`,
      ),
    );
    const t0 = Date.now();
    controller(w);
    const active = await waitFor(async () => (await w.status("loss.yaml"))?.active?.[0], {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: "status.active",
    });
    figures.lossManifestToActiveMs = Date.now() - t0;
    expect(active).toMatchObject({ fault: "network", service: svc.name });
    const target = await fullId(active.container ?? "");
    const exec = await nsExec(target);
    const names = ownedNames({ schedule: "default/loss", run: active.run ?? "", fault: "network" });
    expect((await owned(exec)).chains).toEqual([names.chainOut]);
    const untouched = (await containersOf(svc)).find((c) => c !== target) ?? "";
    expect(await owned(await nsExec(untouched))).toEqual(CLEAN); // mode one: the other task is not faulted

    const p = await ping(prober, await overlayIp(target), 200, 0.02);
    figures.lossDropRate = (1 - p.received / p.sent).toFixed(3);
    expect(p.sent).toBe(200);
    expect(p.received).toBeGreaterThan(70); // binomial(200, 0.5): 100 ± 30 is beyond 4 sd
    expect(p.received).toBeLessThan(130);

    const until = Date.parse(active.until ?? "");
    const cleanAt = await waitFor(async () => ((await owned(exec)).chains.length === 0 ? Date.now() : false), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "revert at expiry",
    });
    figures.lossExpiryToCleanMs = cleanAt - until;
    expect(cleanAt - until).toBeGreaterThan(-1_000); // not early (the poll itself takes a few hundred ms)
    expect(cleanAt - until).toBeLessThan(5_000);
    expect((await ping(prober, await overlayIp(target), 50, 0.02)).received).toBe(50);
    const run = await waitFor(async () => (await w.history("loss.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 15_000,
      what: "run Succeeded",
    });
    expect(run).toMatchObject({ fault: "network", targets: 1, services: [svc.name], run: active.run });
    expect((await w.status("loss.yaml"))?.active).toEqual([]);
    await expectNothingLeft(w, [svc]);
  }, 120_000);

  it("suspend reverts at once; resumed, then deleting the manifest reverts too", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "cut.yaml",
      manifest(
        "cut",
        `duration: 60s\nsuspend: false\nselector: {services: [${svc.name}]}\nfault: {network: {loss: {probability: 1}}}`,
      ),
    );
    // An edit of the spec in place, as a user would (the status block the controller wrote stays).
    const setSuspend = async (v: boolean) =>
      w.write(
        "cut.yaml",
        (await readFile(join(w.dir, "cut.yaml"), "utf8")).replace(/suspend: (true|false)/, `suspend: ${v}`),
      );
    controller(w);
    const first = await waitFor(async () => (await w.status("cut.yaml"))?.active?.[0]?.container, {
      timeoutMs: 20_000,
      what: "injected",
    });
    const target = await fullId(first);
    const exec = await nsExec(target);
    const ip = await overlayIp(target);
    expect((await ping(prober, ip, 5, 0.1)).received).toBe(0);

    let t0 = Date.now();
    await setSuspend(true);
    await waitFor(async () => ((await owned(exec)).chains.length === 0 ? true : false), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: "revert on suspend",
    });
    figures.suspendToCleanMs = Date.now() - t0;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await ping(prober, ip, 5, 0.1)).received).toBe(5);
    await waitFor(async () => (await w.status("cut.yaml"))?.phase === "Suspended", {
      timeoutMs: 10_000,
      what: "phase Suspended",
    });
    expect((await w.history("cut.yaml")).at(-1)?.message).toContain("reverted: Suspended");

    await setSuspend(false); // a new generation: @once fires again
    const second = await fullId(
      await waitFor(async () => (await w.status("cut.yaml"))?.active?.[0]?.container, {
        timeoutMs: 20_000,
        what: "injected again",
      }),
    );
    const exec2 = second === target ? exec : await nsExec(second);
    expect((await owned(exec2)).chains).toHaveLength(1);
    t0 = Date.now();
    await unlink(join(w.dir, "cut.yaml"));
    await waitFor(async () => ((await owned(exec2)).chains.length === 0 ? true : false), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: "revert on delete",
    });
    figures.deleteToCleanMs = Date.now() - t0;
    expect((await ping(prober, await overlayIp(second), 5, 0.1)).received).toBe(5);
    await expectNothingLeft(w, [svc]);
  }, 120_000);

  it("partition between two services: cut both ways while active, re-resolved when the peer's task moves, traffic again after revert", async () => {
    const a = await service(1, "chaosctl-e2enet-a");
    const b = await service(1, "chaosctl-e2enet-b");
    const w = await ws();
    await w.write(
      "part.yaml",
      manifest(
        "part",
        `duration: 30s\nselector: {services: [${a.name}]}\nsafety: {allowAll: true}\nfault: {network: {partition: {from: {services: [${b.name}]}, direction: both}}}`,
      ),
    );
    const [aC] = await containersOf(a);
    const [bC] = await containersOf(b);
    const aIp = await overlayIp(aC!);
    const bIp = await overlayIp(bC!);
    expect((await ping(bC!, aIp, 3, 0.2)).received).toBe(3);
    controller(w);
    await waitFor(async () => (await w.status("part.yaml"))?.active?.length === 1, {
      timeoutMs: 20_000,
      what: "partition active",
    });
    expect((await ping(bC!, aIp, 3, 0.2)).received).toBe(0);
    expect((await ping(aC!, bIp, 3, 0.2)).received).toBe(0);
    expect((await ping(prober, aIp, 3, 0.2)).received).toBe(3); // only b is cut off
    expect((await w.history("part.yaml"))[0]?.message).toBeUndefined(); // b resolved: nothing to say

    // b's task is replaced by Swarm (new address): the controller re-applies with it.
    await dockerOk(["kill", bC!]);
    const b2 = await waitFor(async () => (await containersOf(b)).find((c) => c !== bC), {
      timeoutMs: 30_000,
      what: "b replaced",
    });
    const b2Ip = await overlayIp(b2);
    expect(b2Ip).not.toBe(bIp); // otherwise this would not prove re-resolution
    const t0 = Date.now();
    await waitFor(async () => (await w.history("part.yaml"))[0]?.message?.includes("destinations moved: re-applied"), {
      timeoutMs: 20_000,
      what: "re-resolution recorded",
    });
    figures.partitionReresolveRecordedMs = Date.now() - t0;
    expect((await ping(b2, aIp, 3, 0.2)).received).toBe(0);
    expect((await ping(aC!, b2Ip, 3, 0.2)).received).toBe(0);
    expect((await ping(prober, aIp, 3, 0.2)).received).toBe(3);
    const active = (await w.status("part.yaml"))?.active ?? [];
    expect(active).toHaveLength(1);

    const until = Date.parse(active[0]?.until ?? "");
    await waitFor(async () => (await w.history("part.yaml"))[0]?.result === "Succeeded", {
      timeoutMs: Math.max(0, until - Date.now()) + 20_000,
      what: "run Succeeded",
    });
    expect((await ping(b2, aIp, 3, 0.2)).received).toBe(3);
    expect((await ping(aC!, b2Ip, 3, 0.2)).received).toBe(3);
    // Re-applied once for the one move, never flapping pass after pass.
    expect((await w.history("part.yaml"))[0]?.message?.match(/re-applied/g)).toHaveLength(1);
    await expectNothingLeft(w, [a, b]);
  }, 150_000);

  it("mode all: a task killed mid-run is replaced by Swarm and its replacement is injected for the rest of the run; all clean after expiry", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "all.yaml",
      manifest(
        "all",
        `duration: 30s\nselector: {services: [${svc.name}], mode: all}\nsafety: {allowAll: true}\nfault: {network: {loss: {probability: 0.3}}}`,
      ),
    );
    controller(w);
    const active = await waitFor(
      async () => {
        const a = (await w.status("all.yaml"))?.active;
        return a?.length === 2 ? a : false;
      },
      { timeoutMs: 25_000, what: "both tasks injected" },
    );
    const run = active[0]?.run ?? "";
    const until = active[0]?.until;
    const chain = ownedNames({ schedule: "default/all", run, fault: "network" }).chainOut;
    const [victim, survivor] = await Promise.all(active.map((x) => fullId(x.container ?? "")));
    const survivorNs = await nsExec(survivor!);
    expect((await owned(survivorNs)).chains).toEqual([chain]);
    expect((await owned(await nsExec(victim!))).chains).toEqual([chain]);

    const killedTask = active.find((x) => victim!.startsWith(x.container ?? "-"))?.task;
    await dockerOk(["kill", victim!]);
    const t0 = Date.now();
    const replacement = await waitFor(
      async () => (await containersOf(svc)).find((c) => c !== victim && c !== survivor),
      { timeoutMs: 30_000, what: "Swarm's replacement" },
    );
    const replacementNs = await nsExec(replacement);
    await waitFor(async () => ((await owned(replacementNs)).chains.includes(chain) ? true : false), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: "replacement injected",
    });
    figures.replacementInjectedAfterKillMs = Date.now() - t0;
    // The chain appears during the pass's apply; the status that records it is written at the pass's end.
    const now = await waitFor(
      async () => {
        const a = (await w.status("all.yaml"))?.active ?? [];
        return a.length === 2 && !a.some((x) => x.task === killedTask) ? a : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "status: the replacement active in place of the killed task" },
    );
    expect(now.map((x) => x.run)).toEqual([run, run]);
    expect(now.map((x) => x.until)).toEqual([until, until]);
    const rec = (await w.history("all.yaml"))[0];
    expect(rec).toMatchObject({ result: "Running", targets: 3 });
    expect(rec?.message).toContain(`target task ${killedTask} gone: nothing to revert`);
    expect(rec?.message).toMatch(/task \S+ replaced \S+: injected for the rest of the run/);
    // The replacement really loses packets (egress loss 0.3 on its replies).
    const p = await ping(prober, await overlayIp(replacement), 100, 0.02);
    figures.replacementDropRate = (1 - p.received / p.sent).toFixed(2);
    expect(p.received).toBeLessThan(95);

    await waitFor(async () => (await w.history("all.yaml"))[0]?.result === "Succeeded", {
      timeoutMs: Math.max(0, Date.parse(until ?? "") - Date.now()) + 20_000,
      what: "run Succeeded",
    });
    expect(await owned(survivorNs)).toEqual(CLEAN);
    expect(await owned(replacementNs)).toEqual(CLEAN);
    await expectNothingLeft(w, [svc]);
  }, 150_000);

  it("mode one: a target killed mid-run is recorded TargetGone and its replacement is not injected", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "one.yaml",
      manifest(
        "one",
        `duration: 40s\nselector: {services: [${svc.name}]}\nfault: {network: {loss: {probability: 0.3}}}`,
      ),
    );
    const c = controller(w);
    const active = await waitFor(async () => (await w.status("one.yaml"))?.active?.[0], {
      timeoutMs: 20_000,
      what: "injected",
    });
    const victim = await fullId(active.container ?? "");
    const before = await containersOf(svc);
    await dockerOk(["kill", victim]);
    const replacement = await waitFor(async () => (await containersOf(svc)).find((c) => !before.includes(c)), {
      timeoutMs: 30_000,
      what: "Swarm's replacement",
    });
    const run = await waitFor(async () => (await w.history("one.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 20_000,
      what: "the run ended with its target",
    });
    expect(run.message).toBe(`target task ${active.task} gone: nothing to revert`);
    expect(run).toMatchObject({ targets: 1, tasks: [active.task] });
    await c.afterPasses(3); // passes that could have injected it
    expect(await owned(await nsExec(replacement))).toEqual(CLEAN);
    expect((await w.status("one.yaml"))?.active).toEqual([]);
    await expectNothingLeft(w, [svc]);
  }, 120_000);

  it("netem on this kernel: without sch_netem the run fails with KernelUnsupported naming it, nothing left, no retry; with it, the run succeeds and reverts", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "netem.yaml",
      manifest(
        "delay",
        `duration: 3s\nselector: {services: [${svc.name}]}\nfault: {netem: {delay: {time: 100ms, jitter: 10ms, distribution: normal}, rate: 1mbit}}`,
      ),
    );
    const c = controller(w);
    const run = await waitFor(
      async () => (await w.history("netem.yaml")).find((r) => r.result === "Failed" || r.result === "Succeeded"),
      { timeoutMs: 30_000, what: "the run ended" },
    );
    if (await kernelHasNetem()) {
      expect(run.result).toBe("Succeeded");
      await expectNothingLeft(w, [svc]);
      return;
    }
    expect(run.result).toBe("Failed");
    expect(run.reason).toBe("KernelUnsupported");
    expect(run.message).toMatch(/sch_netem/);
    expect((await w.status("netem.yaml"))?.phase).toBe("Failed");
    await expectNothingLeft(w, [svc]);
    await c.afterPasses(3); // passes that could have retried it
    expect(await w.history("netem.yaml")).toHaveLength(1);
    expect(await guardsOf(w)).toEqual([]);
  }, 90_000);
});

describe("network fault and a controller crash", () => {
  it("SIGKILLed mid-fault: the guard reverts at expiry anyway; the restarted controller records the run", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "crash.yaml",
      manifest(
        "crash",
        `duration: 12s\nselector: {services: [${svc.name}]}\nfault: {network: {loss: {probability: 1}}}`,
      ),
    );
    const first = spawnController(w);
    cleanups.push(async () => void first.kill("SIGKILL"));
    const active = await waitFor(async () => (await w.status("crash.yaml"))?.active?.[0], {
      timeoutMs: 25_000,
      what: "injected",
    });
    const target = await fullId(active.container ?? "");
    const exec = await nsExec(target);
    expect((await owned(exec)).chains).toHaveLength(1);
    first.kill("SIGKILL");
    const until = Date.parse(active.until ?? "");
    await sleep(Math.max(0, until - Date.now() - 2_000));
    expect((await owned(exec)).chains).toHaveLength(1); // still held by the guard alone
    const cleanAt = await waitFor(async () => ((await owned(exec)).chains.length === 0 ? Date.now() : false), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: "revert by the guard alone",
    });
    figures.crashExpiryToCleanMs = cleanAt - until;
    expect(cleanAt - until).toBeLessThan(5_000);
    expect((await ping(prober, await overlayIp(target), 5, 0.1)).received).toBe(5);
    expect((await w.history("crash.yaml"))[0]?.result).toBe("Running"); // nobody recorded the end yet

    const second = spawnController(w);
    cleanups.push(async () => void second.kill("SIGTERM"));
    const run = await waitFor(async () => (await w.history("crash.yaml")).find((r) => r.result === "Succeeded"), {
      timeoutMs: 20_000,
      what: "the restarted controller records the run",
    });
    expect(run).toMatchObject({ fault: "network", run: active.run });
    await expectNothingLeft(w, [svc]);
    expect(await w.history("crash.yaml")).toHaveLength(1);
  }, 120_000);
});
