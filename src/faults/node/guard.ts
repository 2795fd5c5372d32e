// Node guards from the driver's side: start (or adopt) one, wait until its fault is observable,
// read why it failed. A node guard is a regular guard container (faults/guard) whose --target is a
// node id and whose --spec is a NodeGuardSpec.
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine, HelperSpec } from "../../engine/engine.js";
import { ContainerNameConflict, ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import type { ApplyResult, DriverContext, Owner, Target } from "../driver.js";
import { guardArgv } from "../guard/args.js";
import { guardHelperSpec } from "../guard/spec.js";
import type { NodeGuardSpec } from "./spec.js";

type Failed = Extract<ApplyResult, { phase: "Failed" }>;

export function nodeGuardSpec(
  ctx: DriverContext,
  target: Target,
  spec: NodeGuardSpec,
  owner: Owner,
  until: Date,
): HelperSpec {
  const partition = spec.action === "partition";
  const hs = guardHelperSpec({
    image: ctx.image,
    fault: "node",
    owner,
    target: {
      kind: "node",
      nodeId: target.nodeId,
      ...(target.nodeHostname ? { nodeHostname: target.nodeHostname } : {}),
    },
    until,
    spec,
    ...(ctx.dockerSocket ? { dockerSocket: ctx.dockerSocket } : {}),
    // partition: the node's own namespace. drain/pause: only the mounted manager socket.
    ...(partition ? { networkMode: "host", capAdd: ["NET_ADMIN"] } : {}),
  });
  hs.cmd = guardArgv({ fault: "node", target: target.nodeId, until, spec });
  return hs;
}

/** Start the guard, or adopt the one this run already started (same name). */
export async function startOrAdopt(engine: Engine, hs: HelperSpec): Promise<string> {
  try {
    return await engine.startHelper(hs);
  } catch (err) {
    if (!(err instanceof ContainerNameConflict) || !hs.name) throw err;
    return (await engine.inspectContainer(hs.name)).id;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
}

export type Applied = { phase: "Injected" } | { phase: "Done" } | Failed;

/** Poll until `inEffect`, the guard's exit, or the deadline (the guard is then stopped: it reverts). */
export async function waitApplied(
  engine: Engine,
  guardId: string,
  inEffect: () => Promise<boolean>,
  o: WaitOptions,
): Promise<Applied> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (await inEffect()) return { phase: "Injected" };
    let state: string;
    let exitCode: number | undefined;
    try {
      const g = await engine.inspectContainer(guardId);
      state = g.state;
      exitCode = g.exitCode;
    } catch (err) {
      if (err instanceof ContainerNotFound)
        return { phase: "Failed", reason: "GuardGone", message: `guard ${guardId} was removed` };
      throw err;
    }
    if (state === "exited" || state === "dead") {
      const failed = await guardFailure(engine, guardId, exitCode ?? -1);
      await engine.removeContainer(guardId, { force: true }).catch(ignoreGone);
      return failed ?? { phase: "Done" }; // exit 0, no refusal: the whole window passed before we looked
    }
    if (Date.now() >= deadline) {
      const failed = await guardFailure(engine, guardId, 1);
      await dispose(engine, guardId);
      const why = failed ? `; guard said: ${failed.reason}: ${failed.message}` : "";
      return {
        phase: "Failed",
        reason: "ApplyTimeout",
        message: `node fault not observable within ${o.timeoutMs} ms${why}`,
      };
    }
    await sleep(o.pollMs);
  }
}

/** Did the guard log that it applied its fault? (partition: the controller cannot see the node's iptables cheaply.) */
export async function guardLogged(engine: Engine, guardId: string, event: string): Promise<boolean> {
  const logs = await engine.containerLogs(guardId, 50).catch(() => ({ stdout: "", stderr: "" }));
  return records(`${logs.stdout}\n${logs.stderr}`).some((r) => r.event === event);
}

interface LogRecord {
  event?: string;
  result?: string;
  reason?: string;
  msg?: string;
  err?: { message?: string };
}

function records(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // not a log record
    }
  }
  return out;
}

/** The guard's own account of a refusal or failure, from its pino records. */
export async function guardFailure(engine: Engine, guardId: string, exitCode: number): Promise<Failed | undefined> {
  const logs = await engine.containerLogs(guardId, 50).catch(() => ({ stdout: "", stderr: "" }));
  for (const rec of records(`${logs.stdout}\n${logs.stderr}`).reverse()) {
    if (rec.result === "refused" || rec.result === "failed") {
      return {
        phase: "Failed",
        reason: rec.reason ?? "GuardFailed",
        message: [rec.msg, rec.err?.message].filter(Boolean).join(": "),
      };
    }
  }
  return exitCode === 0 ? undefined : { phase: "Failed", reason: "GuardFailed", message: `guard exited ${exitCode}` };
}

/** SIGTERM (the guard reverts), then remove; a guard already gone is fine. */
export async function dispose(engine: Engine, guardId: string, stopTimeoutSeconds = 15): Promise<void> {
  await engine.stopContainer(guardId, stopTimeoutSeconds).catch(ignoreGone);
  await engine.removeContainer(guardId, { force: true }).catch(ignoreGone);
}

export function ignoreGone(err: unknown): void {
  if (err instanceof ContainerNotFound || err instanceof ContainerStateConflict) return;
  throw err;
}
