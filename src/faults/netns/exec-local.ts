// NetnsExec for a process already inside the target's namespace (the guard container):
// execFile with an argv array, never a shell.
import { execFile } from "node:child_process";
import type { NetnsExec } from "./converge.js";

export function localExec(timeoutMs = 10_000): NetnsExec {
  return (argv) =>
    new Promise((resolve) => {
      const [file, ...args] = argv;
      if (!file) return resolve({ exitCode: 127, stdout: "", stderr: "empty argv" });
      execFile(file, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 127) : 0;
        resolve({
          exitCode: code,
          stdout: String(stdout),
          stderr: String(stderr) || (err && code === 127 ? String(err.message) : ""),
        });
      });
    });
}
