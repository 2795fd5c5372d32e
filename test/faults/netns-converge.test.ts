// observe -> plan -> execute, the execute part with a fake namespace: which processes run, in
// which order and how many (tc steps batched, reads side by side, an adoption that finds
// everything in place verifies nothing twice). The same code on real tc/iptables:
// netns-real.docker.test.ts (its helper exec takes stdin, so its steps are batched too) and the
// guards of network-driver.docker.test.ts.
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../src/engine/engine.js";
import {
  applyInjection,
  applyToClean,
  planClean,
  batchAt,
  failedLine,
  observe,
  runSteps,
  IPT_RESTORE,
  TC_BATCH,
  type NetnsExec,
} from "../../src/faults/netns/converge.js";
import { CommandFailed, KernelUnsupported } from "../../src/faults/netns/errors.js";
import { ownedNames } from "../../src/faults/netns/ids.js";
import * as ipt from "../../src/faults/netns/iptables.js";
import type { Step } from "../../src/faults/netns/plan.js";
import { GONE } from "../../src/faults/netns/shared.js";
import { networkInjection } from "../../src/faults/network/injection.js";
import { netemInjection } from "../../src/faults/netem/injection.js";
import { planApply } from "../../src/faults/netns/plan.js";
import { parseIptablesSave, parseQdiscs } from "../../src/faults/netns/parse.js";

