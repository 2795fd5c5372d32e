// The controller under faults, on real engines:
// - SIGKILL of the compiled controller at random moments over 50+ injection cycles: no orphan,
//   no run applied twice (host Swarm, own instance and service);
// (the Docker engine restarted mid-injection, on the shared test cluster's manager:
//   test/multinode/engine-restart.docker.test.ts);
// - the manifest folder deleted and renamed, the disk read-only at a status write (a tmpfs of
//   our own, remounted);
// - 1,000 user edits interleaved with status writes: none lost.
// The folder tests run the controller with --dry-run (status writes every pass, nothing
// injected), so they exercise the store against a real engine without touching the cluster.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChaosScheduleStatus } from "../../src/api/types.js";
import { buildController } from "../../src/controller/build.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { createLogger } from "../../src/util/log.js";
import {
  APP_IMAGE,
  WEB_IMAGE,
  createTestService,
  docker,
  dockerOk,
  requireSwarm,
  runningTasks,
  waitFor,
} from "../helpers/docker.js";
import { manifest, workspace, type Workspace } from "./harness.js";

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
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

describe("the controller under SIGKILL", () => {
  it(
    "SIGKILLed at random moments over 50+ pause cycles: no orphaned pause or guard, no run applied twice",
    { timeout: 280_000 },
    async () => {
      const svc = await createTestService({ replicas: 1, namePrefix: "chaosctl-res" });
      cleanups.push(() => svc.remove());
      const [task] = await waitFor(
        async () => ((await runningTasks(svc.id)).length === 1 ? runningTasks(svc.id) : undefined),
        { timeoutMs: 30_000, what: "the task running" },
      );
      const target = task?.containerId ?? "";
      const w = await ws();
      // Docker's own record of what happened: guard creations (label chaosctl.io/run) and pauses.
      const events = spawn(
        "docker",
        [
          "events",
          "--format",
          "{{json .}}",
          "--filter",
          "type=container",
          "--filter",
          `label=chaosctl.io/instance=${w.instance}`,
          "--filter",
          "event=create",
        ],
        { stdio: ["ignore", "pipe", "ignore"] },
      );
      const pauses = spawn(
        "docker",
        ["events", "--format", "{{.Action}}", "--filter", "type=container", "--filter", `container=${target}`],
        { stdio: ["ignore", "pipe", "ignore"] },
      );
      cleanups.push(async () => void (events.kill(), pauses.kill()));
      const created: string[] = [];
      let buf = "";
      events.stdout.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const e = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
          created.push(e.Actor?.Attributes?.["chaosctl.io/run"] ?? "?");
        }
      });
      const actions: string[] = [];
      pauses.stdout.setEncoding("utf8").on("data", (d: string) => actions.push(...d.split("\n").filter(Boolean)));
      await sleep(300); // the event streams are subscribed

      await w.write(
        "pause.yaml",
        manifest(
          "pause",
          `schedule: "@every 1s"\nduration: 1s\nselector: {services: [${svc.name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
        ),
      );
      const deadline = Date.now() + 200_000;
      let kills = 0;
      while (new Set(created).size < 50 && Date.now() < deadline) {
        const c = spawnBin(w);
        // A random moment of its life once it runs (its start-up alone takes a second or two here).
        await waitFor(() => c.log.some((l) => l.includes("controller starting")), {
          timeoutMs: 15_000,
          intervalMs: 50,
          what: "the controller started",
        }).catch(() => undefined);
        await sleep(randomInt(100, 3500));
        c.child.kill("SIGKILL");
        await c.exited;
        kills++;
      }
      // A last controller, left to finish: reverts what is due and removes exited guards.
      const last = spawnBin(w);
      await waitFor(() => last.log.some((l) => l.includes("controller starting")), {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: "the last controller started",
      });
      await w.write(
        "pause.yaml",
        manifest(
          "pause",
          `schedule: "@every 1s"\nsuspend: true\nduration: 1s\nselector: {services: [${svc.name}]}\nsafety: {allowAll: true}\nfault: {pause: {}}`,
        ),
      );
      await waitFor(async () => (await guards(w.instance)).length === 0, {
        timeoutMs: 30_000,
        what: "every guard of the instance removed",
      });
      last.child.kill("SIGTERM");
      await last.exited;
      await sleep(500);

      const runs = new Set(created);
      const twice = [...runs].filter((r) => created.filter((x) => x === r).length > 1);
      const state = await dockerOk(["inspect", "-f", "{{.State.Status}}", target]);
      const pauseCount = actions.filter((a) => a === "pause").length;
      const unpauseCount = actions.filter((a) => a === "unpause").length;
      console.log(
        `resilience: ${kills} SIGKILLs, ${runs.size} runs applied, ${pauseCount} pauses / ${unpauseCount} unpauses of the target, runs applied twice: ${twice.length}`,
      );
      expect(runs.size).toBeGreaterThanOrEqual(50);
      expect(twice).toEqual([]);
      expect(state).toBe("running");
      expect(await guards(w.instance)).toEqual([]);
      // Every pause was undone, and no run paused the target more than once.
      expect(unpauseCount).toBe(pauseCount);
      expect(pauseCount).toBeLessThanOrEqual(runs.size);
    },
  );
});

// ---- the manifest folder ------------------------------------------------------------------

interface InProcess {
  stop(): Promise<void>;
  log: Array<Record<string, unknown>>;
}

/** The controller loop in this process with --dry-run: it writes status on every due run, injects nothing. */
function dryController(dir: string, instance: string): InProcess {
  const log: Array<Record<string, unknown>> = [];
  const logger = createLogger("info", {
    write: (s: string) => void log.push(JSON.parse(s) as Record<string, unknown>),
  });
  const store = new DirectoryStore({ dir, logger, rootPollMs: 200 });
  const controller = buildController({
    store,
    image: APP_IMAGE,
    logger,
    instance,
    resyncMs: 500,
    config: { dryRun: true },
  });
  const ctl = new AbortController();
  const done = controller.run(ctl.signal);
  const stop = async (): Promise<void> => {
    ctl.abort();
    await done;
    await store.close();
  };
  cleanups.push(stop);
  return { stop, log };
}

/** A small tmpfs of its own (it can be remounted read-only), holding a.yaml: dryManifest("a"). */
async function tmpfsWithManifest(): Promise<string> {
  const mnt = await mkdtemp(join(tmpdir(), "chaosctl-res-ro-"));
  cleanups.push(() => rm(mnt, { recursive: true, force: true }));
  await run("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]);
  cleanups.push(() => run("umount", [mnt]));
  await writeFile(join(mnt, "a.yaml"), dryManifest("a"));
  return mnt;
}

const dryManifest = (name: string, extra = ""): string =>
  manifest(
    name,
    `schedule: "@every 1s"\nselector: {services: [no-such-service-${name}]}\nfault: {kill: {signal: SIGKILL}}${extra}`,
  );

function parsed(
  text: string,
): Array<{ metadata?: { name?: string; labels?: Record<string, string> }; status?: ChaosScheduleStatus }> {
  return parseAllDocuments(text).map((d) => {
    if (Array.isArray(d) || d.errors.length) throw new Error("the file does not parse");
    return d.toJS() as { metadata?: { name?: string }; status?: ChaosScheduleStatus };
  });
}

describe("the manifest folder under faults", () => {
  it(
    "folder deleted, then renamed away: logged, retried, nothing corrupted, resumes when it is back",
    { timeout: 60_000 },
    async () => {
      const base = await mkdtemp(join(tmpdir(), "chaosctl-res-"));
      cleanups.push(() => rm(base, { recursive: true, force: true }));
      const dir = join(base, "m");
      await mkdir(dir);
      await writeFile(join(dir, "a.yaml"), dryManifest("a"));
      const c = dryController(dir, `res-${randomBytes(3).toString("hex")}`);
      const runs = async (): Promise<number> =>
        (parsed(await readFile(join(dir, "a.yaml"), "utf8"))[0]?.status?.history ?? []).length;
      await waitFor(async () => (await runs()) >= 1, { timeoutMs: 15_000, what: "status written" });

      await rm(dir, { recursive: true });
      await waitFor(() => c.log.some((l) => /manifest directory|pass failed/.test(String(l.msg))), {
        timeoutMs: 10_000,
        what: "the missing folder logged",
      });
      const failures = (): number => c.log.filter((l) => l.msg === "reconcile pass failed").length;
      const f0 = failures();
      await waitFor(() => failures() > f0, { timeoutMs: 10_000, what: "a retried pass" });
      expect(failures()).toBeGreaterThan(f0); // retried, and still running
      await mkdir(dir);
      await writeFile(join(dir, "a.yaml"), dryManifest("a"));
      await waitFor(async () => (await runs()) >= 1, {
        timeoutMs: 15_000,
        what: "status written again after the folder came back",
      });

      const f1 = failures();
      await rename(dir, join(base, "away"));
      // Two passes that found the folder gone: any write by the old path would have happened.
      await waitFor(() => failures() >= f1 + 2, { timeoutMs: 10_000, what: "two passes with the folder away" });
      // While away, nothing is written into the renamed folder's file by path or otherwise broken.
      expect(parsed(await readFile(join(base, "away", "a.yaml"), "utf8"))[0]?.metadata?.name).toBe("a");
      await rename(join(base, "away"), dir);
      const n = await runs();
      await waitFor(async () => (await runs()) > n || (await runs()) >= 10, {
        timeoutMs: 15_000,
        what: "status written after the folder was renamed back",
      });
      await c.stop(); // no write in flight: a temp file now is a leftover
      expect((await readdir(dir)).filter((f) => f.startsWith("."))).toEqual([]);
    },
  );

  it(
    "a read-only disk at status writes: logged, retried, file intact, resumes when writable",
    { timeout: 60_000 },
    async () => {
      const mnt = await tmpfsWithManifest();
      const c = dryController(mnt, `res-${randomBytes(3).toString("hex")}`);
      const history = async (): Promise<string[]> =>
        (parsed(await readFile(join(mnt, "a.yaml"), "utf8"))[0]?.status?.history ?? []).map((h) => h.run ?? "");
      await waitFor(async () => (await history()).length >= 1, { timeoutMs: 15_000, what: "status written" });
      // A status write may hold its temp file open for writing right then: the kernel refuses the
      // remount (EBUSY) while a file is open for writing. waitFor tries again, bounded.
      await waitFor(() => run("mount", ["-o", "remount,ro", mnt]).then(() => true), {
        timeoutMs: 5_000,
        intervalMs: 20,
        what: "the tmpfs remounted read-only",
      });
      const frozen = await readFile(join(mnt, "a.yaml"), "utf8");
      const errorsBefore = c.log.filter((l) => Number(l.level) >= 40).length;
      await waitFor(() => c.log.filter((l) => Number(l.level) >= 40).length > errorsBefore + 1, {
        timeoutMs: 15_000,
        what: "the failed write logged twice",
      });
      expect(c.log.filter((l) => Number(l.level) >= 40).length).toBeGreaterThan(errorsBefore + 1); // logged, and retried
      expect(c.log.some((l) => /EROFS|read-only/i.test(JSON.stringify(l)))).toBe(true);
      expect(await readFile(join(mnt, "a.yaml"), "utf8")).toBe(frozen);
      await run("mount", ["-o", "remount,rw", mnt]);
      const before = await history();
      await waitFor(async () => (await history()).some((r) => !before.includes(r)), {
        timeoutMs: 15_000,
        what: "a new run recorded once writable",
      });
      // A write whose temp was complete when the disk went read-only could not remove it; the
      // store remembers it as its own and the next pass's list() sweeps it (not 60 s later).
      const temps = async (): Promise<string[]> => (await readdir(mnt)).filter((f) => f.startsWith("."));
      await waitFor(async () => (await temps()).length === 0, { timeoutMs: 5_000, what: "no temp file left" });
      await c.stop(); // no write in flight: a temp file now is a leftover
      expect(await temps()).toEqual([]);
    },
  );

  it(
    "the disk goes read-only between a write's temp file and its swap: the temp is swept at the next list() once writable",
    { timeout: 30_000 },
    async () => {
      const mnt = await tmpfsWithManifest();
      const bytes = await readFile(join(mnt, "a.yaml"), "utf8");
      let temp = "";
      const store = new DirectoryStore({
        dir: mnt,
        hooks: {
          beforeRename: async (t) => {
            temp = t;
            await run("mount", ["-o", "remount,ro", mnt]); // the temp is closed: nothing holds the mount
          },
        },
      });
      cleanups.push(() => store.close());
      await store.list();
      await expect(store.writeStatus("default/a", 1, { phase: "Active" })).rejects.toThrow(/EROFS|read-only/i);
      await run("mount", ["-o", "remount,rw", mnt]);
      expect(await readdir(mnt)).toEqual([temp.slice(mnt.length + 1), "a.yaml"].sort()); // stranded
      expect(await readFile(join(mnt, "a.yaml"), "utf8")).toBe(bytes);
      await new DirectoryStore({ dir: mnt }).list();
      expect(await readdir(mnt)).toEqual(["a.yaml"]);
    },
  );

  // The goal: zero lost edits. A status write never renames over the path: it takes the
  // file aside (rename to a private name), checks it is the file and the bytes it read, links its
  // own file in with link(2) (which cannot replace a save that landed meanwhile) and puts the
  // taken file back if an in-place write reached it (src/store/directory/swap.ts). Before that,
  // 1,000 edits here lost 12, then 0-2 with a synchronous path check before rename(2).
  it("1,000 user edits interleaved with status writes: none lost", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "chaosctl-res-edits-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "m.yaml");
    const names = ["a", "b", "c", "d", "e"];
    await writeFile(file, names.map((n) => dryManifest(n)).join("---\n"));
    const c = dryController(dir, `res-${randomBytes(3).toString("hex")}`);
    await waitFor(async () => parsed(await readFile(file, "utf8")).every((d) => (d.status?.history ?? []).length > 0), {
      timeoutMs: 20_000,
      what: "status in every document",
    });
    const historyLengths = async (): Promise<number[]> =>
      parsed(await readFile(file, "utf8")).map((d) => (d.status?.history ?? []).length);
    const before = await historyLengths();
    // The user's edits: a comment line appended each time, read-modify-write, half in place and half by rename.
    const EDITS = 1000;
    const started = Date.now();
    let grewDuringEdits = false;
    for (let i = 1; i <= EDITS; i++) {
      const text = await readFile(file, "utf8");
      const next = `${text}# user edit ${i}\n`;
      if (i % 2 === 0) await writeFile(file, next);
      else {
        const tmp = join(dir, `.edit-${i}.tmp`);
        await writeFile(tmp, next);
        await rename(tmp, file);
      }
      if (i % 50 === 0 && !grewDuringEdits)
        grewDuringEdits = (await historyLengths()).some((n, k) => n > (before[k] ?? 0));
      await sleep(randomInt(0, 12));
    }
    // A status write after the last edit (dry-run @every 1s moves lastScheduleTime): one more
    // chance to lose an edit, as the fixed wait this replaces gave.
    const lastScheduled = async (): Promise<string> =>
      parsed(await readFile(file, "utf8"))
        .map((d) => d.status?.lastScheduleTime ?? "")
        .join(",");
    const afterEdits = await lastScheduled();
    await waitFor(async () => (await lastScheduled()) !== afterEdits, {
      timeoutMs: 15_000,
      what: "a status write after the last edit",
    });
    await c.stop();
    const final = await readFile(file, "utf8");
    const kept = new Set([...final.matchAll(/^# user edit (\d+)$/gm)].map((m) => Number(m[1])));
    const lost = Array.from({ length: EDITS }, (_, i) => i + 1).filter((i) => !kept.has(i));
    const docs = parsed(final);
    const lostRenamed = lost.filter((i) => i % 2 === 1);
    const lostInPlace = lost.filter((i) => i % 2 === 0);
    const gaveUp = c.log.filter((l) => /kept changing/.test(String(l.msg))).length;
    console.log(
      `resilience: ${EDITS} user edits (half renamed, half in place) in ${Date.now() - started} ms, lost renamed ${lostRenamed.length} ${JSON.stringify(lostRenamed)}, in place ${lostInPlace.length} ${JSON.stringify(lostInPlace)}; history lengths ${docs.map((d) => d.status?.history?.length ?? 0).join("/")}; status writes given up (retried next pass) ${gaveUp}`,
    );
    expect(lost).toEqual([]);
    expect(docs.map((d) => d.metadata?.name)).toEqual(names);
    // Status kept being written while the user edited (the interleaving really happened): a run
    // recorded between two edits, and every document's history longer than before the edits.
    // (Status writes yield to edits: about 130 of them give up per run here, with or without
    // the swap, and are retried next pass; 2-8 runs per document were recorded, fewer when the
    // other docker lanes load the machine.)
    expect(grewDuringEdits).toBe(true);
    expect(docs.map((d, k) => (d.status?.history ?? []).length > (before[k] ?? 0))).toEqual(names.map(() => true));
  });
});
