// reboot: the controller runs a hook from its OWN configuration (never from a manifest), as the
// practice reboots a cloud instance with its CLI. argv only, no shell; the node is described in
// the environment; bounded in time; exit code and output are kept for the run's record.
import { execFile } from "node:child_process";

export interface RebootHook {
  argv: string[];
  /** Hard bound: the hook is killed (SIGKILL) after this long. */
  timeoutMs: number;
}

export interface RebootNode {
  id: string;
  hostname: string;
  addr: string;
}

export interface HookResult {
  exitCode: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

export const DEFAULT_REBOOT_HOOK_TIMEOUT_MS = 300_000;
const KEEP = 4096; // output kept per stream (its end)

export class InvalidRebootHook extends Error {
  override readonly name = "InvalidRebootHook";
}

/** A hook file holds a JSON argv: ["/usr/local/bin/reboot-node", "--zone", "a"]. */
export function parseHookArgv(text: string, where: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InvalidRebootHook(`${where}: not JSON (expected an argv array such as ["/usr/local/bin/reboot-node"])`);
  }
  return checkArgv(v, where);
}

export function checkArgv(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === "string") || (v[0] as string).length === 0) {
    throw new InvalidRebootHook(`${where}: expected a non-empty JSON array of strings, the first one the program`);
  }
  return v;
}

export function hookEnv(node: RebootNode, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, CHAOSCTL_NODE_ID: node.id, CHAOSCTL_NODE_HOSTNAME: node.hostname, CHAOSCTL_NODE_ADDR: node.addr };
}

export function runRebootHook(hook: RebootHook, node: RebootNode): Promise<HookResult> {
  const started = Date.now();
  const [file, ...args] = hook.argv;
  return new Promise((resolve) => {
    execFile(
      file ?? "",
      args,
      { env: hookEnv(node), timeout: hook.timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        const timedOut = !!e?.killed && Date.now() - started >= hook.timeoutMs - 50;
        const exitCode = !e ? 0 : typeof e.code === "number" ? e.code : timedOut ? 137 : 127;
        const errText = e && typeof e.code === "string" ? `${e.message}\n` : "";
        resolve({
          exitCode,
          timedOut,
          stdout: tail(String(stdout)),
          stderr: tail(errText + String(stderr)),
          ms: Date.now() - started,
        });
      },
    );
  });
}

const tail = (s: string): string => (s.length > KEEP ? s.slice(-KEEP) : s);

/** One line for the run's record. */
export function describeHook(r: HookResult): string {
  const out = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ");
  const how = r.timedOut ? "timed out (killed)" : `exited ${r.exitCode}`;
  return `reboot hook ${how} after ${(r.ms / 1000).toFixed(1)} s${out ? `: ${out}` : ""}`;
}
