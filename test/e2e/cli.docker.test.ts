// chaosctl's verbs against the real engine: apply / get / describe / diff / delete round trips on
// the Swarm config store, the kill switch (suspend --all) reverting a running controller's
// chaos within one pass, and audit reporting (then no longer reporting) an orphan left by a
// SIGKILLed controller. Own store scope, own controller instances; everything removed by id.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/log.js";
import { buildController } from "../../src/controller/build.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { STORE_LABEL } from "../../src/store/swarm/labels.js";
import { createLogger } from "../../src/util/log.js";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  requireSwarm,
  runningTasks,
  waitFor,
  type TestService,
} from "../helpers/docker.js";
import { chaosctl, tableRows } from "../cli/harness.js";
import { manifest, spawnController, workspace, type Workspace } from "./harness.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const scope = `cli-e2e-${randomBytes(4).toString("hex")}`;
const engine = new DockerEngine();
beforeAll(async () => {
  await requireSwarm([WEB_IMAGE, APP_IMAGE]);
  process.env.CHAOSCTL_SWARM_SCOPE = scope;
  // The controller runs as its own process (as in production, and so it can be SIGKILLed): the
  // compiled bin, checked fresh by the docker group's global set-up (test/helpers/fresh.ts).
  expect(existsSync(BIN)).toBe(true);
});
afterAll(async () => {
  for (const c of await engine.listConfigs([`${STORE_LABEL}=${scope}`]))
    await engine.removeConfig(c.id).catch(() => undefined);
});

