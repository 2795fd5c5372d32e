// The controller when the Docker engine under it restarts mid-injection, on the manager of the
// run's shared test cluster (an engine in its own network namespace, test/helpers/cluster.ts:
// the host's engine is shared by everything and never restarted), and a node label that
// shields its tasks (the host's node is shared too). The other resilience cases, on the host's
// Swarm, are in test/e2e/resilience.docker.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { APP_IMAGE, WEB_IMAGE, docker, requireSwarm, waitFor } from "../helpers/docker.js";
import { sharedCluster, type Cluster } from "../helpers/cluster.js";
import { eventClock, serviceContainerEvents } from "../helpers/events.js";
import { manifest, workspace, type Workspace } from "../e2e/harness.js";

const BIN = process.env.CHAOSCTL_BIN ?? resolve("dist/src/cli/main.js");
const cleanups: Array<() => Promise<unknown>> = [];
async function cleanupAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
}
afterEach(cleanupAll);
afterAll(cleanupAll);
beforeAll(async () => requireSwarm([WEB_IMAGE, APP_IMAGE]));

async function ws(): Promise<Workspace> {
  const w = await workspace();
  cleanups.push(() => w.cleanup());
  return w;
}

/** The compiled controller as its own process; stderr (pino JSON) collected. */
function spawnBin(
  w: Workspace,
  env: NodeJS.ProcessEnv = {},
  args: string[] = [],
): { child: ChildProcess; log: string[]; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [BIN, "controller", "--dir", w.dir, "--instance", w.instance, "--log-level", "info", ...args],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } },
  );
  const log: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (d: string) => log.push(...d.split("\n").filter(Boolean)));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  return { child, log, exited };
}

/** Container ids of this instance's guards (any state). */
async function guards(instance: string, docker_ = docker): Promise<string[]> {
  return (await docker_(["ps", "-aq", "--no-trunc", "--filter", `label=chaosctl.io/instance=${instance}`])).stdout
    .split("\n")
    .filter(Boolean);
}

