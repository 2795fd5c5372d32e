// Node faults on a real three-node Swarm (test/helpers/cluster.ts: one dockerd per network
// namespace; node 1 the only manager, nodes 2 and 3 workers):
// - drain node 2 (the driver, against the manager's engine): its tasks move to other nodes, the
//   guard on the manager restores its availability at expiry;
// - partition node 3 through the controller itself (compiled bin, node 3 reached through its
//   agent): the manager sees it Down and reschedules its tasks, at expiry its guard heals it, it
//   is Ready again and the run records recoverySeconds;
// - SIGKILL the controller during a partition: the node heals at the lease's expiry anyway;
// - pause node 2 and revert it early: the guard restores on SIGTERM;
// - a drained node whose guard was killed: a restarted controller restores it from the labels;
// - drain of the only manager refused (LastActiveManager; ManagersNotAllowed without allowManagers);
// - reboot through the controller's hook: it stops node 3's dockerd and starts it again, the
//   node goes Down and comes back, the hook saw the node in its environment;
// - after each test nothing of ours remains on any node: no chain, no node label, no guard.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import type { NodeInfo } from "../../src/engine/engine.js";
import { AgentEngine } from "../../src/nodes/agent-engine.js";
import type { DriverContext, Owner, Target } from "../../src/faults/driver.js";
import { observeGuards } from "../../src/faults/guard/observe.js";
import { LABEL_PREFIX, L_RUN } from "../../src/api/labels.js";
import { hostExec } from "../../src/faults/node/host-exec.js";
import { ownedLines, saveArgv } from "../../src/faults/node/partition-rules.js";
import { faultDrivers } from "../../src/faults/registry.js";
import { sharedCluster, type Cluster } from "../helpers/cluster.js";
import { APP_IMAGE, WEB_IMAGE, waitFor } from "../helpers/docker.js";

const PORT = 8947;
const REPLICAS = 6;
const token = randomBytes(32).toString("hex");
const tag = randomBytes(3).toString("hex");
const BIN = resolve("dist/src/cli/main.js");
let cluster: Cluster;
let dir: string;
let tokenFile: string;
let web = "";
let agentService = "";
let secret = "";
const children: ChildProcess[] = [];
const figures: Record<string, number | string> = {};

const node = (i: number) => cluster.nodes[i - 1]!;
const manager = () => node(1).engine;
const lines = (s: string): string[] => s.split("\n").filter(Boolean);
const nodeInfo = async (i: number): Promise<NodeInfo> =>
  (await manager().snapshot()).nodes.find((n) => n.id === node(i).id)!;
const targetOf = (i: number): Target => ({ kind: "node", nodeId: node(i).id, nodeHostname: node(i).hostname });

/** Running tasks of the test service, by node number. */
async function webTasks(): Promise<Map<number, number>> {
  const s = await manager().snapshot();
  const svc = s.services.find((x) => x.name === web)!;
  const out = new Map<number, number>();
  for (const t of s.tasks) {
    if (t.serviceId !== svc.id || t.desiredState !== "running" || t.state !== "running") continue;
    const i = cluster.nodes.findIndex((n) => n.id === t.nodeId) + 1;
    out.set(i, (out.get(i) ?? 0) + 1);
  }
  return out;
}
const total = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** What chaosctl may have left on node i: guards/helpers, our iptables lines, our node labels. */
async function leftovers(i: number): Promise<string[]> {
  const out: string[] = [];
  const containers = lines(
    await cluster.dockerOk(i - 1, ["ps", "-aq", "--filter", `label=${LABEL_PREFIX}role=guard`]),
  ).concat(lines(await cluster.dockerOk(i - 1, ["ps", "-aq", "--filter", `label=${LABEL_PREFIX}role=helper`])));
  out.push(...containers.map((c) => `container ${c}`));
  const save = await hostExec(node(i).engine, APP_IMAGE, node(i).id)(saveArgv());
  if (save.exitCode !== 0) throw new Error(`iptables-save on node ${i}: ${save.stderr}`);
  out.push(...ownedLines(save.stdout).map((l) => `iptables ${l}`));
  const n = await nodeInfo(i);
  out.push(
    ...Object.keys(n.labels)
      .filter((k) => k.startsWith(LABEL_PREFIX))
      .map((k) => `label ${k}`),
  );
  if (n.availability !== "active") out.push(`availability ${n.availability}`);
  return out;
}

