// Which processes of a target a process fault signals. Pure: the verb reads /proc, this decides.
export interface ProcessEntry {
  pid: number;
  /** /proc/PID/comm: the name ps shows (the kernel keeps its first 15 bytes). */
  comm: string;
  /** /proc/PID/cmdline, arguments joined by spaces. */
  cmdline: string;
}

export interface ProcessMatcher {
  name?: string;
  pattern?: string;
}

/** The kernel truncates comm to 15 bytes; a longer name matches its truncation. */
const COMM_MAX = 15;

/**
 * Matching processes, never PID 1 (the container lives as long as it does) and never `self`
 * (the helper that signals, which shares the target's PID namespace).
 */
export function matchProcesses(procs: readonly ProcessEntry[], m: ProcessMatcher, self: number): ProcessEntry[] {
  const re = m.pattern !== undefined ? new RegExp(m.pattern) : undefined;
  const name = m.name?.slice(0, COMM_MAX);
  return procs.filter((p) => {
    if (p.pid === 1 || p.pid === self) return false;
    if (name !== undefined) return p.comm === name;
    return re !== undefined && re.test(p.cmdline);
  });
}
