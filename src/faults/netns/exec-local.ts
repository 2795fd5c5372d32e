// NetnsExec for a process already inside the target's namespace (the guard container):
// execFile with an argv array, never a shell.
import { execFile } from "node:child_process";
import type { ExecResult } from "../../engine/engine.js";
import type { NetnsExec } from "./converge.js";

// `input`, when given, is written to the command's stdin (`tc -batch -`).
export function localExec(timeoutMs = 10_000): NetnsExec {
  const exec = (argv: string[], input?: string): Promise<ExecResult> =>
    new Promise((resolve) => {
      const [file, ...args] = argv;
      if (!file) return resolve({ exitCode: 127, stdout: "", stderr: "empty argv" });
      const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 127) : 0;
        resolve({
          exitCode: code,
          stdout: String(stdout),
          stderr: String(stderr) || (err && code === 127 ? String(err.message) : ""),
        });
      });
      if (input !== undefined) {
        child.stdin?.on("error", () => undefined); // a command that exits without reading: its exit says why
        child.stdin?.end(input);
      }
    });
  return Object.assign(exec, { stdin: true as const });
}
