// The network guard's shell prelude: the texts computed ahead (the very batches runSteps sends for
// the clean plan), the check the agent makes of them, and the script itself (netns-guard.sh) run by
// the real /bin/sh with stand-ins for tc, iptables-restore and node on its PATH: what it runs, what
// it logs, what it tells the Node.js entry, and its signal windows. The same script on the real
// engine: network-driver.docker.test.ts and guard-direct.docker.test.ts.
import { spawn } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecResult } from "../../src/engine/engine.js";
import { guardArgv } from "../../src/faults/guard/args.js";
import { guardHelperSpec } from "../../src/faults/guard/spec.js";
import { netemInjection } from "../../src/faults/netem/injection.js";
import { networkInjection } from "../../src/faults/network/injection.js";
import { IPT_RESTORE, planClean, runSteps, TC_BATCH } from "../../src/faults/netns/converge.js";
import { NETNS_GUARD_ENTRYPOINT } from "../../src/faults/netns/guard-spec.js";
import {
  cleanBatchTexts,
  NETNS_SHELL_ENTRYPOINT,
  netnsGuardCommand,
  shellGuardArgv,
  shellPreludeArgs,
} from "../../src/faults/netns/shell-prelude.js";
import type { NetnsInjection } from "../../src/faults/netns/plan.js";
import type { DriverContext } from "../../src/faults/driver.js";
import { nodeGuardSpec } from "../../src/faults/node/guard.js";
import { applyPartitionToClean } from "../../src/faults/node/partition-effect.js";
import { applyArgv, partitionNames } from "../../src/faults/node/partition-rules.js";
import { wrapNodeSpec } from "../../src/faults/node/spec.js";

const key = (fault: "network" | "netem") => ({ schedule: "default/x", run: "r1", fault });
const wrapped = (spec: unknown) => ({ injection: { schedule: "default/x", run: "r1" }, spec });
const until = new Date("2026-12-07T12:00:00Z");
const argvOf = (fault: "network" | "netem" | "pause", spec: unknown, at = until): string[] =>
  guardArgv({ fault, target: "c".repeat(64), until: at, spec: wrapped(spec) });

/** What runSteps sends to each batch process for the clean plan (an exec that takes stdin, every command succeeding). */
async function batchesRunStepsSends(inj: NetnsInjection): Promise<{ argv: string[]; input?: string }[]> {
  const { calls, exec } = recordingExec();
  await runSteps(exec, planClean(inj));
  return calls;
}

/** An exec that takes stdin, records each call (argv and input) and succeeds. */
function recordingExec() {
  const calls: { argv: string[]; input?: string }[] = [];
  const exec = Object.assign(
    async (argv: string[], input?: string): Promise<ExecResult> => {
      calls.push(input === undefined ? { argv } : { argv, input });
      return { exitCode: 0, stdout: "", stderr: "" };
    },
    { stdin: true as const },
  );
  return { calls, exec };
}

