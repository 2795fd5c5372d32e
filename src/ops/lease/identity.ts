// Who holds a lease: host, pid namespace and pid, plus a random suffix so a restarted process
// that reuses a pid is a different holder. The host part lets a candidate on the same host (and
// in the same pid namespace) see that a holder's process is gone and take over without waiting.
import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

function pidNamespace(): string {
  try {
    return readlinkSync("/proc/self/ns/pid").replace(/\D/g, "");
  } catch {
    return "0";
  }
}

export function holderIdentity(): string {
  return `${hostname()}/${pidNamespace()}/${process.pid}/${randomBytes(3).toString("hex")}`;
}

export interface ParsedHolder {
  host: string;
  pidns: string;
  pid: number;
}

export function parseHolder(id: string): ParsedHolder | undefined {
  const m = /^(.+)\/(\d+)\/(\d+)\/[0-9a-f]+$/.exec(id);
  return m ? { host: m[1] as string, pidns: m[2] as string, pid: Number(m[3]) } : undefined;
}

/** True only when `id` is a process of this host and pid namespace that no longer exists. */
export function holderProcessGone(id: string, alive: (pid: number) => boolean = pidAlive): boolean {
  const h = parseHolder(id);
  if (!h || h.host !== hostname() || h.pidns !== pidNamespace() || h.pid === process.pid) return false;
  return !alive(h.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, not ours
  }
  // A zombie (killed, not yet reaped by its parent) answers kill(0) but holds nothing.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