// ---- manifests and the controller as its own process -------------------------------------------
interface Ws {
  dir: string;
  instance: string;
  write(name: string, spec: string): Promise<void>;
  history(name: string): Promise<RunRecord[]>;
}
async function ws(): Promise<Ws> {
  const d = await mkdtemp(join(dir, "ws-"));
  const instance = `mn-node-${randomBytes(3).toString("hex")}`;
  const status = async (name: string): Promise<ChaosScheduleStatus | undefined> => {
    const doc = parseAllDocuments(await readFile(join(d, `${name}.yaml`), "utf8"))[0];
    return doc && !Array.isArray(doc) ? (doc.toJS() as { status?: ChaosScheduleStatus }).status : undefined;
  };
  return {
    dir: d,
    instance,
    write: (name, spec) =>
      writeFile(
        join(d, `${name}.yaml`),
        `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, "  ")}\n`,
      ),
    history: async (name) => (await status(name))?.history ?? [],
  };
}

function spawnController(w: Ws, extra: string[] = []): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "controller",
      "--dir",
      w.dir,
      "--instance",
      w.instance,
      "--agent-port",
      String(PORT),
      "--agent-token-file",
      tokenFile,
      "--log-level",
      process.env.CHAOSCTL_TEST_LOG ?? "warn",
      ...extra,
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DOCKER_HOST: `unix://${node(1).socket}` },
    },
  );
  children.push(child);
  return child;
}
const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
async function stopController(c: ChildProcess): Promise<void> {
  if (!alive(c)) return;
  const done = new Promise((r) => c.once("exit", r));
  c.kill("SIGTERM");
  await done;
}

// ---- setup --------------------------------------------------------------------------------------
beforeAll(async () => {
  cluster = await sharedCluster();
  dir = await mkdtemp(join(tmpdir(), "chaosctl-mn-node-"));
  tokenFile = join(dir, "token");
  await writeFile(tokenFile, token, { mode: 0o600 });
  secret = await cluster.dockerOk(0, ["secret", "create", `chaosctl-agent-token-${tag}`, tokenFile]);
  // The agents as the project deploys them (docs/agent.md): global, node's socket, host-mode port.
  agentService = await cluster.dockerOk(0, [
    "service",
    "create",
    "--detach",
    "--quiet",
    "--name",
    `chaosctl-agent-${tag}`,
    "--mode",
    "global",
    "--label",
    "chaosctl.io/role=agent",
    "--container-label",
    "chaosctl.io/role=agent",
    "--secret",
    `source=chaosctl-agent-token-${tag},target=chaosctl-agent-token,mode=0400`,
    "--mount",
    "type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock",
    "--publish",
    `mode=host,target=${PORT},published=${PORT}`,
    APP_IMAGE,
    "agent",
    "--port",
    String(PORT),
    "--image",
    APP_IMAGE,
  ]);
  web = `nf-web-${tag}`;
  await cluster.dockerOk(0, [
    "service",
    "create",
    "--detach",
    "--quiet",
    "--name",
    web,
    "--replicas",
    String(REPLICAS),
    // httpd as PID 1 ignores SIGTERM: every task stop (drain, rebalance, engine stop) would wait
    // out Swarm's 10 s grace for it.
    "--stop-grace-period",
    "1s",
    // The rebalance between tests (afterEach) replaces every task at once, with a short watch.
    "--update-parallelism",
    "0",
    "--update-monitor",
    "1s",
    WEB_IMAGE,
  ]);
  await waitFor(
    async () => {
      const m = await webTasks();
      return total(m) === REPLICAS && [1, 2, 3].every((i) => (m.get(i) ?? 0) > 0);
    },
    { timeoutMs: 60_000, what: `${REPLICAS} tasks of ${web} on all three nodes` },
  );
  // The controller finds agents from the manager's task list: wait until it shows them running.
  await waitFor(
    async () => {
      const s = await manager().snapshot();
      return (
        s.tasks.filter((t) => t.serviceId === agentService && t.state === "running" && t.desiredState === "running")
          .length === 3
      );
    },
    { timeoutMs: 60_000, what: "agent tasks running on all nodes (manager's view)" },
  );
  for (const i of [2, 3]) {
    await waitFor(async () => new AgentEngine({ host: node(i).addr, port: PORT, key: Buffer.from(token) }).whoami(), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `agent on node ${i}`,
    });
  }
}, 300_000);