// On the manager of the run's shared test cluster: an engine of our own to restart and to label
// (the host's is shared by everything). The services are pinned to that node, where the
// controller (DOCKER_HOST = its socket, no agents) reaches their containers.
describe("the Docker engine restarted mid-injection (the shared test cluster's manager)", () => {
  let cluster: Cluster | undefined;
  let socket = "";
  let pin: string[] = [];
  const onNode = (args: string[], opts?: { timeoutMs?: number }) => docker(["-H", `unix://${socket}`, ...args], opts);

  beforeAll(async () => {
    cluster = await sharedCluster();
    socket = cluster.nodes[0]?.socket ?? "";
    pin = ["--constraint", `node.hostname==${cluster.nodes[0]?.hostname}`];
  }, 300_000);

  it(
    "a node labelled chaosctl.io/protected=true shields its tasks (own engine: the host's node is shared)",
    { timeout: 90_000 },
    async () => {
      const node = (await onNode(["info", "-f", "{{.Swarm.NodeID}}"])).stdout.trim();
      const name = `chaosctl-res-${randomBytes(3).toString("hex")}`;
      expect(
        (
          await onNode([
            "service",
            "create",
            "--detach",
            "--quiet",
            "--name",
            name,
            "--replicas",
            "2",
            ...pin,
            // httpd as PID 1 ignores SIGTERM: its stop would wait out Swarm's 10 s grace (and
            // delay the engine stop of the next test).
            "--stop-grace-period",
            "1s",
            WEB_IMAGE,
          ])
        ).code,
      ).toBe(0);
      cleanups.push(() => onNode(["service", "rm", name]));
      const tasks = async (): Promise<string> =>
        (await onNode(["ps", "-q", "--no-trunc", "--filter", `label=com.docker.swarm.service.name=${name}`])).stdout
          .split("\n")
          .filter(Boolean)
          .sort()
          .join(",");
      await waitFor(async () => (await tasks()).split(",").filter(Boolean).length === 2, {
        timeoutMs: 60_000,
        what: "two tasks on the private node",
      });
      const before = await tasks();
      expect((await onNode(["node", "update", "--label-add", "chaosctl.io/protected=true", node])).code).toBe(0);
      cleanups.push(() => onNode(["node", "update", "--label-rm", "chaosctl.io/protected", node]));
      const w = await ws();
      await w.write(
        "kill.yaml",
        manifest(
          "kill",
          `selector: {services: [${name}], mode: all}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
        ),
      );
      const since = eventClock();
      const once = spawnBin(w, { DOCKER_HOST: `unix://${socket}` }, ["--once"]);
      expect(await once.exited).toBe(0);
      expect((await w.history("kill.yaml"))[0]).toMatchObject({ result: "Skipped", targets: 0 });
      // The engine's own record, not a wait: no kill or die of the service's containers since
      // the controller started (`--until` makes `docker events` replay the past and return).
      const onNodeOk = async (args: string[]): Promise<string> => {
        const r = await onNode(args);
        expect(r.code).toBe(0);
        return r.stdout;
      };
      expect(await serviceContainerEvents(name, since, ["kill", "die"], onNodeOk)).toEqual([]);
      expect(await tasks()).toBe(before);
      // Without the label the same schedule does target them (the test can fail).
      expect((await onNode(["node", "update", "--label-rm", "chaosctl.io/protected", node])).code).toBe(0);
      await w.write(
        "kill2.yaml",
        manifest(
          "kill2",
          `selector: {services: [${name}], mode: all}\nsafety: {allowAll: true}\nfault: {kill: {signal: SIGKILL}}`,
        ),
      );
      const again = spawnBin(w, { DOCKER_HOST: `unix://${socket}` }, ["--once"]);
      expect(await again.exited).toBe(0);
      expect((await w.history("kill2.yaml"))[0]).toMatchObject({ result: "Succeeded", targets: 2 });
    },
  );

  it(
    "an engine restart mid-pause: the controller survives, reconnects with backoff, leaves nothing paused and schedules again",
    { timeout: 150_000 },
    async () => {
      const name = `chaosctl-res-${randomBytes(3).toString("hex")}`;
      const r = await onNode([
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        name,
        "--replicas",
        "1",
        ...pin,
        // httpd as PID 1 ignores SIGTERM: the engine stop below would wait out Swarm's 10 s grace.
        "--stop-grace-period",
        "1s",
        WEB_IMAGE,
      ]);
      expect(r.code).toBe(0);
      cleanups.push(() => onNode(["service", "rm", name]));
      await waitFor(
        async () =>
          (await onNode(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${name}`])).stdout.trim() !== "",
        { timeoutMs: 60_000, what: "the task on the private node" },
      );
      const w = await ws();
      await w.write(
        "pause.yaml",
        manifest(
          "pause",
          `schedule: "@every 6s"\nduration: 3s\nselector: {services: [${name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
        ),
      );
      const c = spawnBin(w, { DOCKER_HOST: `unix://${socket}` });
      const paused = async (): Promise<boolean> =>
        (
          await onNode([
            "ps",
            "-q",
            "--filter",
            `label=com.docker.swarm.service.name=${name}`,
            "--filter",
            "status=paused",
          ])
        ).stdout.trim() !== "";
      await waitFor(paused, { timeoutMs: 60_000, what: "the first pause on the private node" });
      // Restart the engine while the pause is in effect.
      const outage = (): number => c.log.filter((l) => /reconnecting|reconcile pass failed/.test(l)).length;
      const seen = outage();
      await cluster?.node(0, "stop");
      // Started again once the controller has seen it gone.
      await waitFor(() => outage() > seen, {
        timeoutMs: 30_000,
        what: "the controller noticing the engine down",
      });
      await cluster?.node(0, "start");
      await waitFor(
        async () => (await onNode(["info", "-f", "{{.Swarm.LocalNodeState}}"])).stdout.trim() === "active",
        { timeoutMs: 60_000, what: "the engine back" },
      );
      // Nothing stays paused past its expiry, and the controller, still running, schedules again.
      const historyBefore = (await w.history("pause.yaml")).length;
      await waitFor(
        async () => (await w.history("pause.yaml")).filter((h) => h.result === "Succeeded").length >= historyBefore,
        { timeoutMs: 60_000, what: "status written after the restart" },
      );
      await waitFor(async () => (await w.history("pause.yaml")).length > historyBefore, {
        timeoutMs: 60_000,
        what: "a run after the restart",
      });
      expect(c.child.exitCode).toBeNull();
      expect(c.log.join("\n")).toMatch(/reconnecting|reconcile pass failed/);
      await w.write(
        "pause.yaml",
        manifest(
          "pause",
          `schedule: "@every 6s"\nsuspend: true\nduration: 3s\nselector: {services: [${name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
        ),
      );
      await waitFor(async () => !(await paused()) && (await guards(w.instance, onNode)).length === 0, {
        timeoutMs: 30_000,
        what: "nothing paused and no guard left",
      });
      c.child.kill("SIGTERM");
      await c.exited;
    },
  );
});