async function service(replicas: number): Promise<TestService> {
  const svc = await createTestService({ replicas, namePrefix: "chaosctl-cli-e2e" });
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

const BIN = resolve("dist/src/cli/main.js");

/** `chaosctl controller --audit-log FILE` as its own process; stop() sends SIGTERM and waits. */
function controllerProcess(w: Workspace, auditLog: string): { stop(): Promise<void> } {
  const child = spawn(
    process.execPath,
    [BIN, "controller", "--dir", w.dir, "--instance", w.instance, "--audit-log", auditLog, "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise((r) => child.once("exit", r));
  const handle = { stop: async () => void (child.kill("SIGTERM"), await exited) };
  cleanups.push(handle.stop);
  return handle;
}

/** The controller in this process (only while no CLI write runs: one process, one store's temp files). */
function controller(w: Workspace): { stop(): Promise<void> } {
  const logger = createLogger(process.env.CHAOSCTL_TEST_LOG ?? "silent");
  const store = new DirectoryStore({ dir: w.dir, logger });
  const c = buildController({
    store,
    image: APP_IMAGE,
    logger,
    instance: w.instance,
    resyncMs: 2_000,
  });
  const ctl = new AbortController();
  const done = c.run(ctl.signal);
  const handle = { stop: async () => (ctl.abort(), await done.catch(() => undefined), await store.close()) };
  cleanups.push(handle.stop);
  return handle;
}

const pausedOf = async (svc: TestService): Promise<string[]> =>
  (
    await docker([
      "ps",
      "-q",
      "--no-trunc",
      "--filter",
      `label=com.docker.swarm.service.id=${svc.id}`,
      "--filter",
      "status=paused",
    ])
  ).stdout
    .split("\n")
    .filter(Boolean);
const guardsOf = async (instance: string): Promise<string[]> =>
  (
    await docker([
      "ps",
      "-q",
      "--filter",
      `label=chaosctl.io/instance=${instance}`,
      "--filter",
      "label=chaosctl.io/role=guard",
      "--filter",
      "status=running",
    ])
  ).stdout
    .split("\n")
    .filter(Boolean);
const records = async (path: string): Promise<AuditRecord[]> =>
  (await readFile(path, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord);

describe("chaosctl on the Swarm config store", () => {
  it("apply / get / describe / diff / delete round trip; -o json matches the table", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chaosctl-cli-e2e-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "s.yaml");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      file,
      manifest(
        "cli-kill",
        'schedule: "@every 1h"\nsuspend: true\nselector: {services: [nothing-here]}\nfault: {kill: {}}',
      ) +
        "---\n" +
        manifest("cli-pause", "suspend: true\nduration: 5s\nselector: {services: [nothing-here]}\nfault: {pause: {}}"),
    );
    const s = ["--store", "swarm"];

    // The selectors name a service this cluster does not have: apply warns, as kubectl relays a
    // server's warnings, and applies anyway.
    const warnings =
      "Warning: default/cli-kill: the selector matches nothing in this cluster: service nothing-here does not exist\n" +
      "Warning: default/cli-pause: the selector matches nothing in this cluster: service nothing-here does not exist\n";
    expect(await chaosctl(["apply", "-f", file, ...s])).toEqual({
      code: 0,
      stdout: "chaosschedule/cli-kill created\nchaosschedule/cli-pause created\n",
      stderr: warnings,
    });
    expect((await chaosctl(["apply", "-f", file, ...s])).stdout).toBe(
      "chaosschedule/cli-kill unchanged\nchaosschedule/cli-pause unchanged\n",
    );
    expect(await chaosctl(["diff", "-f", file, ...s])).toEqual({ code: 0, stdout: "", stderr: warnings });

    const table = await chaosctl(["get", ...s]);
    expect(table.code).toBe(0);
    const rows = tableRows(table.stdout).slice(1);
    const items = JSON.parse((await chaosctl(["get", "-o", "json", ...s])).stdout).items as Array<{
      metadata: { name: string; namespace: string };
      spec: { schedule: string; fault: object; suspend: boolean };
    }>;
    expect(rows.map((r) => r.slice(0, 5))).toEqual(
      items.map((i) => [
        i.metadata.namespace,
        i.metadata.name,
        i.spec.schedule,
        Object.keys(i.spec.fault)[0],
        String(i.spec.suspend),
      ]),
    );
    expect(rows.map((r) => r[1])).toEqual(["cli-kill", "cli-pause"]);
    expect((await chaosctl(["get", "-o", "wide", ...s])).stdout).toMatch(/config\/chaosctl\.default\.cli-kill\./);

    const described = await chaosctl(["describe", "cli-pause", "--no-cluster", ...s]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^Name:\s+cli-pause$/m);
    expect(described.stdout).toMatch(/^Duration:\s+5s$/m);
    expect(described.stdout).toMatch(/^Annotations:.*chaosctl\.io\/applied-by=.+@/m);

    await writeFile(file, (await readFile(file, "utf8")).replace("@every 1h", "@every 2h"));
    const diff = await chaosctl(["diff", "-f", file, ...s]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('-  schedule: "@every 1h"\n+  schedule: "@every 2h"\n');
    expect((await chaosctl(["apply", "-f", file, ...s])).stdout).toBe(
      "chaosschedule/cli-kill configured\nchaosschedule/cli-pause unchanged\n",
    );
    expect(JSON.parse((await chaosctl(["get", "cli-kill", "-o", "json", ...s])).stdout)).toMatchObject({
      metadata: { generation: 2 },
      spec: { schedule: "@every 2h" },
    });

    expect((await chaosctl(["resume", "cli-kill", ...s])).stdout).toBe("chaosschedule/cli-kill resumed\n");
    expect((await chaosctl(["suspend", "--all", ...s])).stdout).toBe(
      "chaosschedule/cli-kill suspended\nchaosschedule/cli-pause unchanged (already suspended)\n",
    );
    expect(JSON.parse((await chaosctl(["get", "cli-kill", "-o", "json", ...s])).stdout)).toMatchObject({
      metadata: { generation: 4 },
      spec: { suspend: true },
    });

    expect((await chaosctl(["delete", "-f", file, ...s])).stdout).toBe(
      "chaosschedule/cli-kill deleted\nchaosschedule/cli-pause deleted\n",
    );
    expect((await chaosctl(["get", "cli-kill", ...s])).code).toBe(1);
    expect(await engine.listConfigs([`${STORE_LABEL}=${scope}`])).toEqual([]);
  });
});

describe("the kill switch", () => {
  it("suspend --all reverts a running controller's active chaos within one pass, logged in both audit logs", async () => {
    const svc = await service(2);
    const w = await ws();
    const log = join(w.dir, "..", `${w.instance}.audit.jsonl`);
    cleanups.push(() => rm(log, { force: true }));
    const c = controllerProcess(w, log);
    const r = await chaosctl(["apply", "-f", "-", "--dir", w.dir, "--audit-log", log], {
      stdin: manifest("long-pause", `duration: 60s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    });
    expect(r).toMatchObject({ code: 0, stderr: "", stdout: "chaosschedule/long-pause created\n" });
    await waitFor(async () => (await pausedOf(svc)).length === 1, { timeoutMs: 30_000, what: "a paused task" });
    // The controller appends its pass's lines when the pass ends, which under load can come after
    // the commands below: the suspend is issued once its apply is in the log, so the order asserted
    // at the end is the order of the actions.
    await waitFor(async () => (await records(log)).some((x) => x.actor === "controller" && x.action === "apply"), {
      timeoutMs: 10_000,
      what: "the controller's apply line in the audit log",
    });
    const active = await chaosctl(["get", "active", "--instance", w.instance, "-o", "json"]);
    const items = JSON.parse(active.stdout).items as Array<{
      schedule: string;
      fault: string;
      service: string;
      node: string;
    }>;
    expect(items).toMatchObject([{ schedule: "default/long-pause", fault: "pause", service: svc.name }]);
    const activeRows = tableRows((await chaosctl(["get", "active", "--instance", w.instance])).stdout);
    expect(activeRows[0]).toEqual(["SCHEDULE", "FAULT", "SERVICE", "NODE", "SINCE", "UNTIL"]);
    expect(activeRows.slice(1).map((r) => r.slice(0, 4))).toEqual(
      items.map((i) => [i.schedule, i.fault, i.service, i.node]),
    );
    const described = await chaosctl(["describe", "long-pause", "--dir", w.dir]);
    expect(described.stdout).toMatch(/Active Injections: \(from the cluster\)\n.*\n {2}pause\s+\S+/);

    const t0 = Date.now();
    expect((await chaosctl(["suspend", "--all", "--dir", w.dir, "--audit-log", log])).stdout).toBe(
      "chaosschedule/long-pause suspended\n",
    );
    // Woken by the folder watcher, not by the 30 s resync nor the 60 s expiry (the audit log
    // below says the revert's reason: Suspended). Usually within 0.3 s; the bound is a third of
    // the resync, so a missed wake fails here.
    await waitFor(async () => (await pausedOf(svc)).length === 0 && (await guardsOf(w.instance)).length === 0, {
      timeoutMs: 10_000,
      what: "the pause reverted",
    });
    const took = Date.now() - t0;
    await c.stop();
    const recs = await records(log);
    expect(recs.map((x) => `${x.actor} ${x.action} ${x.result}${x.reason ? " " + x.reason : ""}`)).toEqual([
      "cli apply created",
      "controller apply ok",
      "cli suspend suspended",
      "controller revert ok Suspended",
    ]);
    const applied = recs[1] as AuditRecord;
    expect(applied).toMatchObject({
      schedule: "default/long-pause",
      generation: 1,
      fault: "pause",
      origin: `controller/${w.instance}`,
    });
    expect(applied.run).toBe(recs[3]?.run);
    expect(applied.target).toContain(svc.name);
    expect(applied.node).toBeTruthy();
    console.log(`kill switch: pause reverted ${took} ms after suspend --all`);
  });
});

describe("audit", () => {
  it("reports the orphan a SIGKILLed controller leaves (a guard whose schedule was deleted), exit 1, and stops once it is cleaned", async () => {
    const svc = await service(2);
    const w = await ws();
    await w.write(
      "p.yaml",
      manifest("orphan-pause", `duration: 60s\nselector: {services: [${svc.name}]}\nfault: {pause: {}}`),
    );
    const child = spawnController(w);
    cleanups.push(async () => void child.kill("SIGKILL"));
    await waitFor(async () => (await guardsOf(w.instance)).length === 1, {
      timeoutMs: 30_000,
      what: "a running guard",
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect((await chaosctl(["delete", "orphan-pause", "--dir", w.dir])).code).toBe(0);

    const audit = await chaosctl(["audit", "--dir", w.dir, "--instance", w.instance, "-o", "json"]);
    expect(audit.code).toBe(1);
    const report = JSON.parse(audit.stdout);
    expect(report.orphans).toBe(1);
    expect(report.entries).toMatchObject([
      {
        kind: "guard",
        fault: "pause",
        orphan: true,
        owner: { schedule: "default/orphan-pause", instance: w.instance },
        target: { service: svc.name },
        reasons: ["owner schedule default/orphan-pause is not in the store"],
      },
    ]);
    const table = await chaosctl(["audit", "--dir", w.dir, "--instance", w.instance]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/ORPHAN/);
    expect(table.stdout).toMatch(
      /orphan: guard .* \(default\/orphan-pause run .*\): owner schedule default\/orphan-pause is not in the store/,
    );

    // A controller of the same instance adopts and reverts it (Deleted); audit is clean again.
    const c = controller(w);
    await waitFor(async () => (await pausedOf(svc)).length === 0 && (await guardsOf(w.instance)).length === 0, {
      timeoutMs: 20_000,
      what: "the orphan reverted",
    });
    await c.stop();
    const clean = await chaosctl(["audit", "--dir", w.dir, "--instance", w.instance, "-o", "json"]);
    expect(JSON.parse(clean.stdout)).toMatchObject({ orphans: 0, entries: [] });
    expect(clean.code).toBe(0);
  });
});
