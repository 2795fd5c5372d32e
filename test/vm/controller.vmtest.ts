// The controller itself (the compiled bin, as users run it) reconciling netem schedules on a
// stock kernel: a manifest is written into its folder, the controller applies the fault to a
// real Swarm task, the effect is measured on real packets, and the revert (at expiry, on
// suspend, on delete) brings the round-trip time back and leaves nothing of ours. Then the
// practice's own walkthrough: a published service with a healthcheck, a random kill, and a netem
// delay on `lo` that fails the healthcheck so Swarm replaces the task.
//
// The only difference from a production run is `--guard-timeout 90s`: under software
// emulation a guard's node process needs ~10 s to start, the default bound.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import { createTestService, dockerOk, runningTasks, waitFor, type TestService } from "../helpers/docker.js";
import { manifest, workspace, type Workspace } from "../e2e/harness.js";
import {
  chaosLeftovers,
  createNetwork,
  fetchSeconds,
  mean,
  median,
  ping,
  report,
  requireVmLane,
  serveBlob,
  startPeer,
  startTargetService,
  sweepLeftovers,
  type Net,
  type Peer,
  type TargetTask,
} from "./lane.js";

const BIN = resolve("dist/src/cli/main.js");
const MBIT = 1_000_000;

/** SIGTERM, then SIGKILL if the controller has not exited within 5 s. */
async function stopController(ctl: ChildProcess | undefined): Promise<void> {
  if (!ctl || ctl.exitCode !== null || ctl.signalCode !== null) return;
  const exited = new Promise<boolean>((r) => ctl.once("exit", () => r(true)));
  ctl.kill("SIGTERM");
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref());
  if (!(await Promise.race([exited, timer]))) ctl.kill("SIGKILL");
}

