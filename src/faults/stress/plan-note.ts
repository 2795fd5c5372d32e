// What the plan (and so --dry-run) says about a stress before it runs. Pure.
import type { ServiceInfo } from "../../engine/engine.js";
import { parseBytes, parsePercent, type StressSpec } from "./spec.js";

const MiB = 1024 ** 2;
const mib = (n: number): string => `${Math.round(n / MiB)}MiB`;

export type StressPlanCheck = { note?: string } | { error: string };

/**
 * A memory stress above a service's --limit-memory is allowed (it is how an OOM is tested) but
 * said aloud; a percent of a limit the service does not have cannot run.
 */
export function checkStressPlan(spec: StressSpec, services: readonly ServiceInfo[]): StressPlanCheck {
  const size = spec.memory?.size;
  if (size === undefined) return {};
  const pct = parsePercent(size);
  const notes: string[] = [];
  for (const svc of services) {
    const limit = svc.memoryLimitBytes;
    if (pct !== undefined && !limit)
      return { error: `memory size ${size} is a percent of the memory limit, but service ${svc.name} has none` };
    const bytes = pct !== undefined ? ((limit ?? 0) * pct) / 100 : (parseBytes(size) ?? 0);
    if (limit && bytes >= limit)
      notes.push(
        `memory stress ${mib(bytes)} reaches the memory limit of service ${svc.name} (${mib(limit)}): the kernel will OOM-kill the target (chaosctl makes its main process the OOM killer's first choice for the stress) and Swarm will replace the task`,
      );
  }
  return notes.length ? { note: notes.join("; ") } : {};
}
