// The CLI verbs against a temp-dir store, through run(argv, io): every verb and output format,
// exit codes, the audit log, and get -w.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { VERBS } from "../../src/cli/verbs.js";
import { chaosctl, schedule, tableRows } from "./harness.js";
import { defaultLeaseFile, FileLeaseStore } from "../../src/ops/lease/file.js";
import type { LeaseRecord } from "../../src/ops/lease/machine.js";

// Each test runs several verbs in a row; the machine is shared, so allow for a slow first import.
vi.setConfig({ testTimeout: 30_000 });

let root: string;
let store: string;
let src: string;
let log: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "chaosctl-cli-verbs-"));
  store = join(root, "store");
  src = join(root, "src");
  log = join(root, "audit.jsonl");
  await mkdir(store);
  await mkdir(src);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const two = () =>
  schedule(
    "web-kill",
    'schedule: "@every 10m"\nselector: {services: [web]}\nfault: {kill: {}}',
    "labels: {team: web}",
  ) +
  "---\n" +
  schedule("web-pause", "duration: 30s\nselector: {services: [web]}\nfault: {pause: {}}");

async function applied(): Promise<void> {
  await writeFile(join(src, "two.yaml"), two());
  const r = await chaosctl(["apply", "-f", src, "--dir", store]);
  expect(r).toMatchObject({ code: 0, stderr: "" });
}

describe("apply", () => {
  it("prints created, then unchanged, then configured for a spec change; --dry-run writes nothing", async () => {
    await writeFile(join(src, "two.yaml"), two());
    expect(await chaosctl(["apply", "-f", src, "--dir", store])).toEqual({
      code: 0,
      stdout: "chaosschedule/web-kill created\nchaosschedule/web-pause created\n",
      stderr: "",
    });
    expect((await readdir(store)).sort()).toEqual(["web-kill.yaml", "web-pause.yaml"]);
    expect((await chaosctl(["apply", "-f", src, "--dir", store])).stdout).toBe(
      "chaosschedule/web-kill unchanged\nchaosschedule/web-pause unchanged\n",
    );
    await writeFile(join(src, "two.yaml"), two().replace("@every 10m", "@every 5m"));
    const before = await readFile(join(store, "web-kill.yaml"), "utf8");
    expect((await chaosctl(["apply", "-f", src, "--dir", store, "--dry-run"])).stdout).toBe(
      "chaosschedule/web-kill configured (dry run)\nchaosschedule/web-pause unchanged (dry run)\n",
    );
    expect(await readFile(join(store, "web-kill.yaml"), "utf8")).toBe(before);
    expect((await chaosctl(["apply", "-f", src, "--dir", store])).stdout).toBe(
      "chaosschedule/web-kill configured\nchaosschedule/web-pause unchanged\n",
    );
    expect(parse(await readFile(join(store, "web-kill.yaml"), "utf8")).spec.schedule).toBe("@every 5m");
  });

  it("rejects invalid input whole: every problem as file:line:col, nothing applied, exit 2", async () => {
    await writeFile(join(src, "a-good.yaml"), schedule("good"));
    await writeFile(
      join(src, "b-bad.yaml"),
      schedule("bad", "selector: {services: [web]}\nfault: {kill: {}, pause: {}}\nduration: -1s"),
    );
    const r = await chaosctl(["apply", "-f", src, "--dir", store]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const bad = join(src, "b-bad.yaml");
    expect(r.stderr).toContain(`${bad}:7:21: spec.fault.pause: 2 faults (kill, pause) in one schedule`);
    expect(r.stderr).toContain(`${bad}:8:13: spec.duration: must be positive`);
    expect(r.stderr).toMatch(/nothing applied/);
    expect(await readdir(store)).toEqual([]);
  });

  it("reads stdin with -f -, directories only one level deep without -R", async () => {
    const r = await chaosctl(["apply", "-f", "-", "--dir", store], { stdin: schedule("from-stdin") });
    expect(r).toEqual({ code: 0, stdout: "chaosschedule/from-stdin created\n", stderr: "" });
    await mkdir(join(src, "sub"));
    await writeFile(join(src, "top.yaml"), schedule("top"));
    await writeFile(join(src, "sub", "deep.yaml"), schedule("deep"));
    expect((await chaosctl(["apply", "-f", src, "--dir", store])).stdout).toBe("chaosschedule/top created\n");
    expect((await chaosctl(["apply", "-f", src, "-R", "--dir", store])).stdout).toBe(
      "chaosschedule/deep created\nchaosschedule/top unchanged\n",
    );
  });

  it("needs a store and -f (exit 2)", async () => {
    await writeFile(join(src, "x.yaml"), schedule("x"));
    const noStore = await chaosctl(["apply", "-f", src], {});
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/--dir DIR.*--store swarm/);
    expect((await chaosctl(["apply", "--dir", store])).code).toBe(2);
  });
});

