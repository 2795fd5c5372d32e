// run(argv, io) with captured output, for the CLI verb tests.
import { run } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/output.js";

async function* noInput(): AsyncIterable<Uint8Array> {}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function chaosctl(
  argv: string[],
  opts: { stdin?: string; signal?: AbortSignal; onStdout?: (all: string) => void } = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const stdin =
    opts.stdin !== undefined
      ? (async function* () {
          yield opts.stdin as string;
        })()
      : noInput();
  const io: CliIO = {
    stdout: (s) => {
      stdout += s;
      opts.onStdout?.(stdout);
    },
    stderr: (s) => void (stderr += s),
    stdin,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

export function schedule(name: string, spec = "selector: {services: [web]}\nfault: {kill: {}}", meta = ""): string {
  return `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\n${meta ? meta.replace(/^/gm, "  ") + "\n" : ""}spec:\n${spec.replace(/^/gm, "  ")}\n`;
}

/** Table text → rows of cells (split on runs of 3+ spaces, as the table pads them). */
export function tableRows(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/ {3,}/));
}
