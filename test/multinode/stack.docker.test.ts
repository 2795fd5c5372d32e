// manifests/stack.yml deployed with `docker stack deploy` onto a real three-node Swarm
// (test/helpers/cluster.ts): the controller on the manager, an agent on every node, the agents
// answering authenticated requests at <node address>:8946, and the stack's controller doing
// chaos on another node through that node's agent (Swarm config store).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedCluster, type Cluster } from "../helpers/cluster.js";
import { WEB_IMAGE, waitFor } from "../helpers/docker.js";
import { AgentEngine } from "../../src/nodes/agent-engine.js";
import type { ChaosSchedule } from "../../src/api/types.js";

const STACK = resolve("manifests/stack.yml");
const BIN = resolve("dist/src/cli/main.js");
const PORT = 8946; // the agent's default, published in host mode by the stack
const token = randomBytes(32).toString("hex");
let cluster: Cluster;
let dir: string;

interface RawTask {
  ID: string;
  NodeID: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}
interface RawService {
  Spec: {
    Labels?: Record<string, string>;
    Mode: { Global?: object; Replicated?: { Replicas: number } };
    TaskTemplate: {
      Placement?: { Constraints?: string[] };
      ContainerSpec: {
        Secrets?: Array<{ SecretName: string; File: { Name: string } }>;
        Healthcheck?: { Test?: string[] };
      };
    };
    EndpointSpec?: { Ports?: Array<{ TargetPort: number; PublishedPort: number; PublishMode: string }> };
  };
}

const onManager = (args: string[], timeoutMs?: number): Promise<string> =>
  cluster.dockerOk(0, args, timeoutMs === undefined ? {} : { timeoutMs });
async function tasksOf(service: string): Promise<RawTask[]> {
  const ids = (await onManager(["service", "ps", "-q", "--no-trunc", service])).split("\n").filter(Boolean);
  return ids.length ? (JSON.parse(await onManager(["inspect", "--type", "task", ...ids])) as RawTask[]) : [];
}
const running = (ts: RawTask[]): RawTask[] =>
  ts.filter((t) => t.Status.State === "running" && t.DesiredState === "running");