describe("get", () => {
  it("lists schedules as a table; -o json items match the table rows", async () => {
    await applied();
    const table = await chaosctl(["get", "--dir", store]);
    expect(table.code).toBe(0);
    const rows = tableRows(table.stdout);
    expect(rows[0]).toEqual([
      "NAMESPACE",
      "NAME",
      "SCHEDULE",
      "FAULT",
      "SUSPEND",
      "PHASE",
      "ACTIVE",
      "SCORE",
      "LAST RESULT",
      "LAST SCHEDULE",
    ]);
    const json = JSON.parse((await chaosctl(["get", "schedules", "--dir", store, "-o", "json"])).stdout);
    expect(json.kind).toBe("ChaosScheduleList");
    const fromJson = json.items.map(
      (i: {
        metadata: { namespace: string; name: string };
        spec: { schedule: string; fault: object; suspend: boolean };
        status?: { phase?: string; active?: unknown[] };
      }) => [
        i.metadata.namespace,
        i.metadata.name,
        i.spec.schedule,
        Object.keys(i.spec.fault)[0],
        String(i.spec.suspend),
        i.status?.phase ?? "Pending",
        String(i.status?.active?.length ?? 0),
        "<none>",
        "<none>",
        "<none>",
      ],
    );
    expect(rows.slice(1)).toEqual(fromJson);
    expect(fromJson.map((r: string[]) => r[1])).toEqual(["web-kill", "web-pause"]);
  });

  it("shows status written by the controller (phase, active count, last schedule)", async () => {
    const now = new Date(Date.now() - 90_000).toISOString();
    await writeFile(
      join(store, "s.yaml"),
      schedule("s", "duration: 1m\nselector: {services: [web]}\nfault: {pause: {}}") +
        `status:\n  phase: Active\n  resilienceScore: 80\n  resilienceRuns: 5\n  lastScheduleTime: "${now}"\n  active:\n    - {run: r1, fault: pause, service: web, node: n1}\n`,
    );
    const row = tableRows((await chaosctl(["get", "--dir", store])).stdout)[1];
    expect(row).toEqual(["default", "s", "@once", "pause", "false", "Active", "1", "80% (5)", "<none>", "90s"]);
  });

  it("-A / --all-namespaces lists every namespace, as get does; with a NAME it is a usage error", async () => {
    await applied();
    await writeFile(join(store, "other.yaml"), schedule("db-kill", undefined, "namespace: team-a"));
    const plain = await chaosctl(["get", "--dir", store]);
    expect(tableRows(plain.stdout).map((r) => r[0])).toEqual(["NAMESPACE", "default", "default", "team-a"]);
    expect(await chaosctl(["get", "-A", "--dir", store])).toEqual(plain);
    expect(await chaosctl(["get", "schedules", "--all-namespaces", "--dir", store])).toEqual(plain);
    const named = await chaosctl(["get", "-A", "web-kill", "--dir", store]);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/-A lists every namespace/);
  });

  it("LAST RESULT: the last run's result, Skipped as Skipped (not success), Waiting while a run is held back", async () => {
    const st = (extra: string) =>
      schedule("s", "duration: 1m\nselector: {services: [web]}\nfault: {pause: {}}") +
      `status:\n  phase: Completed\n  lastScheduleGeneration: 1\n  history:\n` +
      `    - {run: r1, result: Succeeded, scheduledAt: "2026-01-01T09:00:00Z"}\n` +
      `    - {run: r2, result: Skipped, reason: WouldFaultAllTasks, scheduledAt: "2026-01-01T10:00:00Z"}\n${extra}`;
    await writeFile(join(store, "s.yaml"), st(""));
    const col = async () => {
      const rows = tableRows((await chaosctl(["get", "--dir", store])).stdout);
      return rows[1]?.[rows[0]?.indexOf("LAST RESULT") ?? -1];
    };
    expect(await col()).toBe("Skipped");
    await writeFile(
      join(store, "s.yaml"),
      st(`  waiting: {run: r3, reason: MaxUnavailable, scheduledAt: "2026-01-01T11:00:00Z"}\n`),
    );
    expect(await col()).toBe("Waiting");
  });

  it("a selector that matches nothing (TargetsFound=False) is named on stderr, with the controller's suggestion", async () => {
    await writeFile(
      join(store, "t.yaml"),
      schedule("typo", "selector: {services: [nc-wbe]}\nfault: {kill: {}}") +
        `status:\n  phase: Scheduled\n  conditions:\n` +
        `    - {type: TargetsFound, status: "False", reason: NoMatch, message: "service nc-wbe does not exist; did you mean nc-web?"}\n`,
    );
    const r = await chaosctl(["get", "--dir", store]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "warning: default/typo: TargetsFound=False: service nc-wbe does not exist; did you mean nc-web?\n",
    );
  });

  it("-o wide adds columns, -o yaml / -o name, NAME alone prints the bare object", async () => {
    await applied();
    const wide = tableRows((await chaosctl(["get", "-o", "wide", "--dir", store])).stdout);
    expect(wide[0]).toEqual(expect.arrayContaining(["GENERATION", "SELECTOR", "SOURCE"]));
    expect(wide[2]).toEqual(expect.arrayContaining(["30s", "services=web mode=one"]));
    const yaml = parse((await chaosctl(["get", "-o", "yaml", "--dir", store])).stdout);
    expect(yaml.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(["web-kill", "web-pause"]);
    expect((await chaosctl(["get", "-o", "name", "--dir", store])).stdout).toBe(
      "chaosschedule/web-kill\nchaosschedule/web-pause\n",
    );
    const one = JSON.parse((await chaosctl(["get", "schedules", "web-pause", "-o", "json", "--dir", store])).stdout);
    expect(one).toMatchObject({ kind: "ChaosSchedule", metadata: { name: "web-pause" }, spec: { duration: "30s" } });
    expect(JSON.parse((await chaosctl(["get", "web-pause", "-o", "json", "--dir", store])).stdout)).toEqual(one);
  });

  it("NAME not found: exit 1; an unknown resource with a name: exit 2; invalid manifests are named on stderr", async () => {
    await applied();
    expect(await chaosctl(["get", "nope", "--dir", store])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'chaosctl: chaosschedule "default/nope" not found\n',
    });
    expect((await chaosctl(["get", "pods", "x", "--dir", store])).code).toBe(2);
    await writeFile(join(store, "broken.yaml"), schedule("broken", "selector: {services: [web]}\nfault: {}"));
    const r = await chaosctl(["get", "--dir", store]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: invalid manifest default\/broken not listed: .*broken\.yaml:\d+:\d+/);
  });

  it("-w prints the list, then a line per changed object, until the signal aborts", async () => {
    await applied();
    const stop = new AbortController();
    let seen = "";
    const done = chaosctl(["get", "-w", "--dir", store], { signal: stop.signal, onStdout: (s) => void (seen = s) });
    const until = async (re: RegExp): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!re.test(seen)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${seen}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until(/web-pause/);
    expect(tableRows(seen)).toHaveLength(3);
    expect((await chaosctl(["suspend", "web-kill", "--dir", store])).code).toBe(0);
    await until(/web-kill\s+@every 10m\s+kill\s+true/);
    await writeFile(join(store, "new.yaml"), schedule("new-one"));
    await until(/new-one/);
    expect((await chaosctl(["delete", "web-pause", "--dir", store])).code).toBe(0);
    await until(/web-pause.*\(deleted\)/);
    stop.abort();
    const r = await done;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(6); // header, 2 rows, suspended, added, deleted
    expect(lines.filter((l) => /web-kill/.test(l))).toHaveLength(2);
    // Every line in the first table's columns, "new-one" (shorter than "web-pause") too.
    const header = lines[0] ?? "";
    for (const col of ["SCHEDULE", "FAULT", "SUSPEND", "PHASE"]) {
      const at = header.indexOf(col);
      for (const l of lines.slice(1)) expect(l.slice(at - 1, at + 1), `${col} in ${JSON.stringify(l)}`).toMatch(/^ \S/);
    }
  });

  it("-w -o json prints one event object per line", async () => {
    await applied();
    const stop = new AbortController();
    let seen = "";
    const done = chaosctl(["get", "-w", "-o", "json", "--dir", store], {
      signal: stop.signal,
      onStdout: (s) => void (seen = s),
    });
    while (seen.split("\n").length < 3) await new Promise((r) => setTimeout(r, 25));
    await chaosctl(["delete", "web-kill", "--dir", store]);
    const end = Date.now() + 10_000;
    while (!/DELETED/.test(seen) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    stop.abort();
    const events = (await done).stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "web-kill"],
      ["ADDED", "web-pause"],
      ["DELETED", "web-kill"],
    ]);
  });
});

