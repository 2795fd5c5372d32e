// execute: the thin, effectful side of a pass. One driver call per target: a driver knows one
// target and how to undo it; everything else (selection, timing, status) is decided before.
import type { Engine } from "../engine/engine.js";
import type { DriverContext, FaultDriver, FaultKind, InjectionHandle, Owner, Target } from "../faults/driver.js";
import type { Logger } from "../util/log.js";
import type { ExtendRun, Reapply, Revert, StartRun } from "./plan.js";
import type { TargetResult } from "./status.js";
import type { NodeEngines, NodeRoute } from "../nodes/directory.js";

export interface ExecuteDeps {
  engine: Engine;
  drivers: ReadonlyMap<FaultKind, FaultDriver>;
  image: string;
  logger: Logger;
  /** The node whose engine `engine` is; other nodes need an agent (docs/agent.md). */
  selfNodeId: string;
  /** Engines of the other nodes (their agents); without it, only the own node is reachable. */
  nodes?: NodeEngines;
  /** Written on everything injected (chaosctl.io/instance). */
  instance?: string;
  /** Upper bound of targets handled at once in one run. */
  parallelism?: number;
  /** See DriverContext.guardApplyTimeoutMs. */
  guardApplyTimeoutMs?: number;
}

export interface StartOutcome {
  results: TargetResult[];
  /** Handles of durative injections now in place. */
  handles: InjectionHandle[];
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const errReason = (e: unknown): string =>
  e && typeof e === "object" && "code" in e && typeof e.code === "string" ? e.code : "Error";

/** `source`: the manifest's commit and path (git store), carried onto what is injected. */
export async function executeStart(
  a: StartRun,
  deps: ExecuteDeps,
  now: Date,
  source?: Owner["source"],
): Promise<StartOutcome> {
  const expires = a.durationMs !== undefined ? new Date(now.getTime() + a.durationMs) : undefined;
  const specs = a.targets.map((_, i) => (a.targetSpecs ? a.targetSpecs[i] : a.faultSpec));
  return applyTargets({ ...a, owner: ownerOf(a, expires, deps, source) }, a.targets, specs, deps, now);
}

/** A replacement joins its run: same run id, same expiry. */
export async function executeExtend(
  a: ExtendRun,
  deps: ExecuteDeps,
  now: Date,
  source?: Owner["source"],
): Promise<StartOutcome> {
  return applyTargets({ ...a, owner: ownerOf(a, a.expires, deps, source) }, [a.target], [a.faultSpec], deps, now);
}

/**
 * Re-apply an injection with a fresh spec, same owner (so the same names in the namespace and the
 * same guard name): recover first (the old guard reverts and goes), then apply. A failed recover
 * applies nothing: the old guard is kept as the record of what may still be injected.
 */
export async function executeReapply(
  a: Reapply,
  deps: ExecuteDeps,
  now: Date,
): Promise<{ ok: boolean; handle?: InjectionHandle; reason?: string; message?: string }> {
  const h = a.handle;
  const r = await executeRevert({ type: "revert", handle: h, reason: "DestinationsChanged" }, deps, now, "reapply");
  if (!r.ok) return { ok: false, reason: "RevertFailed", ...(r.message ? { message: r.message } : {}) };
  if (r.phase === "Gone")
    return { ok: false, reason: "TargetGone", message: "the target went away while its destinations were re-resolved" };
  const out = await applyTargets(
    { key: h.owner.schedule, run: h.owner.run, fault: h.fault, owner: h.owner },
    [h.target],
    [a.faultSpec],
    deps,
    now,
  );
  const res = out.results[0];
  if (!res?.ok)
    return { ok: false, reason: res?.reason ?? "Failed", ...(res?.message ? { message: res.message } : {}) };
  return out.handles[0] ? { ok: true, handle: out.handles[0] } : { ok: true };
}

function ownerOf(
  a: { key: string; generation: number; run: string },
  expires: Date | undefined,
  deps: ExecuteDeps,
  source?: Owner["source"],
): Owner {
  return {
    schedule: a.key,
    generation: a.generation,
    run: a.run,
    ...(expires ? { expires } : {}),
    ...(deps.instance && deps.instance !== "default" ? { instance: deps.instance } : {}),
    ...(source ? { source } : {}),
  };
}

/** One driver call per target, `limit` at once; `specs[i]` is what target i's driver gets. */
async function applyTargets(
  a: { key: string; run: string; fault: StartRun["fault"]; owner: Owner },
  targets: readonly Target[],
  specs: readonly unknown[],
  deps: ExecuteDeps,
  now: Date,
): Promise<StartOutcome> {
  const driver = deps.drivers.get(a.fault);
  const owner = a.owner;
  const ctxOn = (engine: Engine, nodeId: string): DriverContext => ({
    engine,
    nodeId,
    manager: deps.engine,
    managerNodeId: deps.selfNodeId,
    image: deps.image,
    now,
    ...(deps.guardApplyTimeoutMs ? { guardApplyTimeoutMs: deps.guardApplyTimeoutMs } : {}),
  });
  const handles: InjectionHandle[] = [];
  const one = async ([target, spec]: readonly [Target, unknown]): Promise<TargetResult> => {
    const log = {
      event: "apply",
      schedule: a.key,
      run: a.run,
      fault: a.fault,
      task: target.taskId,
      container: target.containerId,
      node: target.nodeHostname ?? target.nodeId,
    };
    if (!driver) return fail(target, "FaultUnsupported", `no driver for fault ${a.fault}`, log);
    // The engine of the target's node: ours or its agent. A node fault without an agent there still
    // runs on ours (drain and pause are Swarm-level); ctx.nodeId says which node the engine is.
    const route = routeTo(deps, target.nodeId, target.nodeHostname);
    if ("unavailable" in route && target.kind === "container")
      return fail(target, "AgentUnavailable", route.unavailable, log);
    try {
      const r = await driver.apply(
        "engine" in route ? ctxOn(route.engine, target.nodeId) : ctxOn(deps.engine, deps.selfNodeId),
        target,
        spec,
        owner,
      );
      if (r.phase === "Failed") return fail(target, r.reason, r.message, log);
      if (r.phase === "Injected") handles.push(r.handle);
      deps.logger.info({ ...log, result: r.phase }, `${a.fault} applied`);
      return { target, ok: true, phase: r.phase };
    } catch (e) {
      return fail(target, errReason(e), errText(e), log);
    }
  };
  const fail = (target: Target, reason: string, message: string, log: object): TargetResult => {
    deps.logger.warn({ ...log, result: "Failed", reason, message }, `${a.fault} failed`);
    return { target, ok: false, reason, message };
  };
  const results = await mapLimited(
    targets.map((t, i) => [t, specs[i]] as const),
    deps.parallelism ?? 4,
    one,
  );
  return { results, handles };
}

export async function executeRevert(
  a: Revert,
  deps: ExecuteDeps,
  now: Date,
  event = "revert",
): Promise<{ ok: boolean; phase?: "Recovered" | "Gone"; message?: string }> {
  const h = a.handle;
  const log = {
    event,
    schedule: h.owner.schedule,
    run: h.owner.run,
    fault: h.fault,
    task: h.target.taskId,
    container: h.target.containerId,
    node: h.target.nodeHostname ?? h.target.nodeId,
    reason: a.reason,
  };
  const driver = deps.drivers.get(h.fault);
  if (!driver) {
    deps.logger.error({ ...log, result: "Failed" }, "no driver to revert this fault");
    return { ok: false, message: `no driver for ${h.fault}` };
  }
  try {
    // A guard that runs elsewhere than its target (node drain: on a manager) is reverted where it runs.
    const route = routeTo(deps, h.guardNodeId ?? h.target.nodeId, h.target.nodeHostname);
    if ("unavailable" in route && h.target.kind === "container") {
      deps.logger.warn(
        { ...log, result: "Failed", reason: "AgentUnavailable", message: route.unavailable },
        "revert deferred: its node is unreachable",
      );
      return { ok: false, message: route.unavailable };
    }
    const on =
      "engine" in route
        ? { engine: route.engine, nodeId: h.target.nodeId }
        : { engine: deps.engine, nodeId: deps.selfNodeId };
    const r = await driver.recover({ ...on, manager: deps.engine, image: deps.image, now }, h);
    if (r.phase === "Failed") {
      deps.logger.error({ ...log, result: "Failed", message: r.message }, "revert failed");
      return { ok: false, message: r.message };
    }
    deps.logger.info({ ...log, result: r.phase }, `${h.fault} reverted`);
    return { ok: true, phase: r.phase };
  } catch (e) {
    deps.logger.error({ ...log, result: "Failed", message: errText(e) }, "revert failed");
    return { ok: false, message: errText(e) };
  }
}

/** The engine of a target's node: ours, its agent's, or why it cannot be reached. */
export function routeTo(
  deps: Pick<ExecuteDeps, "engine" | "selfNodeId" | "nodes">,
  nodeId: string,
  hostname?: string,
): NodeRoute {
  if (nodeId === deps.selfNodeId || nodeId === "") return { engine: deps.engine };
  return (
    deps.nodes?.route(nodeId, hostname) ?? {
      unavailable: `task runs on node ${hostname ?? nodeId}, which this controller cannot reach without an agent`,
    }
  );
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
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
