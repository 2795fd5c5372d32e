// Guards are the cluster's record of durative injections: parse them back into handles, so a
// restarted controller (or `chaosctl audit`) sees what is injected, by whom, until when. Pure.
import type { ContainerInfo } from "../../engine/engine.js";
import type { FaultKind, InjectionHandle } from "../driver.js";
import {
  L_EXPIRES,
  L_FAULT,
  L_GENERATION,
  L_GUARD_NODE,
  L_INSTANCE,
  L_NODE,
  L_ROLE,
  L_RUN,
  L_SCHEDULE,
  L_SERVICE,
  L_SERVICE_ID,
  L_SPEC,
  L_TARGET,
  L_TASK,
  L_COMMIT,
  L_SOURCE_PATH,
} from "../../api/labels.js";
import { GUARD_ROLE } from "./spec.js";

const FAULTS: readonly FaultKind[] = [
  "kill",
  "stop",
  "restart",
  "pause",
  "netem",
  "network",
  "node",
  "stress",
  "process",
];

/**
 * Handles for every guard container in `containers` (any state). With `now`, `expired` says
 * whether the injection's expiry has passed.
 */
export function observeGuards(containers: ContainerInfo[], now?: Date): InjectionHandle[] {
  const out: InjectionHandle[] = [];
  for (const c of containers) {
    const h = guardHandle(c, now);
    if (h) out.push(h);
  }
  return out;
}

export function guardHandle(c: ContainerInfo, now?: Date): InjectionHandle | undefined {
  const l = c.labels;
  const fault = FAULTS.find((f) => f === l[L_FAULT]);
  const schedule = l[L_SCHEDULE];
  const run = l[L_RUN];
  if (l[L_ROLE] !== GUARD_ROLE || !fault || !schedule || !run) return undefined;
  const expires = l[L_EXPIRES] ? new Date(l[L_EXPIRES]) : undefined;
  const h: InjectionHandle = {
    fault,
    owner: {
      schedule,
      generation: Number(l[L_GENERATION] ?? 0),
      run,
      ...(expires && !Number.isNaN(expires.getTime()) ? { expires } : {}),
      ...(l[L_INSTANCE] ? { instance: l[L_INSTANCE] } : {}),
      ...(l[L_COMMIT] ? { source: { commit: l[L_COMMIT], path: l[L_SOURCE_PATH] ?? "" } } : {}),
    },
    target: {
      kind: fault === "node" ? "node" : "container",
      nodeId: l[L_NODE] ?? c.nodeId ?? "",
      ...(l[L_TARGET] ? { containerId: l[L_TARGET] } : {}),
      ...(l[L_SERVICE] ? { serviceName: l[L_SERVICE] } : {}),
      ...(l[L_SERVICE_ID] ? { serviceId: l[L_SERVICE_ID] } : {}),
      ...(l[L_TASK] ? { taskId: l[L_TASK] } : {}),
    },
    guardId: c.id,
    ...(l[L_GUARD_NODE] ? { guardNodeId: l[L_GUARD_NODE] } : {}),
    guardState: c.state,
    since: new Date(c.created * 1000),
  };
  if (c.exitCode !== undefined) h.guardExitCode = c.exitCode;
  const spec = parseSpec(l[L_SPEC]);
  if (spec !== undefined) h.spec = spec;
  if (now && h.owner.expires) h.expired = now.getTime() >= h.owner.expires.getTime();
  return h;
}

function parseSpec(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What the controller should do about one guard (pure):
 * - enforcing: the guard is (or will be again) in charge; leave it.
 * - completed: it reverted and exited 0; recover() only removes it.
 * - failed:    it exited abnormally (crash after its restarts, killed, engine restart) before
 *              doing its job; recover() reverts directly and removes it.
 * - overdue:   still running `graceMs` after expiry; recover() stops it (it reverts) or reverts directly.
 */
export type GuardCondition = "enforcing" | "completed" | "failed" | "overdue";

export function guardCondition(h: InjectionHandle, now: Date, graceMs: number): GuardCondition {
  const state = h.guardState ?? "running";
  const live = state === "running" || state === "created" || state === "restarting" || state === "paused";
  if (live) {
    const exp = h.owner.expires?.getTime();
    return exp !== undefined && now.getTime() >= exp + graceMs ? "overdue" : "enforcing";
  }
  return h.guardExitCode === 0 ? "completed" : "failed";
}