describe("describe", () => {
  it("prints spec summary, conditions, active (from status with --no-cluster), history with recovery, audit-log events", async () => {
    await writeFile(
      join(store, "d.yaml"),
      schedule("d", 'schedule: "@every 1m"\nselector: {services: [web]}\nfault: {kill: {signal: SIGTERM}}') +
        `status:
  observedGeneration: 1
  phase: Scheduled
  conditions: [{type: Ready, status: "True", reason: Reconciled, message: ok, lastTransitionTime: "2026-01-01T10:00:00Z"}]
  history:
    - {run: r1, generation: 1, fault: kill, startedAt: "2026-01-01T10:00:00Z", endedAt: "2026-01-01T10:00:01Z", targets: 1, result: Succeeded, recovery: Recovered, recoverySeconds: 7.4}
`,
    );
    await writeFile(
      log,
      JSON.stringify({
        time: "2026-01-01T10:00:00Z",
        actor: "controller",
        action: "apply",
        schedule: "default/d",
        run: "r1",
        result: "ok",
        target: "web/abc",
      }) +
        "\n" +
        JSON.stringify({ time: "x", actor: "cli", action: "apply", schedule: "default/other", result: "created" }) +
        "\n",
    );
    const r = await chaosctl(["describe", "d", "--dir", store, "--no-cluster", "--audit-log", log]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+d$/m);
    expect(r.stdout).toMatch(/^Fault:\s+kill \{"signal":"SIGTERM"\}$/m);
    expect(r.stdout).toMatch(/^Generation:\s+1 \(observed 1\)$/m);
    expect(r.stdout).toMatch(/Ready\s+True\s+Reconciled/);
    expect(r.stdout).toMatch(/Active Injections: \(from status\)\n {2}<none>/);
    expect(r.stdout).toMatch(/2026-01-01T10:00:00Z\s+Succeeded\s+1\s+1s\s+7.4s/);
    // The runs' events from status and the audit log's records, merged by time.
    expect(r.stdout).toContain(
      `Events: (from status and audit log ${log})\n` +
        "  2026-01-01T10:00:00Z  status run r1 started: 1 target(s)\n" +
        "  2026-01-01T10:00:00Z  controller apply ok run r1 web/abc\n" +
        "  2026-01-01T10:00:01Z  status run r1 succeeded\n",
    );
    expect(r.stdout).not.toMatch(/default\/other/);
    expect(await chaosctl(["describe", "nope", "--dir", store, "--no-cluster"])).toMatchObject({
      code: 1,
      stderr: 'chaosctl: chaosschedule "default/nope" not found\n',
    });
  });
});