/** The chaosctl CLI on the host, talking to the cluster's manager (node 1). */
function chaosctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const env = { ...process.env, DOCKER_HOST: `unix://${cluster.nodes[0]?.socket}`, CHAOSCTL_SWARM_SCOPE: "default" };
    execFile("node", [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      res({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function unsignedPost(host: string, path: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(
      { host, port: PORT, path, method: "POST", timeout: 5_000, headers: { "content-type": "application/json" } },
      (r) => {
        r.resume();
        r.on("end", () => res(r.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", rej);
    req.end("{}");
  });
}

beforeAll(async () => {
  cluster = await sharedCluster();
  dir = await mkdtemp(join(tmpdir(), "chaosctl-stack-"));
  await writeFile(join(dir, "token"), token, { mode: 0o600 });
  await onManager(["secret", "create", "chaosctl-agent-token", join(dir, "token")]);
  await onManager(["stack", "deploy", "--resolve-image", "never", "-c", STACK, "chaosctl"], 120_000);
}, 300_000);

afterAll(async () => {
  // The stack (its services, network and the configs its controller made) and its secret; the
  // shared cluster stays for the next file.
  if (cluster) {
    await cluster.docker(0, ["stack", "rm", "chaosctl"]);
    await cluster.docker(0, ["secret", "rm", "chaosctl-agent-token"]);
    const configs = (await cluster.dockerOk(0, ["config", "ls", "-q", "--filter", "label=chaosctl.io/store=default"]))
      .split("\n")
      .filter(Boolean);
    if (configs.length) await cluster.docker(0, ["config", "rm", ...configs]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe("manifests/stack.yml on a three-node Swarm", () => {
  it("runs the controller on the manager and an agent on every node, as the stack file says", async () => {
    const agents = await waitFor(
      async () => {
        const r = running(await tasksOf("chaosctl_agent"));
        return r.length === 3 ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "an agent task running on each of 3 nodes" },
    );
    expect(new Set(agents.map((t) => t.NodeID))).toEqual(new Set(cluster.nodes.map((n) => n.id)));

    const controllers = await waitFor(
      async () => {
        const r = running(await tasksOf("chaosctl_controller"));
        return r.length === 1 ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "the controller task running" },
    );
    expect(controllers[0]?.NodeID).toBe(cluster.nodes[0]?.id); // the only manager
    // Its healthcheck (the stack's, over the controller's /healthz) passes.
    const cid = controllers[0]?.Status.ContainerStatus?.ContainerID ?? "";
    await waitFor(
      async () => (await cluster.dockerOk(0, ["inspect", "-f", "{{.State.Health.Status}}", cid])) === "healthy",
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
        what: "the controller container healthy",
      },
    );

    const [agent, controller] = JSON.parse(
      await onManager(["service", "inspect", "chaosctl_agent", "chaosctl_controller"]),
    ) as RawService[];
    expect(agent?.Spec.Mode.Global).toBeDefined();
    expect(agent?.Spec.Labels?.["chaosctl.io/role"]).toBe("agent");
    expect(agent?.Spec.EndpointSpec?.Ports).toEqual([
      expect.objectContaining({ TargetPort: PORT, PublishedPort: PORT, PublishMode: "host" }),
    ]);
    expect(agent?.Spec.TaskTemplate.ContainerSpec.Secrets?.map((s) => `${s.SecretName}:${s.File.Name}`)).toEqual([
      "chaosctl-agent-token:chaosctl-agent-token",
    ]);
    expect(controller?.Spec.Mode.Replicated?.Replicas).toBe(1);
    expect(controller?.Spec.Labels?.["chaosctl.io/role"]).toBe("controller");
    expect(controller?.Spec.TaskTemplate.Placement?.Constraints).toEqual(["node.role == manager"]);
    expect(controller?.Spec.TaskTemplate.ContainerSpec.Healthcheck?.Test).toEqual([
      "CMD",
      "node",
      "/app/dist/src/ops/healthcheck.js",
    ]);
  }, 200_000);

  it("each agent answers an authenticated request from the host at its node's address with its own node id, and refuses an unsigned one", async () => {
    const key = Buffer.from(token);
    for (const node of cluster.nodes) {
      const me = await waitFor(() => new AgentEngine({ host: node.addr, port: PORT, key }).whoami(), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `the agent at ${node.addr}:${PORT}`,
      });
      expect(me.nodeId).toBe(node.id);
      expect(me.hostname).toBe(node.hostname);
      expect(await unsignedPost(node.addr, "/v1/whoami")).toBe(401);
    }
    // Signed with another token: refused too.
    const other = new AgentEngine({ host: cluster.nodes[1]?.addr ?? "", port: PORT, key: randomBytes(32) });
    await expect(other.whoami()).rejects.toThrow();
  }, 120_000);

  it("the stack's controller kills a task on node 3 through node 3's agent (manifest in the Swarm config store)", async () => {
    const node3 = cluster.nodes[2];
    if (!node3) throw new Error("no node 3");
    // Two tasks, both on node 3 (the controller's safety never kills a service's last running task).
    const web = await onManager([
      "service",
      "create",
      "--detach",
      "--quiet",
      "--name",
      "web3",
      "--replicas",
      "2",
      "--constraint",
      `node.hostname==${node3.hostname}`,
      WEB_IMAGE,
    ]);
    const before = await waitFor(
      async () => {
        const r = running(await tasksOf(web));
        return r.length === 2 ? r : undefined;
      },
      { timeoutMs: 60_000, what: "web3's 2 tasks on node 3" },
    );
    expect(before.map((t) => t.NodeID)).toEqual([node3.id, node3.id]);
    const firstIds = new Set(before.map((t) => t.ID));

    await writeFile(
      join(dir, "kill.yaml"),
      `apiVersion: chaosctl.io/v1alpha1
kind: ChaosSchedule
metadata:
  name: stack-kill
spec:
  schedule: "@once"
  selector:
    services: [web3]
    mode: one
  fault:
    kill: {signal: SIGKILL}
`,
    );
    const applied = await chaosctl(["apply", "--store", "swarm", "-f", join(dir, "kill.yaml")]);
    expect(applied.stderr + applied.stdout).toContain("chaosschedule/stack-kill created");
    expect(applied.code).toBe(0);

    // The task on node 3 dies of SIGKILL (exit 137) and Swarm replaces it: only node 3's
    // engine could do that, and the controller runs on node 1.
    const killed = await waitFor(
      async () => {
        const k = (await tasksOf(web)).filter((t) => firstIds.has(t.ID) && t.Status.ContainerStatus?.ExitCode === 137);
        return k.length ? k : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        what: "one of web3's tasks killed (exit 137)",
      },
    );
    expect(killed).toHaveLength(1);
    expect(killed[0]?.Status.State).toBe("failed");
    const history = await waitFor(
      async () => {
        const r = await chaosctl(["get", "--store", "swarm", "-o", "json"]);
        const list = JSON.parse(r.stdout) as { items: ChaosSchedule[] };
        const h = list.items.find((s) => s.metadata.name === "stack-kill")?.status?.history ?? [];
        return h.find((run) => run.result === "Succeeded");
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: "the run recorded Succeeded in the schedule's status" },
    );
    expect(history.tasks).toEqual([killed[0]?.ID]);
    await waitFor(async () => running(await tasksOf(web)).length === 2, {
      timeoutMs: 60_000,
      what: "Swarm replaced the killed task",
    });
    expect(history.fault).toBe("kill");
  }, 240_000);
});