describe("the controller on a stock kernel: netem schedules on a real Swarm task", () => {
  let ws: Workspace;
  let ctl: ChildProcess;
  let logFile: string;
  let net: Net;
  let t: TargetTask;
  let p1: Peer;
  let dest: TestService;
  let destIp: string;
  let base = { mean: 0 };
  let baseFetch = 0;

  const status = async (file: string): Promise<ChaosScheduleStatus | undefined> => {
    const doc = parseAllDocuments(await readFile(join(ws.dir, file), "utf8"))[0];
    return doc && !Array.isArray(doc) ? (doc.toJS() as { status?: ChaosScheduleStatus }).status : undefined;
  };
  const guards = async (): Promise<string[]> =>
    (
      await dockerOk([
        "ps",
        "-aq",
        "--filter",
        `label=chaosctl.io/instance=${ws.instance}`,
        "--filter",
        "label=chaosctl.io/role=guard",
      ])
    )
      .split("\n")
      .filter(Boolean);

  /** Until the schedule's run is Running with one active injection (the guard applied it). */
  async function untilActive(file: string): Promise<RunRecord> {
    return waitFor(
      async () => {
        const s = await status(file);
        const r = s?.history?.at(-1);
        if (r && r.result !== "Running") throw new Error(`run ended before it was seen active: ${JSON.stringify(r)}`);
        return r && (s?.active?.length ?? 0) > 0 ? r : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500, what: `${file}: a run active` },
    );
  }

  async function untilEnded(file: string, timeoutMs = 150_000): Promise<RunRecord> {
    return waitFor(
      async () => {
        const s = await status(file);
        const r = s?.history?.at(-1);
        return r && r.result !== "Running" && (s?.active?.length ?? 0) === 0 ? r : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `${file}: the run to end` },
    );
  }

  /** Nothing of ours in the target's namespace and no guard of this controller left. */
  async function expectClean(): Promise<void> {
    await waitFor(async () => ((await guards()).length === 0 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "guards collected",
    });
    expect(await chaosLeftovers(t.id)).toEqual([]);
  }

  const netemOn = (name: string, spec: string, duration = "50s"): string =>
    manifest(
      name,
      `schedule: "@once"\nduration: ${duration}\nselector:\n  services: [${t.service.name}]\nsafety:\n  allowAll: true\nfault:\n  netem:\n${spec.replace(/^/gm, "    ")}`,
    );

  beforeAll(async () => {
    requireVmLane();
    ws = await workspace();
    net = await createNetwork();
    // Independent of each other: started together (each waits for its own task or container).
    [t, p1, dest] = await Promise.all([
      startTargetService(net),
      startPeer(net),
      createTestService({
        namePrefix: "chaosctl-vm-dest",
        flags: ["--network", net.name, "--endpoint-mode", "dnsrr"],
      }),
    ]);
    const destTask = await waitFor(async () => (await runningTasks(dest.id))[0], {
      timeoutMs: 120_000,
      what: "the destination task to run",
    });
    destIp = await dockerOk([
      "inspect",
      "-f",
      `{{(index .NetworkSettings.Networks "${net.name}").IPAddress}}`,
      destTask.containerId ?? "",
    ]);
    await serveBlob(t.id, "blob", 256);
    base = { mean: mean((await ping(t.id, p1.ip, 20, 0.2)).rtts) };
    baseFetch = await fetchSeconds(p1.id, `http://${t.ip}/blob`);
    report("controller-baseline", { rttMs: base.mean, fetchS: baseFetch });
    logFile = join(ws.dir, "..", `${ws.instance}.controller.log`);
    const log = createWriteStream(logFile);
    ctl = spawn(
      process.execPath,
      [BIN, "controller", "--dir", ws.dir, "--instance", ws.instance, "--guard-timeout", "90s", "--log-level", "info"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    ctl.stderr?.pipe(log);
  });

  afterAll(async () => {
    await stopController(ctl);
    // The controller's log, for a failed run's diagnosis (the lane keeps suite.log).
    const text = await readFile(logFile, "utf8").catch(() => "");
    console.log(`--- controller log (last 40 lines) ---\n${text.split("\n").slice(-40).join("\n")}`);
    if (t) await sweepLeftovers(t.id).catch(() => undefined);
    await ws?.cleanup();
    await rm(logFile, { force: true });
    await dest?.remove();
    await p1?.remove();
    await t?.service.remove();
    await net?.remove();
  });

  it("delay 100ms with jitter and a normal distribution: RTT rises while active; at expiry it is back, nothing left", async () => {
    await ws.write(
      "delay.yaml",
      netemOn("vm-delay", "delay: {time: 100ms, jitter: 10ms, distribution: normal}", "45s"),
    );
    const run = await untilActive("delay.yaml");
    const during = await ping(t.id, p1.ip, 20, 0.2);
    report("controller-delay", { baseMs: base.mean, duringMs: mean(during.rtts), medianMs: median(during.rtts) });
    expect(mean(during.rtts) - base.mean).toBeGreaterThan(70);
    expect(mean(during.rtts) - base.mean).toBeLessThan(160);
    const ended = await untilEnded("delay.yaml");
    expect(ended).toMatchObject({ run: run.run, result: "Succeeded" });
    const after = await ping(t.id, p1.ip, 10, 0.2);
    report("controller-delay-after", { afterMs: mean(after.rtts) });
    expect(mean(after.rtts)).toBeLessThan(base.mean + 20);
    await expectClean();
  });

  it("loss 30%: the drop rate over 200 probes lies in a band around it; suspend reverts it at once", async () => {
    const m = netemOn("vm-loss", "loss: {percent: 30}", "120s");
    await ws.write("loss.yaml", m);
    await untilActive("loss.yaml");
    const r = await ping(t.id, p1.ip, 200, 0.05);
    const lost = 1 - r.received / r.sent;
    report("controller-loss", { sent: r.sent, lost });
    expect(lost).toBeGreaterThan(0.18);
    expect(lost).toBeLessThan(0.42);
    const t0 = Date.now();
    await ws.write("loss.yaml", m.replace('  schedule: "@once"', '  schedule: "@once"\n  suspend: true'));
    await waitFor(
      async () => {
        const st = await status("loss.yaml");
        return st?.phase === "Suspended" && (st.active?.length ?? 0) === 0 && (await chaosLeftovers(t.id)).length === 0
          ? true
          : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: "loss.yaml: suspended, nothing active, nothing left in the namespace",
      },
    );
    report("controller-suspend", { revertS: (Date.now() - t0) / 1000 });
    const after = await ping(t.id, p1.ip, 50, 0.05);
    expect(after.received).toBe(after.sent);
    await expectClean();
  });

  it("rate 1mbit: throughput from the target is capped near the rate; deleting the manifest reverts it", async () => {
    await ws.write("rate.yaml", netemOn("vm-rate", "rate: 1mbit", "120s"));
    await untilActive("rate.yaml");
    const s = await fetchSeconds(p1.id, `http://${t.ip}/blob`);
    const mbit = (256 * 1024 * 8) / s / MBIT;
    report("controller-rate", { seconds: s, mbit, unshapedS: baseFetch });
    expect(mbit).toBeGreaterThan(0.5);
    expect(mbit).toBeLessThan(1.1);
    const t0 = Date.now();
    await rm(join(ws.dir, "rate.yaml"));
    await waitFor(async () => ((await chaosLeftovers(t.id)).length === 0 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "the rate limit reverted after delete",
    });
    report("controller-delete", { revertS: (Date.now() - t0) / 1000 });
    expect(await fetchSeconds(p1.id, `http://${t.ip}/blob`)).toBeLessThan(baseFetch + 0.5);
    await expectClean();
  });

  it("to {services}: traffic to the named service is delayed, other traffic is not", async () => {
    await ws.write("to.yaml", netemOn("vm-to", `delay: {time: 150ms}\nto: {services: [${dest.name}]}`, "40s"));
    await untilActive("to.yaml");
    const toDest = mean((await ping(t.id, destIp, 10, 0.2)).rtts);
    const toPeer = mean((await ping(t.id, p1.ip, 10, 0.2)).rtts);
    report("controller-to", { toDestMs: toDest, toOtherMs: toPeer });
    expect(toDest).toBeGreaterThan(120);
    expect(toPeer).toBeLessThan(base.mean + 20);
    await untilEnded("to.yaml");
    await expectClean();
  });

  it("netem delay composed with a network.bandwidth schedule on the same task: both in effect, each reverted at its own expiry", async () => {
    await ws.write("comp-delay.yaml", netemOn("vm-comp-delay", "delay: {time: 100ms}", "80s"));
    await untilActive("comp-delay.yaml");
    await ws.write(
      "comp-bw.yaml",
      manifest(
        "vm-comp-bw",
        `schedule: "@once"\nduration: 40s\nselector:\n  services: [${t.service.name}]\nsafety:\n  allowAll: true\nfault:\n  network:\n    bandwidth: {rate: 1mbit}`,
      ),
    );
    await untilActive("comp-bw.yaml");
    const rtt = mean((await ping(t.id, p1.ip, 10, 0.2)).rtts);
    const s = await fetchSeconds(p1.id, `http://${t.ip}/blob`);
    report("controller-composition", { rttMs: rtt, mbit: (256 * 1024 * 8) / s / MBIT });
    expect(rtt).toBeGreaterThan(base.mean + 70);
    expect((256 * 1024 * 8) / s / MBIT).toBeLessThan(1.1);
    await untilEnded("comp-bw.yaml");
    // The bandwidth cap is gone; the delay stays until its own expiry.
    expect(mean((await ping(t.id, p1.ip, 10, 0.2)).rtts)).toBeGreaterThan(base.mean + 70);
    await untilEnded("comp-delay.yaml");
    expect(mean((await ping(t.id, p1.ip, 10, 0.2)).rtts)).toBeLessThan(base.mean + 20);
    await expectClean();
  });
});

describe("the practice's walkthrough on a stock kernel: routing mesh, healthcheck, kill and netem on lo", () => {
  let ws: Workspace;
  let ctl: ChildProcess;
  let web: TestService;

  const published = async (): Promise<boolean> => {
    try {
      const r = await fetch("http://127.0.0.1:8080/", { signal: AbortSignal.timeout(5_000) });
      return r.ok;
    } catch {
      return false;
    }
  };
  const runOf = async (file: string): Promise<RunRecord | undefined> => {
    const doc = parseAllDocuments(await readFile(join(ws.dir, file), "utf8"))[0];
    const s = doc && !Array.isArray(doc) ? (doc.toJS() as { status?: ChaosScheduleStatus }).status : undefined;
    return s?.history?.at(-1);
  };

  beforeAll(async () => {
    requireVmLane();
    ws = await workspace();
    // As the practice creates it: published through the routing mesh, with a healthcheck.
    web = await createTestService({
      namePrefix: "chaosctl-vm-web",
      replicas: 2,
      flags: [
        "--publish",
        "8080:80",
        "--health-cmd",
        "wget -q -O /dev/null http://127.0.0.1/ || exit 1",
        "--health-interval",
        "3s",
        "--health-timeout",
        "2s",
        "--health-retries",
        "2",
      ],
    });
    await waitFor(async () => ((await runningTasks(web.id)).length === 2 && (await published()) ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: "2 tasks and the published port answering",
    });
    ctl = spawn(
      process.execPath,
      [BIN, "controller", "--dir", ws.dir, "--instance", ws.instance, "--guard-timeout", "90s", "--log-level", "warn"],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
  });

  afterAll(async () => {
    await stopController(ctl);
    await ws?.cleanup();
    await web?.remove();
  });

  it("a random kill: Swarm replaces the task, the run records recoverySeconds, the published port keeps answering", async () => {
    const before = new Set((await runningTasks(web.id)).map((x) => x.id));
    await writeFile(
      join(ws.dir, "kill.yaml"),
      manifest(
        "vm-walk-kill",
        `schedule: "@once"\nselector:\n  services: [${web.name}]\n  mode: one\nfault:\n  kill: {signal: SIGKILL}`,
      ),
    );
    const run = await waitFor(
      async () => {
        const r = await runOf("kill.yaml");
        return r?.recovery === "Recovered" ? r : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: "the kill run to record its recovery" },
    );
    const after = (await runningTasks(web.id)).map((x) => x.id);
    report("walkthrough-kill", {
      recoverySeconds: run.recoverySeconds ?? -1,
      replaced: after.filter((id) => !before.has(id)).length,
    });
    expect(run.result).toBe("Succeeded");
    expect(run.recoverySeconds).toBeGreaterThan(0);
    expect(after.filter((id) => !before.has(id)).length).toBeGreaterThanOrEqual(1);
    expect(await published()).toBe(true);
  });

  it("netem delay on lo fails the healthcheck: Swarm replaces the unhealthy task, the run records it and recoverySeconds", async () => {
    const before = (await runningTasks(web.id)).map((x) => x.id);
    await writeFile(
      join(ws.dir, "lo.yaml"),
      manifest(
        "vm-walk-lo",
        `schedule: "@once"\nduration: 120s\nselector:\n  services: [${web.name}]\n  mode: one\nfault:\n  netem:\n    interface: lo\n    delay: {time: 2500ms}`,
      ),
    );
    const run = await waitFor(
      async () => {
        const r = await runOf("lo.yaml");
        return r && r.result !== "Running" && r.recovery === "Recovered" ? r : undefined;
      },
      { timeoutMs: 200_000, intervalMs: 1000, what: "the lo run to end with the service recovered" },
    );
    const after = (await runningTasks(web.id)).map((x) => x.id);
    report("walkthrough-lo", {
      result: run.result ?? "",
      reason: run.reason ?? "",
      recoverySeconds: run.recoverySeconds ?? -1,
      message: run.message ?? "",
    });
    // The faulted task was replaced by Swarm (its healthcheck failed), not reverted by us.
    const faulted = run.tasks?.[0];
    expect(faulted).toBeDefined();
    expect(before).toContain(faulted);
    expect(after).not.toContain(faulted);
    expect(run.recoverySeconds).toBeGreaterThan(0);
    expect(await published()).toBe(true);
  });
});