describe("the texts computed ahead", () => {
  const cases: [string, NetnsInjection][] = [
    ["netem delay", netemInjection(key("netem"), { delay: { time: "100ms" } })],
    ["netem to ports", netemInjection(key("netem"), { loss: { percent: 5 }, to: { ports: [80, 443] } })],
    ["network loss", networkInjection(key("network"), { loss: { probability: 0.3 } })],
    ["network bandwidth", networkInjection(key("network"), { bandwidth: { rate: "1mbit" } })],
    [
      "network partition and bandwidth",
      networkInjection(key("network"), {
        partition: { cidrs: ["10.0.0.0/24"], direction: "both" },
        bandwidth: { rate: "1mbit" },
      }),
    ],
  ];
  it.each(cases)("%s: exactly the batches runSteps sends for the clean plan", async (_, inj) => {
    const texts = cleanBatchTexts(inj)!;
    expect(texts).toBeDefined();
    const want: { argv: string[]; input?: string }[] = [];
    if (texts.tc) want.push({ argv: TC_BATCH, input: `${texts.tc}\n` });
    if (texts.ipt) want.push({ argv: IPT_RESTORE, input: `${texts.ipt}\n` });
    const sent = await batchesRunStepsSends(inj);
    // A plan of one step runs it as it is, not as a batch of one.
    if (sent.length === 1 && sent[0]!.input === undefined) expect(planClean(inj)).toHaveLength(1);
    else expect(sent).toEqual(want);
  });

  it("the shell entry's arguments: the expiry in ms, then the two texts, then the guard verb's argv as it is", () => {
    const argv = argvOf("network", { loss: { probability: 0.3 } });
    const c = netnsGuardCommand(argv);
    expect(c.entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    expect(c.cmd.slice(3)).toEqual(argv);
    expect(c.cmd[0]).toBe(String(until.getTime()));
    expect(c.cmd[1]).toBe("");
    expect(c.cmd[2]).toMatch(/^\*filter\n-N CHAOS-[0-9a-f]{10}-O\n-A CHAOS-.*\n-I OUTPUT .*\nCOMMIT$/);
    // Through the guard's container spec, as the driver builds it (the one-node path and the agent's alike).
    const hs = guardHelperSpec({
      image: "local/chaosctl:dev",
      fault: "network",
      owner: { schedule: "default/x", generation: 1, run: "r1" },
      target: { kind: "container", nodeId: "n1", containerId: "c".repeat(64) },
      until,
      spec: wrapped({ loss: { probability: 0.3 } }),
      entrypoint: [...NETNS_GUARD_ENTRYPOINT],
      command: netnsGuardCommand,
    });
    expect(hs.entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    expect(hs.cmd).toEqual(c.cmd);
  });

  it("no shell prelude for another fault, a spec its builder refuses or an unreadable expiry: Node.js's entry", () => {
    expect(shellPreludeArgs(argvOf("pause", {}))).toBeUndefined();
    expect(shellPreludeArgs(argvOf("network", { loss: { probability: 7 } }))).toBeUndefined();
    const bad = argvOf("network", { loss: { probability: 0.3 } });
    bad[bad.indexOf("--until") + 1] = "soon";
    expect(shellPreludeArgs(bad)).toBeUndefined();
    expect(netnsGuardCommand(argvOf("pause", {}))).toEqual({
      entrypoint: NETNS_GUARD_ENTRYPOINT,
      cmd: argvOf("pause", {}),
    });
  });

  it("the check: the computed arguments pass; a tampered batch, expiry or spec is refused", () => {
    const argv = argvOf("netem", { delay: { time: "100ms" } });
    const { cmd } = netnsGuardCommand(argv);
    expect(shellGuardArgv(cmd)).toEqual(argv);
    const tampered = (i: number, v: string) => cmd.map((a, j) => (j === i ? v : a));
    expect(() => shellGuardArgv(tampered(1, `${cmd[1]}\nqdisc add dev eth0 ingress`))).toThrow(/not the plan/);
    expect(() => shellGuardArgv(tampered(1, "filter add dev eth0 parent 1: bpf obj x.o action exec"))).toThrow(
      /not the plan/,
    );
    expect(() => shellGuardArgv(tampered(2, "*filter\n-A INPUT -j DROP\nCOMMIT"))).toThrow(/not the plan/);
    expect(() => shellGuardArgv(tampered(0, String(until.getTime() + 3_600_000)))).toThrow(/not the plan/);
    const otherSpec = argvOf("netem", { delay: { time: "900ms" } });
    expect(() => shellGuardArgv([...cmd.slice(0, 3), ...otherSpec])).toThrow(/not the plan/);
    expect(() => shellGuardArgv([...cmd.slice(0, 3), ...argvOf("pause", {})])).toThrow(
      /network, netem or node partition/,
    );
    expect(() => shellGuardArgv(cmd.slice(1))).toThrow();
  });
});

describe("a node partition's text", () => {
  const owner = { schedule: "default/cut", generation: 1, run: "r1" };
  const nodeArgv = (action: "partition" | "drain", keep: number[] = [8946]) =>
    guardArgv({ fault: "node", target: "node1", until, spec: wrapNodeSpec(action, owner, until, keep) });

  it("no tc, and line for line the one restore the Node.js prelude sends: chain, rules, then both jumps", async () => {
    const pre = shellPreludeArgs(nodeArgv("partition"))!;
    expect(pre[0]).toBe(String(until.getTime()));
    expect(pre[1]).toBe("");
    const { calls: sent, exec } = recordingExec();
    await applyPartitionToClean(exec, owner, [8946]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.argv).toEqual(IPT_RESTORE);
    expect(`${pre[2]}\n`.split("\n")).toEqual(sent[0]!.input!.split("\n"));
    // The same steps as the step-by-step apply (applyArgv), in its order, as restore lines.
    const n = partitionNames(owner);
    const lines = pre[2]!.split("\n");
    expect(lines[0]).toBe("*filter");
    expect(lines.at(-1)).toBe("COMMIT");
    expect(lines.slice(1, -1)).toEqual(applyArgv(n, [8946]).map((a) => a.slice(3).join(" ")));
    expect(lines.slice(-3, -1)).toEqual([
      `-I INPUT 1 ! -i lo -m comment --comment ${n.comment} -j ${n.chain}`,
      `-I OUTPUT 1 ! -o lo -m comment --comment ${n.comment} -j ${n.chain}`,
    ]);
  });

  it("the node guard the driver builds: a partition starts from the shell entry, a drain from Node.js's", () => {
    const ctx = { image: "local/chaosctl:dev" } as DriverContext;
    const target = { kind: "node" as const, nodeId: "node1" };
    const part = nodeGuardSpec(ctx, target, wrapNodeSpec("partition", owner, until, [8946]), owner, until);
    expect(part.entrypoint).toEqual(NETNS_SHELL_ENTRYPOINT);
    expect(part.cmd).toEqual([...shellPreludeArgs(nodeArgv("partition"))!, ...nodeArgv("partition")]);
    expect(part.networkMode).toBe("host");
    expect(shellGuardArgv(part.cmd)).toEqual(nodeArgv("partition"));
    const drain = nodeGuardSpec(ctx, target, wrapNodeSpec("drain", owner, until), owner, until);
    expect(drain.entrypoint).toBeUndefined();
    expect(drain.cmd).toEqual(nodeArgv("drain", []));
    expect(shellPreludeArgs(nodeArgv("drain", []))).toBeUndefined();
  });

  it("a spec whose ports are not ports, or no node spec at all: no shell prelude", () => {
    const bad = nodeArgv("partition");
    const i = bad.indexOf("--spec") + 1;
    expect(shellPreludeArgs(bad.map((a, j) => (j === i ? a.replace("8946", "70000") : a)))).toBeUndefined();
    expect(shellPreludeArgs(bad.map((a, j) => (j === i ? "{}" : a)))).toBeUndefined();
  });
});

// --- the script, run by the real /bin/sh -------------------------------------------------------

let dir: string;
let script: string;
const SCRIPT = join(import.meta.dirname, "../../src/faults/netns/netns-guard.sh");

/**
 * Stand-ins: tc and iptables-restore save their stdin and exit as told (FAKE_TC_RC, FAKE_TC_SLEEP);
 * node (the Node.js entry) logs its mode and argv to calls.log and behaves as FAKE_NODE tells for
 * the mode the shell gave it: "exit:N"; "sleep", the real Node.js with no handlers (a guard still
 * loading: Node.js resets every signal disposition at its start, even one the shell ignored);
 * "handle", the real Node.js with a SIGTERM handler (the guard verb's: exits 0).
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "netns-guard-sh-"));
  await mkdir(join(dir, "bin"));
  await mkdir(join(dir, "app"));
  script = join(dir, "app", "netns-guard.sh");
  await copyFile(SCRIPT, script);
  const fake = async (name: string, body: string) => {
    await writeFile(join(dir, "bin", name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, "bin", name), 0o755);
  };
  await fake(
    "tc",
    `cat >"$FAKE_DIR/tc.in"; echo "tc $*" >>"$FAKE_DIR/calls.log"; [ -z "$FAKE_TC_SLEEP" ] || sleep "$FAKE_TC_SLEEP"
[ "\${FAKE_TC_RC:-0}" = 0 ] || { echo 'RTNETLINK answers: File exists' >&2; echo 'Command failed -:1' >&2; }
exit "\${FAKE_TC_RC:-0}"`,
  );
  await fake("iptables-restore", `cat >"$FAKE_DIR/ipt.in"; echo "iptables-restore $*" >>"$FAKE_DIR/calls.log"`);
  await fake(
    "node",
    `echo "node $CHAOSCTL_NETNS_PRELUDE $*" >>"$FAKE_DIR/calls.log"
[ -z "$CHAOSCTL_NETNS_APPLIED_MS" ] || echo "$CHAOSCTL_NETNS_APPLIED_MS" >"$FAKE_DIR/applied-ms"
mode=$(printf '%s' "$FAKE_NODE" | tr ',' '\\n' | grep "^$CHAOSCTL_NETNS_PRELUDE=" | cut -d= -f2)
case "$mode" in
  exit:*) exit "\${mode#exit:}" ;;
  sleep) exec "$REAL_NODE" -e 'setTimeout(() => {}, 3000)' ;;
  handle) exec "$REAL_NODE" -e '
    const fs = require("node:fs");
    process.on("SIGTERM", () => { fs.appendFileSync(process.env.FAKE_DIR + "/calls.log", "node handled TERM\\n"); process.exit(0); });
    setTimeout(() => {}, 3000);' ;;
  *) exit 0 ;;
esac`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  calls: string[];
  records: Record<string, unknown>[];
}

async function runScript(
  args: string[],
  env: Record<string, string>,
  signalAfterMs?: number,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<Run> {
  await rm(join(dir, "calls.log"), { force: true });
  await rm(join(dir, "applied-ms"), { force: true });
  const child = spawn("/bin/sh", [script, ...args], {
    env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, FAKE_DIR: dir, REAL_NODE: process.execPath, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
  if (signalAfterMs !== undefined) setTimeout(() => child.kill(signal), signalAfterMs);
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const calls = (await readFile(join(dir, "calls.log"), "utf8").catch(() => "")).split("\n").filter(Boolean);
  const records = stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout, calls, records };
}

const GUARD = ["guard", "--fault", "network", "--target", "t", "--until", "x", "--spec", '{"a":"b c"}'];
const future = () => String(Date.now() + 60_000);
const TC = "qdisc add dev eth0 root handle 1c4a: htb default 1\nclass replace dev eth0 parent 1c4a: classid 1c4a:2 htb";
const IPT = "*filter\n-N CHAOS-x-O\nCOMMIT";
const entry = () => join(dir, "app", "dist/src/cli/netns-guard.js");

describe("netns-guard.sh", () => {
  it("applies both texts (one tc -batch, one iptables-restore), logs applied, hands the guard argv over as it is", async () => {
    const r = await runScript([future(), TC, IPT, ...GUARD], { FAKE_NODE: "applied=exit:0" });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      "tc -batch -",
      "iptables-restore -w 5 --noflush",
      `node applied ${entry()} ${GUARD.join(" ")}`,
    ]);
    expect(await readFile(join(dir, "tc.in"), "utf8")).toBe(`${TC}\n`);
    expect(await readFile(join(dir, "ipt.in"), "utf8")).toBe(`${IPT}\n`);
    expect(r.records).toEqual([
      expect.objectContaining({ level: 30, event: "applied", by: "prelude", shell: true, ms: expect.any(Number) }),
    ]);
    expect(r.records[0]!.time).toBeGreaterThan(Date.now() - 60_000);
    // Node.js learns when: a guard with --hold holds from this moment.
    expect(Number(await readFile(join(dir, "applied-ms"), "utf8"))).toBe(r.records[0]!.time);
  });

  it("the guard's exit code is the script's (a failure its restart policy sees)", async () => {
    const r = await runScript([future(), TC, "", ...GUARD], { FAKE_NODE: "applied=exit:3" });
    expect(r.code).toBe(3);
    expect(r.calls).toEqual(["tc -batch -", `node applied ${entry()} ${GUARD.join(" ")}`]);
  });

  it("late start: applies nothing, the guard only reverts", async () => {
    const r = await runScript([String(Date.now() - 1), TC, IPT, ...GUARD], {});
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([`node late ${entry()} ${GUARD.join(" ")}`]);
    expect(r.records).toEqual([]);
    expect(await readFile(join(dir, "applied-ms"), "utf8").catch(() => "none")).toBe("none"); // no applied moment
  });

  it("a date without ms (another base image): applies nothing, says so, Node.js's prelude applies as without a shell", async () => {
    const fakeDate = join(dir, "bin", "date");
    await writeFile(fakeDate, "#!/bin/sh\necho 1796637953%3N\n");
    await chmod(fakeDate, 0o755);
    try {
      const r = await runScript([future(), TC, IPT, ...GUARD], {});
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([`node  ${entry()} ${GUARD.join(" ")}`]);
      expect(r.records).toEqual([
        expect.objectContaining({ event: "prelude-skipped", shell: true, err: expect.stringMatching(/date/) }),
      ]);
    } finally {
      await rm(fakeDate);
    }
  });

  it("a batch that fails (the namespace not clean, e.g. a restarted guard's): the rest not run, logged, the guard converges", async () => {
    const r = await runScript([future(), TC, IPT, ...GUARD], { FAKE_TC_RC: "1" });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(["tc -batch -", `node failed ${entry()} ${GUARD.join(" ")}`]);
    expect(r.records).toEqual([
      expect.objectContaining({
        event: "prelude-skipped",
        by: "prelude",
        shell: true,
        err: expect.stringMatching(/File exists/),
      }),
    ]);
  });

  it("SIGTERM while the shell applies: the batch finishes, no guard verb, the stopped mode reverts", async () => {
    const r = await runScript([future(), TC, IPT, ...GUARD], { FAKE_TC_SLEEP: "0.6" }, 200);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      "tc -batch -",
      "iptables-restore -w 5 --noflush",
      `node stopped ${entry()} ${GUARD.join(" ")}`,
    ]);
  });

  it("SIGTERM while Node.js loads (no handlers yet: it dies by it): the shell runs the stopped mode, which reverts", async () => {
    const r = await runScript([future(), TC, "", ...GUARD], { FAKE_NODE: "applied=sleep,stopped=exit:0" }, 400);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      "tc -batch -",
      `node applied ${entry()} ${GUARD.join(" ")}`,
      `node stopped ${entry()} ${GUARD.join(" ")}`,
    ]);
  });

  it("SIGINT likewise", async () => {
    const r = await runScript(
      [future(), TC, "", ...GUARD],
      { FAKE_NODE: "applied=sleep,stopped=exit:0" },
      400,
      "SIGINT",
    );
    expect(r.code).toBe(0);
    expect(r.calls.at(-1)).toBe(`node stopped ${entry()} ${GUARD.join(" ")}`);
  });

  it("SIGTERM once the guard verb has its handlers: forwarded, it reverts and exits 0, no second run", async () => {
    const r = await runScript([future(), TC, "", ...GUARD], { FAKE_NODE: "applied=handle" }, 400);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(["tc -batch -", `node applied ${entry()} ${GUARD.join(" ")}`, "node handled TERM"]);
  });

  it("a stopped mode that fails to revert: its exit code stays (the controller reverts through helpers)", async () => {
    const r = await runScript([future(), TC, "", ...GUARD], { FAKE_NODE: "applied=sleep,stopped=exit:1" }, 400);
    expect(r.code).toBe(1);
  });
});