const OK: ExecResult = { exitCode: 0, stdout: "", stderr: "" };
const QDISC_DEFAULT = `[{"kind":"noqueue","handle":"0:","dev":"eth0","root":true,"refcnt":2,"options":{}}]`;
const QDISC_OURS = `[{"kind":"htb","handle":"1c4a:","dev":"eth0","root":true,"refcnt":2,"options":{}}]`;
const IPT_EMPTY = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n`;

interface Call {
  argv: string[];
  input?: string;
}

/** A fake exec: records each call (with its stdin), answers with `answer`; `stdin` says whether it takes input. */
function fake(answer: (c: Call) => ExecResult | Promise<ExecResult> = () => OK, stdin = true) {
  const calls: Call[] = [];
  const f = async (argv: string[], input?: string): Promise<ExecResult> => {
    const c = { argv, ...(input !== undefined ? { input } : {}) };
    calls.push(c);
    return answer(c);
  };
  const exec: NetnsExec = Object.assign(f, { stdin });
  return { calls, exec };
}

const tcStep = (...words: string[]): Step => ({ argv: ["tc", ...words] });
const add = tcStep("qdisc", "add", "dev", "eth0", "root", "handle", "1c4a:", "htb", "default", "2");
const cls = tcStep("class", "replace", "dev", "eth0", "parent", "1c4a:", "classid", "1c4a:10", "htb", "rate", "10gbit");
const leaf = tcStep("qdisc", "replace", "dev", "eth0", "parent", "1c4a:10", "handle", "10:", "netem", "delay", "100ms");
const filter = tcStep("filter", "add", "dev", "eth0", "parent", "1c4a:", "prio", "16", "u32", "match", "u32", "0", "0");
const iptStep: Step = { argv: ipt.chainNew("CHAOS-x-O") };
const line = (s: Step): string => `${s.argv.slice(1).join(" ")}\n`;

describe("runSteps: consecutive tc steps in one `tc -batch -`", () => {
  it("a run of tc steps is one process, its lines in order; a lone iptables step between them runs alone", async () => {
    const f = fake();
    await runSteps(f.exec, [add, cls, iptStep, leaf, filter, iptStep]);
    expect(f.calls).toEqual([
      { argv: TC_BATCH, input: line(add) + line(cls) },
      { argv: iptStep.argv },
      { argv: TC_BATCH, input: line(leaf) + line(filter) },
      { argv: iptStep.argv },
    ]);
  });

  it("one tc step alone, and every step with an exec that takes no stdin, run as before: one process each", async () => {
    const one = fake();
    await runSteps(one.exec, [iptStep, add, iptStep]);
    expect(one.calls).toEqual([{ argv: iptStep.argv }, { argv: add.argv }, { argv: iptStep.argv }]);
    const plain = fake(() => OK, false);
    await runSteps(plain.exec, [add, cls, leaf]);
    expect(plain.calls).toEqual([{ argv: add.argv }, { argv: cls.argv }, { argv: leaf.argv }]);
  });

  it("the batch stops at line N: the lines before are done, step N runs again alone, a tolerated failure goes on with the rest batched", async () => {
    // The root exists already (a concurrent guard made it): tolerated, as without the batch.
    const exists = "Error: Exclusivity flag on, cannot modify.\n";
    const f = fake((c) => {
      if (c.input?.startsWith(line(add))) return { exitCode: 1, stdout: "", stderr: `${exists}Command failed -:1\n` };
      if (c.argv === add.argv) return { exitCode: 2, stdout: "", stderr: exists };
      return OK;
    });
    await runSteps(f.exec, [{ ...add, tolerate: /Exclusivity flag on/ }, cls, leaf, filter]);
    expect(f.calls).toEqual([
      { argv: TC_BATCH, input: line(add) + line(cls) + line(leaf) + line(filter) },
      { argv: add.argv },
      { argv: TC_BATCH, input: line(cls) + line(leaf) + line(filter) },
    ]);
  });

  it("a failure not tolerated is thrown as its own step's, typed by its own stderr; nothing after it runs", async () => {
    const unknown = "Error: Specified qdisc kind is unknown.\n";
    const f = fake((c) => {
      if (c.input !== undefined) return { exitCode: 1, stdout: "", stderr: `${unknown}Command failed -:3\n` };
      if (c.argv === leaf.argv) return { exitCode: 2, stdout: "", stderr: unknown };
      return OK;
    });
    const err = await runSteps(f.exec, [add, cls, leaf, filter, iptStep]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelUnsupported);
    expect((err as KernelUnsupported).missing).toBe("sch_netem");
    // add and cls were done by the batch (lines 1-2): not run again.
    expect(f.calls).toEqual([
      { argv: TC_BATCH, input: line(add) + line(cls) + line(leaf) + line(filter) },
      { argv: leaf.argv },
    ]);
  });

  it("a step that fails again alone with a stderr it does not tolerate: CommandFailed, as without the batch", async () => {
    const f = fake((c) =>
      c.input !== undefined
        ? { exitCode: 1, stdout: "", stderr: "RTNETLINK answers: Device or resource busy\nCommand failed -:2\n" }
        : c.argv === cls.argv
          ? { exitCode: 2, stdout: "", stderr: "RTNETLINK answers: Device or resource busy\n" }
          : OK,
    );
    await expect(runSteps(f.exec, [add, { ...cls, tolerate: GONE }, leaf])).rejects.toBeInstanceOf(CommandFailed);
    expect(f.calls.map((c) => c.argv)).toEqual([TC_BATCH, cls.argv]);
  });

  it("a batch whose answer names no line (killed, timed out): its first step alone, the rest batched again", async () => {
    let batches = 0;
    const f = fake((c) => (c.input !== undefined && batches++ === 0 ? { exitCode: 137, stdout: "", stderr: "" } : OK));
    await runSteps(f.exec, [add, cls, leaf]);
    expect(f.calls).toEqual([
      { argv: TC_BATCH, input: line(add) + line(cls) + line(leaf) },
      { argv: add.argv },
      { argv: TC_BATCH, input: line(cls) + line(leaf) },
    ]);
  });

  it("only words tc's batch reader takes unchanged go in a batch; tc's own options (-j) never", () => {
    const n = (steps: Step[], from = 0) => batchAt(steps, from)?.lines.length ?? 0;
    expect(batchAt([add, cls], 0)).toEqual({ kind: "tc", lines: [line(add).trim(), line(cls).trim()] });
    expect(n([add, cls, leaf, filter])).toBe(4);
    expect(n([add, cls, leaf, filter], 2)).toBe(2);
    expect(n([add, tcStep("qdisc", "add", "dev", "my dev"), cls])).toBe(1);
    expect(n([add, tcStep("qdisc", "add", "dev", 'a"b'), cls])).toBe(1);
    expect(n([add, tcStep("qdisc", "add", "dev", "a#b"), cls])).toBe(1);
    expect(n([{ argv: ["tc", "-j", "qdisc", "show"] }, add])).toBe(0);
    expect(n([add, iptStep])).toBe(1);
    expect(failedLine("Error: x\nWe have an error talking to the kernel\nCommand failed -:12\n")).toBe(12);
    expect(failedLine("Killed")).toBeUndefined();
  });
});

describe("runSteps: consecutive iptables steps in one `iptables-restore --noflush`", () => {
  const chain: Step = { argv: ipt.chainNew("CHAOS-x-O"), tolerate: /Chain already exists/ };
  const rule: Step = { argv: ipt.ruleAppend("CHAOS-x-O", ipt.lossRule(0.3)) };
  const jump: Step = { argv: ipt.jumpInsert("OUTPUT", "eth0", "CHAOS-x-O", "chaosctl:network:d/a:r1") };
  const restoreOf = (...st: Step[]): string =>
    `*filter\n${st.map((x) => `${x.argv.slice(3).join(" ")}\n`).join("")}COMMIT\n`;

  it("a chain, its rules and its jump are one transaction of the filter table", async () => {
    const f = fake();
    await runSteps(f.exec, [chain, rule, jump]);
    expect(f.calls).toEqual([{ argv: IPT_RESTORE, input: restoreOf(chain, rule, jump) }]);
    expect(f.calls[0]?.input).toBe(
      "*filter\n-N CHAOS-x-O\n-A CHAOS-x-O -m statistic --mode random --probability 0.3 -j DROP\n" +
        "-I OUTPUT 1 -o eth0 -m comment --comment chaosctl:network:d/a:r1 -j CHAOS-x-O\nCOMMIT\n",
    );
  });

  it("a failed restore changed nothing: its first step runs alone (tolerated here), the rest is batched again", async () => {
    const f = fake((c) => {
      if (c.input?.includes("-N"))
        return { exitCode: 1, stdout: "", stderr: "iptables-restore: line 2 failed: Chain already exists.\n" };
      if (c.argv === chain.argv) return { exitCode: 1, stdout: "", stderr: "iptables: Chain already exists.\n" };
      return OK;
    });
    await runSteps(f.exec, [chain, rule, jump]);
    expect(f.calls).toEqual([
      { argv: IPT_RESTORE, input: restoreOf(chain, rule, jump) },
      { argv: chain.argv },
      { argv: IPT_RESTORE, input: restoreOf(rule, jump) },
    ]);
  });

  it("a first step that fails alone too, not tolerated: thrown typed by its own stderr; nothing after it runs", async () => {
    const missing = "iptables v1.8.9 (nf_tables): Couldn't load match `statistic':No such file or directory\n";
    const f = fake((c) =>
      c.input !== undefined || c.argv === rule.argv ? { exitCode: 2, stdout: "", stderr: missing } : OK,
    );
    const err = await runSteps(f.exec, [rule, jump]).catch((e: unknown) => e);
    expect((err as KernelUnsupported).missing).toBe("xt_statistic");
    expect(f.calls).toEqual([{ argv: IPT_RESTORE, input: restoreOf(rule, jump) }, { argv: rule.argv }]);
  });

  it("iptables-save and anything but -w 5 with -N/-F/-X/-A/-I/-D, or a word restore would split, run on their own", () => {
    expect(batchAt([chain, rule, { argv: ipt.save() }, jump], 0)?.lines.length).toBe(2);
    expect(batchAt([chain, { argv: ["iptables", "-t", "nat", "-A", "X"] }], 0)?.lines.length).toBe(1);
    expect(
      batchAt([chain, { argv: ipt.ruleAppend("CHAOS-x-O", ["-m", "comment", "--comment", "a b"]) }], 0)?.lines.length,
    ).toBe(1);
    expect(batchAt([chain, { argv: ipt.ruleAppend("CHAOS-x-O", ["!", "-d", "10.0.0.1"]) }], 0)?.lines.length).toBe(1);
  });
});

