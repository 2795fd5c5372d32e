// CLI cold start: the compiled bin spawned as a fresh process, spawn → exit (wall time), and the
// CPU time the process used (user + sys, from /usr/bin/time when present: on a loaded, shared
// machine CPU time moves far less than wall time).
//   node dist/bench/cli.js [RUNS] [BIN ...]   # p50 of --version, validate and get on 100 manifests, per bin
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const BIN = resolve(import.meta.dirname, "../src/cli/main.js");
const TIME = "/usr/bin/time";

function once(bin: string, args: string[]): Promise<{ ms: number; cpuMs?: number; code: number | null }> {
  return new Promise((res, rej) => {
    const timed = existsSync(TIME);
    const argv = [bin, ...args];
    const t0 = performance.now();
    const c = timed
      ? spawn(TIME, ["-f", "cpu %U %S", process.execPath, ...argv], { stdio: ["ignore", "ignore", "pipe"] })
      : spawn(process.execPath, argv, { stdio: "ignore" });
    let err = "";
    c.stderr?.on("data", (d: Buffer) => void (err += d.toString()));
    c.on("error", rej);
    c.on("exit", (code) => {
      const ms = performance.now() - t0;
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(err);
      res({ ms, code, ...(m ? { cpuMs: (Number(m[1]) + Number(m[2])) * 1000 } : {}) });
    });
  });
}

export interface ColdStart {
  args: string[];
  ms: number[];
  /** CPU time (user + sys) per run, when /usr/bin/time is there (10 ms resolution). */
  cpuMs?: number[];
  exitCodes: number[];
}

export async function benchCli(args: string[], runs = 10, bin = BIN): Promise<ColdStart> {
  await once(bin, args); // the first spawn warms the page cache, as on any machine that ran it before
  const out: ColdStart = { args, ms: [], exitCodes: [] };
  for (let i = 0; i < runs; i++) {
    const r = await once(bin, args);
    out.ms.push(r.ms);
    if (r.cpuMs !== undefined) (out.cpuMs ??= []).push(r.cpuMs);
    out.exitCodes.push(r.code ?? -1);
  }
  return out;
}

/** A folder of `n` valid ChaosSchedule files (for `chaosctl get --dir`); remove() deletes it. */
export async function manifestFolder(n = 100): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "chaosctl-bench-cli-"));
  for (let i = 0; i < n; i++) {
    const name = `s-${String(i).padStart(4, "0")}`;
    const fault = i % 2 ? "fault: {kill: {signal: SIGKILL}}" : "duration: 30s\n  fault: {pause: {}}";
    await writeFile(
      join(dir, `${name}.yaml`),
      `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n  schedule: "@every ${10 + i}m"\n  selector: {services: [svc-${i % 7}], mode: one}\n  ${fault}\n`,
    );
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const p50 = (xs: readonly number[] | undefined): string => {
  if (!xs?.length) return "-";
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)] as number).toFixed(0);
};

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20) || 20;
  const bins = process.argv.slice(3);
  const folder = await manifestFolder(100);
  try {
    const cases = [["--version"], ["validate", "-f", folder.dir], ["get", "--dir", folder.dir]];
    console.log(`| bin | command | wall p50 ms | cpu p50 ms | exit |\n|---|---|---|---|---|`);
    // Interleaved per case, so both bins see the same machine load.
    for (const args of cases) {
      for (const bin of bins.length ? bins : [BIN]) {
        const r = await benchCli(args, runs, bin);
        console.log(
          `| ${bin} | ${args.join(" ").replace(folder.dir, "<100 manifests>")} | ${p50(r.ms)} | ${p50(r.cpuMs)} | ${[...new Set(r.exitCodes)].join(",")} |`,
        );
      }
    }
  } finally {
    await folder.remove();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