describe("describe with probes", () => {
  it("shows the probes, the resilience score, each run's verdict and the last judged run's probe lines", async () => {
    await writeFile(
      join(store, "p.yaml"),
      schedule(
        "p",
        "duration: 1m\nselector: {services: [web]}\nfault: {pause: {}}\nprobes:\n  - {name: web-up, mode: Continuous, http: {url: 'http://127.0.0.1:18080/'}}",
      ) +
        [
          "status:",
          "  resilienceScore: 50",
          "  resilienceRuns: 2",
          "  history:",
          "    - {run: r1, result: Succeeded, verdict: Pass, probes: [{name: web-up, mode: Continuous, verdict: Pass, passed: 30, failed: 0}]}",
          "    - {run: r2, result: Aborted, reason: ProbeFailed, verdict: Fail, probes: [{name: web-up, mode: Continuous, verdict: Fail, passed: 3, failed: 2, lastError: 'GET http://127.0.0.1:18080/: no answer within 800 ms'}]}",
          "",
        ].join("\n"),
    );
    const out = (await chaosctl(["describe", "p", "--dir", store, "--no-cluster"])).stdout;
    expect(out).toMatch(/^Probes: +web-up \(Continuous, http\)$/m);
    expect(out).toMatch(/^Resilience: +50% of the last 2 judged run\(s\) passed$/m);
    expect(out).toMatch(/Aborted .* Fail .*ProbeFailed/);
    expect(out).toMatch(
      /^Probes \(run r2\):\n.*PROBE.*\n +web-up +Continuous +Fail +3 +2 +GET http:\/\/127.0.0.1:18080\/: no answer within 800 ms$/m,
    );
  });
});

