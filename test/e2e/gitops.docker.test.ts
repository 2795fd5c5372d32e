// GitOps on the real one-node Swarm: the controller syncs a local bare repository
// (the remote) itself, injects what is committed, writes status into its working copy, follows
// new commits, force-pushes and deletes, reports invalid commits, and records provenance (commit
// and path) in status and on the guards' labels. Durable records are real Swarm configs.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildController } from "../../src/controller/build.js";
import { DockerEngine } from "../../src/engine/docker.js";
import { GitStore } from "../../src/store/git/store.js";
import { SwarmRecords } from "../../src/store/git/records.js";
import { createLogger } from "../../src/util/log.js";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import type { AuditRecord } from "../../src/audit/log.js";
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
import { testRemote, type TestRemote } from "../store/git-helpers.js";
import { containerState } from "./harness.js";

const engine = new DockerEngine();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
beforeAll(() => requireSwarm([WEB_IMAGE, APP_IMAGE]));

async function service(replicas: number): Promise<TestService> {
  const svc = await createTestService({ replicas, namePrefix: "chaosctl-gitops" });
  cleanups.push(() => svc.remove());
  await waitFor(async () => (await runningTasks(svc.id)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks`,
  });
  return svc;
}

function yaml(name: string, spec: string): string {
  return `# owned by the web team\napiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^/gm, "  ")}\n`;
}

interface Running {
  store: GitStore;
  stop(): Promise<void>;
}

/** The controller in this process on a git store; `workdir` is its own working copy. */
function start(remote: TestRemote, instance: string, workdir: string, audit: AuditRecord[] = []): Running {
  const logger = createLogger(process.env.CHAOSCTL_TEST_LOG ?? "silent");
  const store = new GitStore({
    url: remote.url,
    path: "chaos",
    checkoutDir: join(remote.root, workdir),
    auth: { env: {}, secrets: [] },
    records: new SwarmRecords(engine, instance),
    logger,
    intervalMs: 1_000,
  });
  const controller = buildController({
    store,
    engine,
    image: APP_IMAGE,
    logger,
    instance,
    resyncMs: 2_000,
    auditLog: { append: async (records) => void audit.push(...records) },
  });
  const ctl = new AbortController();
  const done = controller.run(ctl.signal);
  return {
    store,
    async stop() {
      ctl.abort();
      await done;
      await store.close();
    },
  };
}

async function statusIn(store: GitStore, file: string): Promise<ChaosScheduleStatus | undefined> {
  const text = await readFile(join(store.dir, file), "utf8").catch(() => "");
  const doc = parseAllDocuments(text)[0];
  return doc && !Array.isArray(doc)
    ? ((doc.toJS() as { status?: ChaosScheduleStatus } | null)?.status ?? undefined)
    : undefined;
}

const paused = async (svc: TestService): Promise<string[]> =>
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

async function guardLabels(instance: string, run: string): Promise<Record<string, string>> {
  const ids = (
    await docker([
      "ps",
      "-aq",
      "--filter",
      `label=chaosctl.io/instance=${instance}`,
      "--filter",
      `label=chaosctl.io/run=${run}`,
    ])
  ).stdout
    .split("\n")
    .filter(Boolean);
  if (!ids[0]) return {};
  return JSON.parse((await docker(["inspect", "-f", "{{json .Config.Labels}}", ids[0]])).stdout) as Record<
    string,
    string
  >;
}

async function setup(): Promise<{ remote: TestRemote; instance: string }> {
  const remote = await testRemote();
  const instance = `e2e-git-${randomBytes(4).toString("hex")}`;
  cleanups.push(async () => {
    const ids = (await docker(["ps", "-aq", "--filter", `label=chaosctl.io/instance=${instance}`])).stdout
      .split("\n")
      .filter(Boolean);
    if (ids.length) await docker(["rm", "-f", ...ids]);
    // Its durable records, and the leader lease the compiled controller (election on by default) kept.
    for (const c of [
      ...(await engine.listConfigs([`chaosctl.io/instance=${instance}`])),
      ...(await engine.listConfigs([`chaosctl.io/lease=${instance}`])),
    ]) {
      await engine.removeConfig(c.id).catch(() => undefined);
    }
    await remote.cleanup();
  });
  return { remote, instance };
}

describe("gitops: the controller syncs a git repository itself", () => {
  it("commit → applied with provenance; new commit changes the duration while status is written; force-push followed; invalid commit reported; delete reverts", async () => {
    // Three tasks: the next generation starts in the pass that reverts the previous one, while
    // its task still counts as faulted (the never-all-tasks rule needs another free task).
    const web = await service(3);
    const { remote, instance } = await setup();
    const pause = (duration: string): string =>
      yaml("web-pause", `duration: ${duration}\nselector: {services: [${web.name}]}\nfault: {pause: {}}`);
    const c1 = await remote.commit({ "chaos/pause.yaml": pause("60s") }, "pause web for a minute");
    const audit: AuditRecord[] = [];
    const ctl = start(remote, instance, "work", audit);
    cleanups.push(() => ctl.stop());

    // 1. Applied, status written into the working copy, provenance in status and on the guard.
    const first = await waitFor(async () => (await paused(web))[0], { timeoutMs: 30_000, what: "a paused task" });
    const st1 = await waitFor(
      async () =>
        (await statusIn(ctl.store, "pause.yaml"))?.active?.length ? statusIn(ctl.store, "pause.yaml") : undefined,
      { timeoutMs: 15_000, what: "status.active" },
    );
    const run1 = st1?.history?.[0];
    expect(run1).toMatchObject({ result: "Running", generation: 1, source: { commit: c1, path: "chaos/pause.yaml" } });
    expect(st1?.active?.[0]).toMatchObject({
      fault: "pause",
      service: web.name,
      source: { commit: c1, path: "chaos/pause.yaml" },
    });
    const labels1 = await guardLabels(instance, run1?.run ?? "");
    expect(labels1["chaosctl.io/commit"]).toBe(c1);
    expect(labels1["chaosctl.io/source-path"]).toBe("chaos/pause.yaml");
    expect(await readFile(join(ctl.store.dir, "pause.yaml"), "utf8")).toContain("# owned by the web team");

    // 2. A new commit changes the duration while the controller keeps writing status: no
    //    conflict, the old run is reverted (SpecChanged), the new spec applies, status is there.
    const c2 = await remote.commit({ "chaos/pause.yaml": pause("45s") }, "shorter");
    ctl.store.requestSync();
    const st2 = await waitFor(
      async () => {
        const s = await statusIn(ctl.store, "pause.yaml");
        return s?.history?.some((r) => r.generation === 2 && r.result === "Running") && s.active?.length
          ? s
          : undefined;
      },
      { timeoutMs: 30_000, what: "generation 2 running" },
    );
    expect(await containerState(first)).toBe("running"); // the first run's pause was reverted (or its target replaced)
    const run2 = st2?.history?.find((r) => r.generation === 2);
    expect(run2?.source).toEqual({ commit: c2, path: "chaos/pause.yaml" });
    // Run 1 is still in the history: rebuilt from the durable record after the files were replaced.
    expect(st2?.history?.find((r) => r.run === run1?.run)).toMatchObject({ generation: 1, source: { commit: c1 } });
    expect((await guardLabels(instance, run2?.run ?? ""))["chaosctl.io/commit"]).toBe(c2);
    expect(ctl.store.syncedCommit).toBe(c2);
    // The audit log names the commit of each apply, and the revert of run 1 names run 1's commit.
    expect(audit.filter((a) => a.action === "apply").map((a) => [a.run, a.source?.commit])).toEqual([
      [run1?.run, c1],
      [run2?.run, c2],
    ]);
    expect(audit.find((a) => a.action === "revert" && a.run === run1?.run)).toMatchObject({
      reason: "SpecChanged",
      source: { commit: c1, path: "chaos/pause.yaml" },
    });

    // 3. Force-push: rewritten history (c2 replaced) with another duration and a second, invalid
    //    manifest: the rewrite is followed, the invalid one is reported, the valid one unaffected.
    const c3 = await remote.amend({
      "chaos/pause.yaml": pause("50s"),
      "chaos/bad.yaml": yaml("bad", `duration: 10s\nselector: {services: [${web.name}]}\nfault: {pause: {}, kill: {}}`),
    });
    ctl.store.requestSync();
    const st3 = await waitFor(
      async () => {
        const s = await statusIn(ctl.store, "pause.yaml");
        return s?.history?.some((r) => r.generation === 3 && r.result === "Running" && r.source?.commit === c3)
          ? s
          : undefined;
      },
      { timeoutMs: 30_000, what: "generation 3 running from the force-pushed commit" },
    );
    expect(st3?.history?.filter((r) => r.result !== "Skipped").map((r) => r.generation)).toEqual([1, 2, 3]);
    const bad = await waitFor(
      async () => (await statusIn(ctl.store, "bad.yaml"))?.conditions?.find((c) => c.reason === "InvalidSpec"),
      { timeoutMs: 15_000, what: "InvalidSpec on bad.yaml" },
    );
    expect(bad).toMatchObject({ type: "Ready", status: "False" });
    // Only the valid schedule's pause (its record is written before it is injected: wait for it).
    await waitFor(async () => (await paused(web)).length === 1, { timeoutMs: 15_000, what: "the generation 3 pause" });
    expect(
      (await guardLabels(instance, st3?.history?.find((r) => r.generation === 3)?.run ?? ""))["chaosctl.io/commit"],
    ).toBe(c3);
    expect(
      await docker([
        "ps",
        "-q",
        "--filter",
        `label=chaosctl.io/schedule=default/bad`,
        "--filter",
        `label=chaosctl.io/instance=${instance}`,
      ]),
    ).toMatchObject({ stdout: "" });

    // 4. Deleted in git: reverted after the next sync.
    const target = (await paused(web))[0] ?? "";
    await remote.commit({ "chaos/pause.yaml": null, "chaos/bad.yaml": null }, "stop the chaos");
    ctl.store.requestSync();
    await waitFor(async () => (await containerState(target)) === "running", {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: "unpause after the delete",
    });
    await waitFor(
      async () =>
        (await docker(["ps", "-q", "--filter", `label=chaosctl.io/instance=${instance}`])).stdout.trim() === "",
      { timeoutMs: 15_000, what: "no guard left" },
    );
  });

  it("a recorded run is never repeated: syncs that replace the file, and a restart with a new working copy, rebuild status from the records", async () => {
    const api = await service(2);
    const { remote, instance } = await setup();
    const kill = yaml("api-kill", `selector: {services: [${api.name}]}\nfault: {kill: {}}`);
    const c1 = await remote.commit({ "chaos/kill.yaml": kill });
    let ctl = start(remote, instance, "work-a");
    cleanups.push(() => ctl.stop());
    const done = await waitFor(
      async () => (await statusIn(ctl.store, "kill.yaml"))?.history?.find((r) => r.result === "Succeeded"),
      { timeoutMs: 30_000, what: "the kill run" },
    );
    expect(done.source).toEqual({ commit: c1, path: "chaos/kill.yaml" });
    // Commits that replace kill.yaml (a comment edit: same spec) and touch other files.
    await remote.commit({ "chaos/kill.yaml": `# reviewed\n${kill}`, "README.md": "chaos for the api" });
    ctl.store.requestSync();
    await waitFor(
      async () =>
        (await readFile(join(ctl.store.dir, "kill.yaml"), "utf8")).startsWith("# reviewed") &&
        (await statusIn(ctl.store, "kill.yaml"))?.history?.length,
      { timeoutMs: 15_000, what: "the new commit with status back" },
    );
    await ctl.stop();
    // A new controller, a fresh working folder: status comes back from the Swarm config records.
    ctl = start(remote, instance, "work-b");
    cleanups.push(() => ctl.stop());
    const st = await waitFor(
      async () =>
        (await statusIn(ctl.store, "kill.yaml"))?.phase === "Completed" ? statusIn(ctl.store, "kill.yaml") : undefined,
      { timeoutMs: 15_000, what: "status rebuilt" },
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const runs = ((await statusIn(ctl.store, "kill.yaml"))?.history ?? []).filter((r) => r.result !== "Skipped");
    expect(runs.map((r) => r.run)).toEqual([done.run]);
    expect(st?.observedGeneration).toBe(1);
  });

  it("the CLI: --git with a token file and a long --interval; SIGHUP fetches now; the token is in no log line, argv or status", async () => {
    const bin = resolve(process.env.CHAOSCTL_BIN ?? "dist/src/cli/main.js");
    const api = await service(2);
    const { remote, instance } = await setup();
    cleanups.push(async () => {
      const lease = await docker(["config", "inspect", "-f", "{{.ID}}", `chaosctl-lease-${instance}`]);
      if (lease.code === 0) await docker(["config", "rm", lease.stdout.trim()]);
    });
    const token = `ghp_${randomBytes(12).toString("hex")}`;
    const tokenFile = join(remote.root, "token");
    await writeFile(tokenFile, `${token}\n`, { mode: 0o400 });
    const c1 = await remote.commit({
      "chaos/kill.yaml": yaml("api-kill", `selector: {services: [${api.name}]}\nfault: {kill: {}}`),
    });
    const workdir = join(remote.root, "cli-work");
    const child = spawn(
      process.execPath,
      [
        bin,
        "controller",
        "--git",
        remote.url,
        "--path",
        "chaos",
        "--interval",
        "10m",
        "--workdir",
        workdir,
        "--instance",
        instance,
        "--git-token-file",
        tokenFile,
        "--log-level",
        "debug",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    });
    const file = join(workdir, "repo", "chaos", "kill.yaml");
    const statusOf = async (): Promise<ChaosScheduleStatus | undefined> => {
      const doc = parseAllDocuments(await readFile(file, "utf8").catch(() => ""))[0];
      return doc && !Array.isArray(doc)
        ? ((doc.toJS() as { status?: ChaosScheduleStatus } | null)?.status ?? undefined)
        : undefined;
    };
    const run = await waitFor(async () => (await statusOf())?.history?.find((r) => r.result === "Succeeded"), {
      timeoutMs: 40_000,
      what: "the kill run in the working copy",
    });
    expect(run.source).toEqual({ commit: c1, path: "chaos/kill.yaml" });
    const cmdline = await readFile(`/proc/${child.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("--git-token-file");
    // A push, then SIGHUP: fetched at once, not in 10 minutes.
    const c2 = await remote.commit({ "README.md": "chaos for the api" });
    child.kill("SIGHUP");
    await waitFor(() => stderr.includes(`"commit":"${c2}"`), {
      timeoutMs: 10_000,
      what: "a sync of the pushed commit after SIGHUP",
    });
    await waitFor(async () => ((await statusOf())?.history?.length ?? 0) > 0, {
      timeoutMs: 10_000,
      what: "status back after the sync",
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain('"event":"sync"');
    for (const text of [
      stderr,
      cmdline,
      await readFile(file, "utf8"),
      await readFile(join(workdir, "repo", ".git", "config"), "utf8"),
    ])
      expect(text).not.toContain(token);
    // The durable record (a Swarm config label) holds no token either.
    const records = await engine.listConfigs([`chaosctl.io/instance=${instance}`]);
    expect(records.length).toBeGreaterThan(0);
    expect(JSON.stringify(records)).not.toContain(token);
  });
});
