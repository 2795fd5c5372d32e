// Network faults in a real container's namespace on this machine's kernel: loss, bandwidth,
// partition, netem (KernelUnsupported on a kernel without sch_netem), composition, foreign qdiscs. Drives the converge code
// directly with a helper sharing the target's namespace (what the guard does from inside it).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyInjection, observe, revertInjection, sweep, type NetnsExec } from "../../src/faults/netns/converge.js";
import { ForeignQdisc, KernelUnsupported } from "../../src/faults/netns/errors.js";
import { ownedNames, type InjectionKey } from "../../src/faults/netns/ids.js";
import { netemInjection } from "../../src/faults/netem/injection.js";
import { networkInjection } from "../../src/faults/network/injection.js";
import { dockerOk, requireSwarm, WEB_IMAGE } from "../helpers/docker.js";
import { kernelHasNetem } from "../helpers/kernel.js";
import { BASE_IMAGE, CLEAN, fetchSeconds, NetnsLab, owned, ping } from "./netns-fixture.js";

const lab = new NetnsLab();
let target: { id: string; ip: string };
let prober: { id: string; ip: string };
let exec: NetnsExec;
const key = (schedule: string, fault: InjectionKey["fault"] = "network"): InjectionKey => ({
  schedule: `test/${schedule}`,
  run: "r1",
  fault,
});
const figures: Record<string, string> = {};
const ms = (t0: number) => Math.round(performance.now() - t0);

beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, BASE_IMAGE]);
  await lab.up();
  target = await lab.web();
  prober = await lab.web();
  exec = await lab.helper(target.id);
  // 256 KiB to serve: at 1 mbit that is about 2 s.
  await dockerOk(["exec", target.id, "dd", "if=/dev/zero", "of=/www/big", "bs=1024", "count=256"]);
});

afterEach(async () => {
  // After every test, nothing of ours is left in the target's namespace (swept anyway, so
  // one failing test does not cascade into the next).
  const left = await owned(exec);
  await sweep(exec);
  expect(left).toEqual(CLEAN);
});

afterAll(async () => {
  await lab.down();
  console.log("network fault figures:", JSON.stringify(figures, null, 1));
});

