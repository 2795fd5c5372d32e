// execute: the thin, effectful side of a pass. One driver call per target (style.md §1).
import type { Engine } from "../engine/engine.js";
import type { DriverContext, FaultDriver, FaultKind, InjectionHandle, Owner, Target } from "../faults/driver.js";
import type { Logger } from "../util/log.js";
import type { Revert, StartRun } from "./plan.js";
import type { TargetResult } from "./status.js";

export interface ExecuteDeps {
  engine: Engine;
  drivers: ReadonlyMap<FaultKind, FaultDriver>;
  image: string;
  logger: Logger;
  /** The node whose engine `engine` is; other nodes need an agent (issue 5). */
  selfNodeId: string;
  /** Written on everything injected (chaosctl.io/instance). */
  instance?: string;
  /** Upper bound of targets handled at once in one run. */
  parallelism?: number;
}

export interface StartOutcome {
  results: TargetResult[];
  /** Handles of durative injections now in place. */
  handles: InjectionHandle[];
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const errReason = (e: unknown): string => (e && typeof e === "object" && "code" in e && typeof e.code === "string" ? e.code : "Error");

export async function executeStart(a: StartRun, deps: ExecuteDeps, now: Date): Promise<StartOutcome> {
  const driver = deps.drivers.get(a.fault);
  const owner: Owner = {
    schedule: a.key,
    generation: a.generation,
    run: a.run,
    ...(a.durationMs !== undefined ? { expires: new Date(now.getTime() + a.durationMs) } : {}),
    ...(deps.instance && deps.instance !== "default" ? { instance: deps.instance } : {}),
  };
  const ctx: DriverContext = { engine: deps.engine, image: deps.image, now };
  const handles: InjectionHandle[] = [];
  const one = async (target: Target): Promise<TargetResult> => {
    const log = { event: "apply", schedule: a.key, run: a.run, fault: a.fault, task: target.taskId, container: target.containerId, node: target.nodeHostname ?? target.nodeId };
    if (!driver) return fail(target, "FaultUnsupported", `no driver for fault ${a.fault}`, log);
    if (target.nodeId !== deps.selfNodeId && target.kind === "container") {
      return fail(target, "AgentUnavailable", `task runs on node ${target.nodeHostname ?? target.nodeId}, which this controller cannot reach without an agent`, log);
    }
    try {
      const r = await driver.apply(ctx, target, a.faultSpec, owner);
      if (r.phase === "Failed") return fail(target, r.reason, r.message, log);
      if (r.phase === "Injected") handles.push(r.handle);
      deps.logger.info({ ...log, result: r.phase }, `${a.fault} applied`);
      return { target, ok: true };
    } catch (e) {
      return fail(target, errReason(e), errText(e), log);
    }
  };
  const fail = (target: Target, reason: string, message: string, log: object): TargetResult => {
    deps.logger.warn({ ...log, result: "Failed", reason, message }, `${a.fault} failed`);
    return { target, ok: false, reason, message };
  };
  const results = await mapLimited(a.targets, deps.parallelism ?? 4, one);
  return { results, handles };
}

export async function executeRevert(a: Revert, deps: ExecuteDeps, now: Date): Promise<{ ok: boolean; message?: string }> {
  const h = a.handle;
  const log = { event: "revert", schedule: h.owner.schedule, run: h.owner.run, fault: h.fault, task: h.target.taskId, container: h.target.containerId, node: h.target.nodeHostname ?? h.target.nodeId, reason: a.reason };
  const driver = deps.drivers.get(h.fault);
  if (!driver) {
    deps.logger.error({ ...log, result: "Failed" }, "no driver to revert this fault");
    return { ok: false, message: `no driver for ${h.fault}` };
  }
  try {
    const r = await driver.recover({ engine: deps.engine, image: deps.image, now }, h);
    if (r.phase === "Failed") {
      deps.logger.error({ ...log, result: "Failed", message: r.message }, "revert failed");
      return { ok: false, message: r.message };
    }
    deps.logger.info({ ...log, result: r.phase }, `${h.fault} reverted`);
    return { ok: true };
  } catch (e) {
    deps.logger.error({ ...log, result: "Failed", message: errText(e) }, "revert failed");
    return { ok: false, message: errText(e) };
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