describe("whether a controller reconciles (the leader lease)", () => {
  const env = process.env.XDG_RUNTIME_DIR;
  beforeEach(() => void (process.env.XDG_RUNTIME_DIR = join(root, "run")));
  afterEach(() => {
    if (env === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = env;
  });
  const pauseWithStatus = () =>
    schedule("p", "duration: 1m\nselector: {services: [web]}\nfault: {pause: {}}") +
    `status:
  observedGeneration: 1
  phase: Active
  active: [{run: r1, fault: pause, service: web, node: n1, since: "2026-01-01T10:00:00Z", until: "2026-01-01T10:01:00Z"}]
  history:
    - {run: r1, generation: 1, fault: pause, scheduledAt: "2026-01-01T09:59:59Z", startedAt: "2026-01-01T10:00:00Z", targets: 1, services: [web], result: Running}
    - {run: r0, generation: 1, fault: pause, scheduledAt: "2026-01-01T09:00:00Z", result: Skipped, reason: MaxUnavailable, message: "web: 1 of 1 unavailable"}
`;
  async function lease(record: Partial<LeaseRecord>): Promise<void> {
    const s = new FileLeaseStore(await defaultLeaseFile(store, "default"));
    const now = Date.now();
    await s.create({
      holder: "h/1/2/abc",
      renewTime: now,
      leaseDurationMs: 15_000,
      acquireTime: now,
      transitions: 0,
      ...record,
    });
  }

  it("no lease: get warns that status is as last written; describe says so at Phase and Controller", async () => {
    await writeFile(join(store, "p.yaml"), pauseWithStatus());
    const got = await chaosctl(["get", "--dir", store]);
    expect(got.code).toBe(0);
    expect(tableRows(got.stdout)[1]).toEqual(expect.arrayContaining(["Active", "1"]));
    expect(got.stderr).toMatch(
      /^warning: no controller of instance "default" has held this store's leader lease .*as last written/,
    );
    const d = await chaosctl(["describe", "p", "--dir", store, "--no-cluster"]);
    expect(d.stdout).toMatch(/^Phase:\s+Active \(as last written\)$/m);
    expect(d.stdout).toMatch(/^Controller:\s+none: no controller of instance "default"/m);
    // Without --audit-log, the runs' events still show, from status.
    expect(d.stdout).toContain(
      "Events: (from status)\n" +
        "  2026-01-01T09:00:00Z  status run r0 skipped MaxUnavailable: web: 1 of 1 unavailable\n" +
        "  2026-01-01T10:00:00Z  status run r1 started: 1 target(s) of web\n",
    );
  });

  it("a released or expired lease, or a leader without a recent pass: the same warning, saying which", async () => {
    await writeFile(join(store, "p.yaml"), pauseWithStatus());
    await lease({ holder: "", renewTime: 0, lastPassTime: Date.now() - 300_000 });
    expect((await chaosctl(["get", "--dir", store])).stderr).toMatch(
      /^warning: no controller is reconciling: the leader lease of instance "default" was released \(last pass 5m ago\)/,
    );
    await rm(join(root, "run"), { recursive: true });
    await lease({ renewTime: Date.now() - 60_000, lastPassTime: Date.now() - 60_000 });
    expect((await chaosctl(["get", "--dir", store])).stderr).toMatch(
      /lease .* was expired 45s ago \(last pass 60s ago\)/,
    );
    await rm(join(root, "run"), { recursive: true });
    await lease({ lastPassTime: Date.now() - 600_000 });
    expect((await chaosctl(["get", "--dir", store])).stderr).toMatch(
      /^warning: the controller holding the lease \(h\/1\/2\/abc\) has not finished a pass \(last pass 10m ago\)/,
    );
  });

  it("a lease held and a recent pass: no warning; describe names the controller", async () => {
    await writeFile(join(store, "p.yaml"), pauseWithStatus());
    await lease({ lastPassTime: Date.now() - 2_000 });
    expect(await chaosctl(["get", "--dir", store])).toMatchObject({ code: 0, stderr: "" });
    const d = await chaosctl(["describe", "p", "--dir", store, "--no-cluster"]);
    expect(d.stdout).toMatch(/^Phase:\s+Active$/m);
    expect(d.stdout).toMatch(/^Controller:\s+h\/1\/2\/abc, last pass \d+s ago \(lease renewed \d+s ago\)$/m);
  });
});

describe("diff", () => {
  it("exit 0 without differences, 1 with a unified diff, /dev/null for a new object", async () => {
    await applied();
    expect(await chaosctl(["diff", "-f", src, "--dir", store])).toEqual({ code: 0, stdout: "", stderr: "" });
    await writeFile(join(src, "two.yaml"), two().replace("@every 10m", "@every 5m") + "---\n" + schedule("third"));
    const r = await chaosctl(["diff", "-f", src, "--dir", store]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("--- live/default/web-kill\n+++ applied/default/web-kill\n@@ ");
    expect(r.stdout).toContain('-  schedule: "@every 10m"\n+  schedule: "@every 5m"\n');
    expect(r.stdout).toContain("--- /dev/null\n+++ applied/default/third\n@@ -0,0 +1,");
    expect(r.stdout).not.toContain("web-pause");
    // diff changes nothing.
    expect((await chaosctl(["diff", "-f", src, "--dir", store])).code).toBe(1);
    expect(await readdir(store)).not.toContain("third.yaml");
  });

  it("invalid input: exit 2 with located problems", async () => {
    await writeFile(join(src, "bad.yaml"), schedule("bad", "selector: {services: [web]}\nfault: {}"));
    const r = await chaosctl(["diff", "-f", src, "--dir", store]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: spec\.fault/);
  });
});

describe("delete", () => {
  it("by name and by file; not found is exit 1 unless --ignore-not-found", async () => {
    await applied();
    expect(await chaosctl(["delete", "web-kill", "--dir", store])).toEqual({
      code: 0,
      stdout: `chaosschedule/web-kill deleted: removed file ${join(store, "web-kill.yaml")} (its only document)\n`,
      stderr: "",
    });
    expect(await chaosctl(["delete", "web-kill", "--dir", store])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'chaosctl: chaosschedule "default/web-kill" not found\n',
    });
    expect((await chaosctl(["delete", "web-kill", "--ignore-not-found", "--dir", store])).code).toBe(0);
    expect((await chaosctl(["delete", "-f", src, "--dir", store, "--dry-run"])).stdout).toBe(
      `chaosschedule/web-pause deleted (dry run): would remove file ${join(store, "web-pause.yaml")} (its only document)\n`,
    );
    expect(await readdir(store)).toEqual(["web-pause.yaml"]);
    const r = await chaosctl(["delete", "-f", src, "--dir", store, "--ignore-not-found"]);
    expect(r).toEqual({
      code: 0,
      stdout: `chaosschedule/web-pause deleted: removed file ${join(store, "web-pause.yaml")} (its only document)\n`,
      stderr: "",
    });
    expect(await readdir(store)).toEqual([]);
    expect((await chaosctl(["delete", "--dir", store])).code).toBe(2);
  });

  it("a document of a multi-document file: says which one went, keeps the others and their comments", async () => {
    const text =
      "# team web\n" + schedule("a") + "---\n# b: the nightly one\n" + schedule("b") + "---\n" + schedule("c");
    await writeFile(join(store, "three.yaml"), text);
    const r = await chaosctl(["delete", "c", "--dir", store]);
    expect(r).toEqual({
      code: 0,
      stdout: `chaosschedule/c deleted: cut document 3 of 3 from ${join(store, "three.yaml")} (line 19); the others and their comments kept\n`,
      stderr: "",
    });
    expect(await readFile(join(store, "three.yaml"), "utf8")).toBe(
      "# team web\n" + schedule("a") + "---\n# b: the nightly one\n" + schedule("b"),
    );
  });
});

describe("suspend / resume and the audit log", () => {
  it("suspend NAME, --all (the kill switch), resume --all; every change appended to --audit-log", async () => {
    await writeFile(join(src, "two.yaml"), two());
    expect((await chaosctl(["apply", "-f", src, "--dir", store, "--audit-log", log])).code).toBe(0);
    expect((await chaosctl(["suspend", "web-kill", "--dir", store, "--audit-log", log])).stdout).toBe(
      "chaosschedule/web-kill suspended\n",
    );
    expect((await chaosctl(["suspend", "--all", "--dir", store, "--audit-log", log])).stdout).toBe(
      "chaosschedule/web-kill unchanged (already suspended)\nchaosschedule/web-pause suspended\n",
    );
    const suspended = JSON.parse((await chaosctl(["get", "-o", "json", "--dir", store])).stdout).items.map(
      (i: { spec: { suspend: boolean } }) => i.spec.suspend,
    );
    expect(suspended).toEqual([true, true]);
    expect((await chaosctl(["resume", "--all", "--dir", store, "--audit-log", log])).stdout).toBe(
      "chaosschedule/web-kill resumed\nchaosschedule/web-pause resumed\n",
    );
    expect(await chaosctl(["resume", "nope", "--dir", store])).toMatchObject({
      code: 1,
      stderr: 'chaosctl: chaosschedule "default/nope" not found\n',
    });
    expect((await chaosctl(["suspend", "--dir", store])).code).toBe(2);
    expect((await chaosctl(["delete", "web-pause", "--dir", store, "--audit-log", log])).code).toBe(0);
    const records = (await readFile(log, "utf8"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(
      records.map((r: { action: string; schedule: string; result: string }) => `${r.action} ${r.schedule} ${r.result}`),
    ).toEqual([
      "apply default/web-kill created",
      "apply default/web-pause created",
      "suspend default/web-kill suspended",
      "suspend default/web-kill unchanged",
      "suspend default/web-pause suspended",
      "resume default/web-kill resumed",
      "resume default/web-pause resumed",
      "delete default/web-pause deleted",
    ]);
    for (const r of records) {
      expect(r.actor).toBe("cli");
      expect(r.origin).toMatch(/.+@.+/);
      expect(Date.parse(r.time)).not.toBeNaN();
    }
    expect(records[0].generation).toBe(1);
  });
});

describe("help", () => {
  it("every verb has --help with examples; the full help lists every visible verb", async () => {
    const full = await chaosctl(["--help"]);
    expect(full.code).toBe(0);
    for (const v of VERBS.filter((x) => !x.hidden && x.name !== "schema")) {
      expect(full.stdout).toContain(v.name);
      const r = await chaosctl([v.name, "--help"]);
      expect(r.code, v.name).toBe(0);
      expect(r.stdout, v.name).toContain("Examples:");
      expect(r.stdout, v.name).toContain(`chaosctl ${v.name}`);
    }
  });
});

describe("resume of a halted schedule", () => {
  it("records abort.resumedAt (keeping the user's abort fields and comments), which lifts the halt", async () => {
    const file = join(store, "halted.yaml");
    await writeFile(
      file,
      schedule(
        "web-probe",
        "selector: {services: [web]}\nfault: {kill: {}}\nabort:\n  haltSchedule: true # stop after an abort",
      ) +
        [
          "status:",
          "  conditions:",
          '    - {type: Halted, status: "True", reason: ProbeFailed, message: probe web-up failed, lastTransitionTime: "2026-01-01T00:00:00.000Z"}',
          "",
        ].join("\n"),
    );
    const r = await chaosctl(["resume", "web-probe", "--dir", store]);
    expect(r).toEqual({ code: 0, stdout: "chaosschedule/web-probe resumed (halt lifted)\n", stderr: "" });
    const text = await readFile(file, "utf8");
    expect(text).toContain("haltSchedule: true # stop after an abort");
    const doc = parse(text);
    expect(Date.parse(doc.spec.abort.resumedAt)).toBeGreaterThan(Date.parse("2026-01-01T00:00:00.000Z"));
    const { haltInForce } = await import("../../src/probes/halt.js");
    expect(haltInForce(doc.spec, doc.status)).toBeUndefined();
    // Not halted any more: a second resume changes nothing.
    expect((await chaosctl(["resume", "web-probe", "--dir", store])).stdout).toBe(
      "chaosschedule/web-probe unchanged (already running)\n",
    );
  });
});
