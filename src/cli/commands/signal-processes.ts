// chaosctl signal-processes (hidden): runs inside a helper that shares a target's PID namespace
// (faults/process/driver.ts). Signals the matching processes, never PID 1 nor itself, and prints
// one JSON line naming them. Exit 0: at least one signalled; 3: none matched.
import { readdir, readFile } from "node:fs/promises";
import { constants } from "node:os";
import type { Command } from "commander";
import { NO_MATCH_EXIT } from "../../faults/process/driver.js";
import { matchProcesses, type ProcessEntry } from "../../faults/process/match.js";
import { UsageError } from "../../util/errors.js";
import type { CliContext } from "../output.js";

interface Opts {
  signal: string;
  name?: string;
  pattern?: string;
}

async function listProcesses(): Promise<ProcessEntry[]> {
  const out: ProcessEntry[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = (await readFile(`/proc/${d}/comm`, "utf8")).trim();
      const cmdline = (await readFile(`/proc/${d}/cmdline`, "utf8")).split("\0").filter(Boolean).join(" ");
      out.push({ pid: Number(d), comm, cmdline });
    } catch {
      // it ended while we looked
    }
  }
  return out;
}

export function signalNumber(signal: string): number {
  const n = /^\d{1,2}$/.test(signal) ? Number(signal) : constants.signals[signal as keyof typeof constants.signals];
  if (n === undefined) throw new UsageError(`unknown signal ${signal}`);
  return n;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("signal-processes", { hidden: true })
    .description("signal processes of this PID namespace by name or pattern (runs inside a process-fault helper)")
    .option("--signal <signal>", "signal name or number", "SIGKILL")
    .option("--name <name>", "process name, exact")
    .option("--pattern <regexp>", "regular expression on the command line")
    .action(async (o: Opts) => {
      if ((o.name === undefined) === (o.pattern === undefined)) throw new UsageError("give --name or --pattern");
      const sig = signalNumber(o.signal);
      const hits = matchProcesses(await listProcesses(), o, process.pid);
      const signalled: ProcessEntry[] = [];
      for (const p of hits) {
        try {
          process.kill(p.pid, sig);
          signalled.push(p);
        } catch {
          // gone meanwhile
        }
      }
      process.stdout.write(`${JSON.stringify({ signal: o.signal, signalled })}\n`);
      if (signalled.length === 0) {
        process.stderr.write(
          `no process matched ${o.name !== undefined ? `name ${o.name}` : `pattern ${o.pattern}`}\n`,
        );
        ctx.exitCode = NO_MATCH_EXIT;
      }
    });
}
