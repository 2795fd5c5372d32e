// CLI cold start: the compiled bin spawned as a fresh process, spawn → exit.
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "../src/cli/main.js");

function once(args: string[]): Promise<{ ms: number; code: number | null }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [BIN, ...args], { stdio: "ignore" });
    c.on("error", rej);
    c.on("exit", (code) => res({ ms: performance.now() - t0, code }));
  });
}

export interface ColdStart {
  args: string[];
  ms: number[];
  exitCodes: number[];
}

export async function benchCli(args: string[], runs = 10): Promise<ColdStart> {
  await once(args); // the first spawn warms the page cache, as on any machine that ran it before
  const out: ColdStart = { args, ms: [], exitCodes: [] };
  for (let i = 0; i < runs; i++) {
    const r = await once(args);
    out.ms.push(r.ms);
    out.exitCodes.push(r.code ?? -1);
  }
  return out;
}