describe("network faults on a real namespace", () => {
  it("loss 0.5: about half of 200 pings lost while active, none after revert", async () => {
    const inj = networkInjection(key("loss"), { loss: { probability: 0.5 } });
    let t0 = performance.now();
    await applyInjection(exec, inj);
    figures.lossApplyMs = String(ms(t0));
    const during = await ping(prober.id, target.ip, 200, 0.02);
    const dropRate = 1 - during.received / during.sent;
    figures.lossDropRate = dropRate.toFixed(3);
    expect(during.sent).toBe(200);
    expect(dropRate).toBeGreaterThan(0.35);
    expect(dropRate).toBeLessThan(0.65);
    t0 = performance.now();
    await revertInjection(exec, inj.key);
    figures.lossRevertMs = String(ms(t0));
    const after = await ping(prober.id, target.ip, 50, 0.02);
    expect(after.received).toBe(50);
  });

  it("bandwidth 1mbit: 256 KiB takes at least what the rate implies, fast again after revert", async () => {
    const base = await fetchSeconds(prober.id, target.ip, "big");
    expect(base.ok).toBe(true);
    const inj = networkInjection(key("bw"), { bandwidth: { rate: "1mbit", burst: "32kb" } });
    let t0 = performance.now();
    await applyInjection(exec, inj);
    figures.bwApplyMs = String(ms(t0));
    const slow = await fetchSeconds(prober.id, target.ip, "big");
    expect(slow.ok).toBe(true);
    // (256 KiB - 32 KiB burst) * 8 / 1e6 = 1.84 s at least
    expect(slow.seconds).toBeGreaterThan(1.8);
    t0 = performance.now();
    await revertInjection(exec, inj.key);
    figures.bwRevertMs = String(ms(t0));
    const fast = await fetchSeconds(prober.id, target.ip, "big");
    figures.bwSeconds = `base ${base.seconds.toFixed(2)} / limited ${slow.seconds.toFixed(2)} / after ${fast.seconds.toFixed(2)}`;
    expect(fast.ok).toBe(true);
    expect(fast.seconds).toBeLessThan(slow.seconds / 3);
  });

  it("partition from the prober (both directions): no traffic while active, traffic after revert", async () => {
    const inj = networkInjection(key("part"), { partition: { cidrs: [prober.ip], direction: "both" } });
    await applyInjection(exec, inj);
    expect((await ping(prober.id, target.ip, 3, 0.2)).received).toBe(0);
    expect((await fetchSeconds(prober.id, target.ip, "", 2)).ok).toBe(false);
    await revertInjection(exec, inj.key);
    expect((await ping(prober.id, target.ip, 3, 0.2)).received).toBe(3);
    expect((await fetchSeconds(prober.id, target.ip, "")).ok).toBe(true);
  });

  it("partition direction 'to' drops only the target's traffic to the peer (replies included)", async () => {
    const inj = networkInjection(key("part-to"), { partition: { cidrs: [`${prober.ip}/32`], direction: "to" } });
    await applyInjection(exec, inj);
    const ipt = (await observe(exec)).ipt;
    expect(ipt.chains).toEqual([ownedNames(inj.key).chainOut]);
    expect((await ping(prober.id, target.ip, 3, 0.2)).received).toBe(0);
    await revertInjection(exec, inj.key);
  });

  it("netem on this kernel: without sch_netem KernelUnsupported, nothing left (root and class rolled back); with it, applied and reverted clean", async () => {
    const inj = netemInjection(key("delay", "netem"), {
      delay: { time: "100ms", jitter: "10ms", distribution: "normal" },
      rate: "1mbit",
    });
    const err = await applyInjection(exec, inj).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(await kernelHasNetem())) {
      expect(err).toBeInstanceOf(KernelUnsupported);
      expect((err as KernelUnsupported).missing).toBe("sch_netem");
      expect((err as KernelUnsupported).reason).toBe("KernelUnsupported");
    } else {
      expect(err).toBeUndefined();
      expect(await owned(exec)).not.toEqual(CLEAN);
      await revertInjection(exec, inj.key);
    }
    expect(await owned(exec)).toEqual(CLEAN);
  });

  it("netem beside a bandwidth fault of another owner: the bandwidth stays whether netem fails (no sch_netem, leaving nothing) or applies (its own class beside)", async () => {
    const bw = networkInjection(key("bw2"), { bandwidth: { rate: "1mbit" } });
    await applyInjection(exec, bw);
    const netem = netemInjection(key("delay2", "netem"), {
      delay: { time: "10ms" },
      to: { cidrs: [prober.ip], ports: [] },
    });
    if (await kernelHasNetem()) {
      await applyInjection(exec, netem);
      expect((await observe(exec)).classMinors.eth0).toContain(ownedNames(bw.key).minor);
      await revertInjection(exec, netem.key);
    } else await expect(applyInjection(exec, netem)).rejects.toThrow(/sch_netem/);
    const obs = await observe(exec);
    expect(obs.classMinors.eth0).toEqual([ownedNames(bw.key).minor]);
    expect(obs.filterPrefs.eth0).toEqual([]); // a bandwidth fault has no filter: the shared cap shapes everything
    expect((await fetchSeconds(prober.id, target.ip, "big")).seconds).toBeGreaterThan(1.8);
    await revertInjection(exec, bw.key);
  });

  it("composition: loss (owner A) + bandwidth (owner B); revert A keeps B, revert B: clean", async () => {
    const a = networkInjection(key("compose-loss"), { loss: { probability: 0.5 } });
    const b = networkInjection(key("compose-bw"), { bandwidth: { rate: "1mbit" } });
    await applyInjection(exec, a);
    await applyInjection(exec, b);
    await applyInjection(exec, a); // idempotent: a second apply changes nothing
    const both = await owned(exec);
    expect(both.roots).toEqual(["eth0"]);
    expect(both.chains).toEqual([ownedNames(a.key).chainOut]);
    expect(both.jumps).toHaveLength(1);
    const lossy = await ping(prober.id, target.ip, 100, 0.02);
    expect(lossy.received).toBeLessThan(80);

    await revertInjection(exec, a.key);
    expect((await ping(prober.id, target.ip, 30, 0.02)).received).toBe(30);
    const stillSlow = await fetchSeconds(prober.id, target.ip, "big");
    expect(stillSlow.seconds).toBeGreaterThan(1.8);
    expect((await owned(exec)).chains).toEqual([]);

    await revertInjection(exec, b.key);
    expect(await revertInjection(exec, b.key)).toBe(0); // revert is idempotent
    expect((await fetchSeconds(prober.id, target.ip, "big")).seconds).toBeLessThan(1);
  });

  it("two bandwidth faults of different owners: the lower rate applies; reverting it hands the cap to the other", async () => {
    const slow = networkInjection(key("bw-slow"), { bandwidth: { rate: "1mbit" } });
    const fast = networkInjection(key("bw-fast"), { bandwidth: { rate: "4mbit" } });
    await applyInjection(exec, fast);
    await applyInjection(exec, slow);
    const capOf = async () => (await observe(exec)).qdiscs.find((x) => x.parent === "1c4a:2")?.options?.rate;
    expect(await capOf()).toBe(125_000); // bytes/s: the rest's tbf is the 1mbit one
    const both = await fetchSeconds(prober.id, target.ip, "big");
    await revertInjection(exec, slow.key);
    expect(await capOf()).toBe(500_000);
    const fastOnly = await fetchSeconds(prober.id, target.ip, "big");
    await revertInjection(exec, fast.key);
    const none = await fetchSeconds(prober.id, target.ip, "big");
    figures.twoBandwidths = `1mbit+4mbit ${both.seconds.toFixed(2)} / 4mbit ${fastOnly.seconds.toFixed(2)} / none ${none.seconds.toFixed(2)}`;
    expect(both.seconds).toBeGreaterThan(1.8);
    // (256 - 32) KiB at 4 mbit: 0.46 s
    expect(fastOnly.seconds).toBeGreaterThan(0.4);
    expect(fastOnly.seconds).toBeLessThan(1.2);
    expect(none.seconds).toBeLessThan(0.4);
  });

  it("concurrent guards in one namespace: parallel applies and a revert racing an apply converge", async () => {
    const exec2 = await lab.helper(target.id); // a second process in the same namespace, as a second guard is
    const a = networkInjection(key("race-a"), { bandwidth: { rate: "5mbit" }, loss: { probability: 0.01 } });
    const b = networkInjection(key("race-b"), { bandwidth: { rate: "7mbit" } });
    const c = networkInjection(key("race-c"), {
      partition: { cidrs: ["192.0.2.1"], direction: "to" },
      bandwidth: { rate: "9mbit" },
    });
    await Promise.all([applyInjection(exec, a), applyInjection(exec2, b)]);
    let obs = await observe(exec);
    expect(obs.classMinors.eth0?.sort()).toEqual([ownedNames(a.key).minor, ownedNames(b.key).minor].sort());
    // a's revert (which may delete the shared root) races c's apply; b is reverted too, so the
    // root may really go while c is half-way: c's verify must put it back.
    await Promise.all([
      revertInjection(exec, a.key).then(() => revertInjection(exec, b.key)),
      applyInjection(exec2, c),
    ]);
    obs = await observe(exec);
    expect(obs.classMinors.eth0).toEqual([ownedNames(c.key).minor]);
    expect(obs.filterPrefs.eth0).toEqual([]);
    // the cap follows the one bandwidth left (c: 9mbit), whatever order the racing reverts ran in
    expect(obs.qdiscs.find((x) => x.parent === "1c4a:2")?.options?.rate).toBe(9e6 / 8);
    expect(obs.ipt.chains).toEqual([ownedNames(c.key).chainOut]);
    expect(obs.qdiscs.some((q) => q.parent === ownedNames(c.key).classId)).toBe(true);
    await revertInjection(exec2, c.key);
  });

  it("a root qdisc that is not ours: ForeignQdisc, left exactly as it was", async () => {
    const foreign = [
      "tc",
      "qdisc",
      "add",
      "dev",
      "eth0",
      "root",
      "handle",
      "8001:",
      "tbf",
      "rate",
      "100mbit",
      "burst",
      "64kb",
      "latency",
      "50ms",
    ];
    expect((await exec(foreign)).exitCode).toBe(0);
    try {
      const inj = networkInjection(key("foreign"), { bandwidth: { rate: "1mbit" } });
      await expect(applyInjection(exec, inj)).rejects.toBeInstanceOf(ForeignQdisc);
      const root = (await observe(exec)).qdiscs.find((q) => q.dev === "eth0" && q.root);
      expect(root).toMatchObject({ kind: "tbf", handle: "8001:" });
    } finally {
      await exec(["tc", "qdisc", "del", "dev", "eth0", "root", "handle", "8001:"]);
    }
  });

  it("an interface that does not exist: NoSuchInterface, nothing left", async () => {
    const inj = networkInjection(key("noif"), {
      interface: "eth7",
      bandwidth: { rate: "1mbit" },
      loss: { probability: 0.1 },
    });
    await expect(applyInjection(exec, inj)).rejects.toMatchObject({ reason: "NoSuchInterface" });
  });

  it("shell metacharacters in a comment-bearing owner reach iptables as one argv element", async () => {
    const inj = networkInjection(
      { schedule: "ns/a;touch /tmp/pwned", run: "$(id)`x`", fault: "network" },
      { loss: { probability: 0.01 } },
    );
    await applyInjection(exec, inj);
    const jump = (await observe(exec)).ipt.jumps[0];
    expect(jump?.args).toContain("chaosctl:network:ns/a_touch_/tmp/pwned:__id__x_");
    expect((await exec(["ls", "/tmp/pwned"])).exitCode).not.toBe(0);
    await revertInjection(exec, inj.key);
  });
});