describe("observe: independent reads side by side", () => {
  it("qdiscs beside iptables-save, then each interface's classes beside its filters", async () => {
    let running = 0;
    let most = 0;
    const f = fake(async (c) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (c.argv[0] === "iptables-save") return { ...OK, stdout: IPT_EMPTY };
      if (c.argv.includes("qdisc")) return { ...OK, stdout: QDISC_OURS };
      if (c.argv.includes("filter")) return { ...OK, stdout: `[{"protocol":"all","pref":77,"kind":"u32"}]` };
      return { ...OK, stdout: "class htb 1c4a:2 root prio 0 rate 10Gbit ceil 10Gbit burst 0b cburst 0b \n" };
    });
    const obs = await observe(f.exec);
    expect(obs.filterPrefs).toEqual({ eth0: [77] });
    expect(obs.classes.eth0?.map((c) => c.minor)).toEqual([2]);
    expect(f.calls.map((c) => c.argv.filter((a) => a !== "-j").slice(0, 2))).toEqual([
      ["tc", "qdisc"],
      ["iptables-save", "-t"],
      ["tc", "class"],
      ["tc", "filter"],
    ]);
    expect(most).toBe(2);
  });

  it("when reads fail, the error is the first read's (tc before iptables), as when they ran in turn", async () => {
    const f = fake((c) => ({ exitCode: 1, stdout: "", stderr: `${c.argv[0]} broke` }));
    await expect(observe(f.exec)).rejects.toThrow(/tc.*broke|broke.*tc/);
    const g = fake((c) =>
      c.argv[0] === "tc" ? { ...OK, stdout: QDISC_DEFAULT } : { exitCode: 1, stdout: "", stderr: "no" },
    );
    await expect(observe(g.exec)).rejects.toThrow(/iptables-save/);
  });
});