afterAll(async () => {
  for (const c of children) if (alive(c)) c.kill("SIGKILL");
  if (cluster) {
    if (web) await cluster.docker(0, ["service", "rm", web]);
    if (agentService) await cluster.docker(0, ["service", "rm", agentService]);
    if (secret) await cluster.docker(0, ["secret", "rm", secret]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  console.log("multinode node-fault figures:", JSON.stringify(figures));
}, 180_000);

afterEach(async () => {
  for (const c of children.splice(0)) await stopController(c);
  // Nothing of ours remains on any node: no guard, no helper, no chain, no label; all active.
  const left = await Promise.all([1, 2, 3].map((i) => leftovers(i)));
  for (const i of [1, 2, 3]) expect(left[i - 1], `node ${i}`).toEqual([]);
  // Rebalance for the next test: tasks back on every node (Swarm does not move running tasks
  // back to a node that returned; a forced update reschedules them all).
  const spread = (m: Map<number, number>): boolean =>
    total(m) === REPLICAS && [1, 2, 3].every((i) => (m.get(i) ?? 0) > 0);
  if (spread(await webTasks())) return;
  await cluster.dockerOk(0, ["service", "update", "--detach", "--quiet", "--force", web]);
  // The rolling update done (not still replacing tasks under the next test), and spread.
  await waitFor(
    async () =>
      (await cluster.dockerOk(0, ["service", "inspect", "-f", "{{.UpdateStatus.State}}", web])) === "completed" &&
      spread(await webTasks()),
    { timeoutMs: 90_000, what: `${web} updated and spread on all nodes again` },
  );
}, 180_000);

// ---- tests --------------------------------------------------------------------------------------
describe("node faults on a three-node Swarm", () => {
  it("drain node 2: its tasks move to other nodes, the availability is restored at expiry", async () => {
    const ctx: DriverContext = {
      engine: node(2).engine,
      nodeId: node(2).id,
      manager: manager(),
      image: APP_IMAGE,
      now: new Date(),
    };
    const owner: Owner = {
      schedule: "default/nf-drain",
      generation: 1,
      run: `drain-${tag}`,
      instance: `mn-node-${tag}`,
      expires: new Date(Date.now() + 15_000),
    };
    const before = await webTasks();
    const t0 = Date.now();
    const r = await faultDrivers.get("node")!.apply(ctx, targetOf(2), { action: "drain" }, owner);
    expect(r.phase).toBe("Injected");
    figures.drainApplyMs = Date.now() - t0;
    const drained = await nodeInfo(2);
    expect(drained.availability).toBe("drain");
    expect(drained.labels).toMatchObject({
      "chaosctl.io/original-availability": "active",
      "chaosctl.io/node-action": "drain",
      "chaosctl.io/run": owner.run,
      "chaosctl.io/schedule": owner.schedule,
    });

    // Its tasks move: none left on node 2, all running elsewhere.
    await waitFor(
      async () => {
        const m = await webTasks();
        return !m.get(2) && total(m) === REPLICAS;
      },
      { timeoutMs: 30_000, what: "node 2's tasks moved" },
    );
    figures.drainTasksMovedMs = Date.now() - t0;
    expect(before.get(2)).toBeGreaterThan(0);

    // The guard runs on the manager, says where it runs, and restores node 2 on its own at expiry.
    const [g] = observeGuards(await manager().listContainers([`${L_RUN}=${owner.run}`]), new Date());
    expect(g).toMatchObject({
      fault: "node",
      guardNodeId: node(1).id,
      target: { kind: "node", nodeId: node(2).id },
      guardState: "running",
    });
    const restored = await waitFor(
      async () => ((await nodeInfo(2)).availability === "active" ? Date.now() : undefined),
      { timeoutMs: 30_000, intervalMs: 100, what: "node 2 active again" },
    );
    figures.drainRestoreLateMs = restored - owner.expires!.getTime();
    expect(restored).toBeGreaterThanOrEqual(owner.expires!.getTime() - 200);
    expect(Object.keys((await nodeInfo(2)).labels).filter((k) => k.startsWith(LABEL_PREFIX))).toEqual([]);
    const done = await waitFor(
      async () =>
        observeGuards(await manager().listContainers([`${L_RUN}=${owner.run}`]), new Date()).find(
          (h) => h.guardState === "exited",
        ),
      { timeoutMs: 10_000, what: "drain guard exited" },
    );
    expect(done.guardExitCode).toBe(0);
    // What the controller does with an exited guard whose run is recorded: recover removes it.
    expect(await faultDrivers.get("node")!.recover(ctx, done)).toEqual({ phase: "Recovered" });
  }, 120_000);

  it("pause node 2, then revert early: the guard restores on SIGTERM", async () => {
    const ctx: DriverContext = {
      engine: node(2).engine,
      nodeId: node(2).id,
      manager: manager(),
      image: APP_IMAGE,
      now: new Date(),
    };
    const owner: Owner = {
      schedule: "default/nf-pause",
      generation: 1,
      run: `pause-${tag}`,
      instance: `mn-node-${tag}`,
      expires: new Date(Date.now() + 120_000),
    };
    const r = await faultDrivers.get("node")!.apply(ctx, targetOf(2), { action: "pause" }, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    expect(await nodeInfo(2)).toMatchObject({
      availability: "pause",
      labels: { "chaosctl.io/node-action": "pause", "chaosctl.io/original-availability": "active" },
    });
    // A paused node keeps its tasks.
    expect((await webTasks()).get(2)).toBeGreaterThan(0);
    const t0 = Date.now();
    expect(await faultDrivers.get("node")!.recover(ctx, r.handle)).toEqual({ phase: "Recovered" });
    figures.pauseEarlyRevertMs = Date.now() - t0;
    expect((await nodeInfo(2)).availability).toBe("active");
    expect(lines(await cluster.dockerOk(0, ["ps", "-aq", "--filter", `label=${L_RUN}=${owner.run}`]))).toEqual([]);
  }, 60_000);

  it("a drained node whose guard was killed is restored by a restarted controller, from the node's labels", async () => {
    const ctx: DriverContext = {
      engine: node(2).engine,
      nodeId: node(2).id,
      manager: manager(),
      image: APP_IMAGE,
      now: new Date(),
    };
    const w = await ws();
    const owner: Owner = {
      schedule: "default/orphan",
      generation: 1,
      run: `orphan-${tag}`,
      instance: w.instance,
      expires: new Date(Date.now() + 120_000),
    };
    const r = await faultDrivers.get("node")!.apply(ctx, targetOf(2), { action: "drain" }, owner);
    expect(r.phase).toBe("Injected");
    if (r.phase !== "Injected") return;
    // The guard dies without restoring (SIGKILL, removed): only the node's labels remain.
    await cluster.dockerOk(0, ["rm", "-f", r.handle.guardId!]);
    expect((await nodeInfo(2)).availability).toBe("drain");
    // A controller of the same instance, whose store no longer has that schedule: it adopts the
    // injection from the labels and reverts it (Deleted), through the Swarm API.
    const c = spawnController(w, ["--once"]);
    await new Promise((res) => c.once("exit", res));
    expect(c.exitCode).toBe(0);
    const n = await nodeInfo(2);
    expect(n.availability).toBe("active");
    expect(Object.keys(n.labels).filter((k) => k.startsWith(LABEL_PREFIX))).toEqual([]);
  }, 90_000);

  it("drain of the only manager is refused, and a manager is never drained without allowManagers", async () => {
    const w = await ws();
    await w.write(
      "mgr-allowed",
      `duration: 20s\nselector: {nodes: [${node(1).hostname}]}\nfault: {node: {action: drain, allowManagers: true}}`,
    );
    await w.write(
      "mgr-default",
      `duration: 20s\nselector: {nodes: [${node(1).hostname}]}\nfault: {node: {action: drain}}`,
    );
    const c = spawnController(w, ["--once"]);
    await new Promise((r) => c.once("exit", r));
    expect(c.exitCode).toBe(0);
    expect((await w.history("mgr-allowed"))[0]).toMatchObject({
      result: "Skipped",
      reason: "LastActiveManager",
      fault: "node",
    });
    expect((await w.history("mgr-default"))[0]).toMatchObject({
      result: "Skipped",
      reason: "ManagersNotAllowed",
      fault: "node",
    });
    expect((await nodeInfo(1)).availability).toBe("active");
  }, 60_000);

  it("partition node 3 through the controller: Down, rescheduled, healed at expiry, Ready, recoverySeconds recorded", async () => {
    const w = await ws();
    await w.write(
      "part",
      `duration: 18s\nselector: {nodes: [${node(3).hostname}]}\nfault: {node: {action: partition}}`,
    );
    const before = await webTasks();
    expect(before.get(3)).toBeGreaterThan(0);
    const t0 = Date.now();
    spawnController(w);
    // The guard runs on node 3 itself (started through its agent), in the node's namespace.
    await waitFor(
      async () =>
        lines(
          await cluster.dockerOk(2, [
            "ps",
            "-q",
            "--filter",
            `label=${LABEL_PREFIX}role=guard`,
            "--filter",
            `label=${LABEL_PREFIX}instance=${w.instance}`,
          ]),
        ).length === 1,
      { timeoutMs: 30_000, what: "partition guard on node 3" },
    );
    const down = await waitFor(async () => ((await nodeInfo(3)).state === "down" ? Date.now() : undefined), {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: "manager sees node 3 Down",
    });
    figures.partitionDownAfterMs = down - t0;
    await waitFor(
      async () => {
        const m = await webTasks();
        return total(m) === REPLICAS && !m.get(3);
      },
      { timeoutMs: 40_000, what: "node 3's tasks rescheduled on nodes 1 and 2" },
    );
    figures.partitionRescheduledAfterMs = Date.now() - t0;

    const ready = await waitFor(async () => ((await nodeInfo(3)).state === "ready" ? Date.now() : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "node 3 Ready again",
    });
    figures.partitionReadyAfterMs = ready - t0;
    const run = await waitFor(async () => (await w.history("part")).find((r) => r.recovery === "Recovered"), {
      timeoutMs: 60_000,
      what: "partition run recovered",
    }).catch(async (e: unknown) => {
      throw new Error(`${String(e)}; history: ${JSON.stringify(await w.history("part"))}`);
    });
    expect(run).toMatchObject({ fault: "node", result: "Succeeded", nodes: [node(3).id], services: [web] });
    expect(run.recoverySeconds).toBeGreaterThan(0);
    figures.partitionRecoverySeconds = run.recoverySeconds ?? -1;
    figures.partitionEndedAfterStartMs = Date.parse(run.endedAt ?? "") - Date.parse(run.startedAt ?? "");
    // The controller collects the exited guard once the run is recorded.
    await waitFor(
      async () =>
        (await cluster.dockerOk(2, ["ps", "-aq", "--filter", `label=${LABEL_PREFIX}instance=${w.instance}`])) === "",
      { timeoutMs: 30_000, what: "guard collected" },
    );
  }, 240_000);

  it("SIGKILL the controller during a partition: node 3 heals at the lease's expiry anyway", async () => {
    const w = await ws();
    await w.write(
      "part-kill",
      `duration: 14s\nselector: {nodes: [${node(3).hostname}]}\nfault: {node: {action: partition}}`,
    );
    const c = spawnController(w);
    const guard = await waitFor(
      async () =>
        lines(
          await cluster.dockerOk(2, [
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            `label=${LABEL_PREFIX}role=guard`,
            "--filter",
            `label=${LABEL_PREFIX}instance=${w.instance}`,
          ]),
        )[0],
      { timeoutMs: 30_000, what: "partition guard on node 3" },
    );
    const expires = Date.parse(
      await cluster.dockerOk(2, ["inspect", "-f", `{{index .Config.Labels "${LABEL_PREFIX}expires"}}`, guard]),
    );
    await waitFor(async () => (await nodeInfo(3)).state === "down", {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: "manager sees node 3 Down",
    });
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
    // No controller: the guard on node 3 alone removes the chain at expiry, and the node rejoins.
    const exited = await waitFor(
      async () => {
        const st = await cluster.dockerOk(2, [
          "inspect",
          "-f",
          "{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt}}",
          guard,
        ]);
        return st.startsWith("exited") ? st : undefined;
      },
      { timeoutMs: 40_000, what: "guard exited at expiry" },
    );
    expect(exited.split(" ")[1]).toBe("0");
    figures.killedPartitionHealLateMs = Date.parse(exited.split(" ")[2] ?? "") - expires;
    const save = await hostExec(node(3).engine, APP_IMAGE, node(3).id)(saveArgv());
    expect(ownedLines(save.stdout)).toEqual([]);
    const ready = await waitFor(async () => ((await nodeInfo(3)).state === "ready" ? Date.now() : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "node 3 Ready again",
    });
    figures.killedPartitionReadyAfterExpiryMs = ready - expires;
    // The controller is dead: its exited guard is removed here, by id.
    await cluster.dockerOk(2, ["rm", guard]);
  }, 180_000);

  it("reboot node 3 through the controller's hook: stopped and started, Down then back, hook saw the node", async () => {
    const w = await ws();
    const envOut = join(dir, `reboot-env-${tag}`);
    const script = join(dir, "reboot-node.sh");
    // A stand-in for a cloud CLI: power the node's engine off, wait until the manager notices, power it on.
    await writeFile(
      script,
      [
        "#!/bin/sh",
        "set -e",
        `env | grep '^CHAOSCTL_NODE_' | sort > '${envOut}'`,
        `i=\${CHAOSCTL_NODE_HOSTNAME##*-}`,
        `bash '${resolve("scripts/cluster/node.sh")}' '${cluster.name}' "$i" stop`,
        "n=0",
        `until [ "$(docker -H 'unix://${node(1).socket}' node inspect -f '{{.Status.State}}' "$CHAOSCTL_NODE_ID")" = down ] || [ $n -ge 60 ]; do n=$((n+1)); sleep 0.5; done`,
        `bash '${resolve("scripts/cluster/node.sh")}' '${cluster.name}' "$i" start`,
        "echo rebooted",
      ].join("\n") + "\n",
    );
    await chmod(script, 0o755);
    const hookFile = join(dir, "reboot-hook.json");
    await writeFile(hookFile, JSON.stringify([script]));
    await w.write("reboot", `selector: {nodes: [${node(3).hostname}]}\nfault: {node: {action: reboot}}`);
    const t0 = Date.now();
    spawnController(w, ["--reboot-hook-file", hookFile, "--reboot-hook-timeout", "2m"]);
    const run = await waitFor(async () => (await w.history("reboot")).find((r) => r.result !== "Running"), {
      timeoutMs: 150_000,
      what: "reboot run ended",
    });
    expect(run).toMatchObject({ fault: "node", result: "Succeeded", nodes: [node(3).id] });
    figures.rebootHookMs = Date.now() - t0;
    expect(lines(await readFile(envOut, "utf8"))).toEqual([
      `CHAOSCTL_NODE_ADDR=${node(3).addr}`,
      `CHAOSCTL_NODE_HOSTNAME=${node(3).hostname}`,
      `CHAOSCTL_NODE_ID=${node(3).id}`,
    ]);
    const rec = await waitFor(async () => (await w.history("reboot")).find((r) => r.recovery === "Recovered"), {
      timeoutMs: 90_000,
      what: "reboot run recovered",
    });
    figures.rebootRecoverySeconds = rec.recoverySeconds ?? -1;
    expect((await nodeInfo(3)).state).toBe("ready");
    // The agent on node 3 comes back with its engine (global service), for the next tests.
    await waitFor(async () => new AgentEngine({ host: node(3).addr, port: PORT, key: Buffer.from(token) }).whoami(), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "agent on node 3 back",
    });
  }, 300_000);
});