describe("applyInjection: what it reads and how often", () => {
  const key = { schedule: "default/loss", run: "r1", fault: "network" as const };
  const n = ownedNames(key);
  const loss = networkInjection(key, { loss: { probability: 0.3 } });
  const jump = ipt.jumpArgs("OUTPUT", "eth0", n.chainOut, n.comment).join(" ");
  const IPT_LOSS = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:${n.chainOut} - [0:0]\n-A OUTPUT ${jump}\n-A ${n.chainOut} ${ipt.lossRule(0.3).join(" ")}\nCOMMIT\n`;

  /** A clean namespace whose iptables-save shows the loss once its jump was inserted (batched or alone). */
  const lossNamespace = (stdin = true): ReturnType<typeof fake> => {
    let applied = false;
    return fake((c) => {
      if (c.argv[0] === "iptables-save") return { ...OK, stdout: applied ? IPT_LOSS : IPT_EMPTY };
      if (c.input?.includes("-I OUTPUT") || c.argv.includes("-I")) applied = true;
      return OK;
    }, stdin);
  };

  it("a loss (no tc part) reads only iptables-save: before its steps (one restore) and once after to verify", async () => {
    const f = lossNamespace();
    await applyInjection(f.exec, loss);
    expect(f.calls.map((c) => c.argv[0])).toEqual(["iptables-save", "iptables-restore", "iptables-save"]);
    // One by one without stdin, as before.
    const g = lossNamespace(false);
    await applyInjection(g.exec, loss);
    expect(g.calls.map((c) => c.argv[0])).toEqual([
      "iptables-save",
      "iptables",
      "iptables",
      "iptables",
      "iptables-save",
    ]);
  });

  it("ensure when everything is in place (the guard adopting what its prelude applied): one read, nothing written, nothing re-read", async () => {
    const f = fake((c) => (c.argv[0] === "iptables-save" ? { ...OK, stdout: IPT_LOSS } : OK));
    await applyInjection(f.exec, loss, "ensure");
    expect(f.calls.map((c) => c.argv)).toEqual([ipt.save()]);
  });

  const bw = networkInjection(key, { bandwidth: { rate: "1mbit" }, loss: { probability: 0.3 } });
  const netem = netemInjection({ ...key, fault: "netem" }, { delay: { time: "100ms" } });

  it("the clean plan is the plan an observe of a clean namespace gives, but its root add and chain creations tolerate nothing", () => {
    for (const inj of [loss, bw, netem]) {
      const observed = planApply(
        inj,
        {
          qdiscs: parseQdiscs(QDISC_DEFAULT),
          classes: {},
          classMinors: {},
          filterPrefs: {},
          ipt: parseIptablesSave(IPT_EMPTY),
        },
        "write",
      );
      expect(planClean(inj).map((s) => s.argv)).toEqual(observed.map((s) => s.argv));
      // The steps that tolerate "already so" on a clean namespace are exactly the root's and the chains' creation.
      expect(observed.filter((s) => s.tolerate).map((s) => s.argv.slice(0, 4).join(" "))).toEqual(
        inj === netem
          ? ["tc qdisc add dev"]
          : inj === bw
            ? ["tc qdisc add dev", "iptables -w 5 -N"]
            : ["iptables -w 5 -N"],
      );
      expect(planClean(inj).every((s) => s.tolerate === undefined)).toBe(true);
    }
  });

  it("a guard's start on a clean namespace: the steps first, no read before the fault lands, then one read to verify", async () => {
    const f = lossNamespace();
    await applyToClean(f.exec, loss);
    expect(f.calls.map((c) => c.argv[0])).toEqual(["iptables-restore", "iptables-save"]);
  });

  it("a namespace that was not clean (the chain exists): nothing assumed, the apply observes first as always", async () => {
    const f = fake((c) => {
      if (c.argv[0] === "iptables-save") return { ...OK, stdout: IPT_LOSS };
      if (c.input?.includes("-N") || c.argv.includes("-N"))
        return { exitCode: 1, stdout: "", stderr: "iptables: Chain already exists.\n" };
      return OK;
    });
    await applyToClean(f.exec, loss);
    // The restore (nothing changed), -N alone (fails: not tolerated here), then applyInjection:
    // observe, rewrite (flush, the rule, the jump is there), verify.
    expect(f.calls.map((c) => c.argv.slice(0, 4).join(" "))).toEqual([
      "iptables-restore -w 5 --noflush",
      ipt.chainNew(n.chainOut).slice(0, 4).join(" "),
      "iptables-save -t filter",
      "iptables-restore -w 5 --noflush",
      "iptables-save -t filter",
    ]);
    expect(f.calls[3]?.input).toBe(
      `*filter\n-F ${n.chainOut}\n-A ${n.chainOut} ${ipt.lossRule(0.3).join(" ")}\nCOMMIT\n`,
    );
  });

  it("the kernel refuses a part (no sch_netem): the same error as without the clean attempt, and nothing left", async () => {
    // A tiny namespace: the root and classes appear as the batch's lines run; netem is refused.
    let root = false;
    const classes = new Set<string>();
    const unknown = "Error: Specified qdisc kind is unknown.\n";
    const tcLine = (words: string[]): ExecResult => {
      if (words.includes("netem")) return { exitCode: 2, stdout: "", stderr: unknown };
      if (words[0] === "qdisc" && words[1] === "add" && words.includes("root")) {
        if (root) return { exitCode: 2, stdout: "", stderr: "Error: Exclusivity flag on, cannot modify.\n" };
        root = true;
      }
      if (words[0] === "qdisc" && words[1] === "del" && words.includes("root")) {
        root = false;
        classes.clear(); // the tree goes with its root
      }
      const id = words[words.indexOf("classid") + 1];
      if (words[0] === "class" && words[1] === "replace" && id) classes.add(id);
      if (words[0] === "class" && words[1] === "del" && id) classes.delete(id);
      return OK;
    };
    const f = fake((c) => {
      if (c.input !== undefined) {
        const lines = c.input.trim().split("\n");
        for (const [i, l] of lines.entries()) {
          const r = tcLine(l.split(" "));
          if (r.exitCode !== 0) return { exitCode: 1, stdout: "", stderr: `${r.stderr}Command failed -:${i + 1}\n` };
        }
        return OK;
      }
      if (c.argv.includes("show") && c.argv.includes("qdisc"))
        return { ...OK, stdout: root ? QDISC_OURS : QDISC_DEFAULT };
      if (c.argv.includes("show") && c.argv.includes("class"))
        return {
          ...OK,
          stdout: [...classes]
            .map((id) => `class htb ${id} root prio 0 rate 10Gbit ceil 10Gbit burst 0b cburst 0b \n`)
            .join(""),
        };
      if (c.argv.includes("show")) return { ...OK, stdout: "[]" };
      if (c.argv[0] === "iptables-save") return { ...OK, stdout: IPT_EMPTY };
      return tcLine(c.argv.slice(1));
    });
    const err = await applyToClean(f.exec, netem).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelUnsupported);
    expect(root).toBe(false);
    expect(classes.size).toBe(0);
  });
});
