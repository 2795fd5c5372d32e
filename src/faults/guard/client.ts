// The guard client: what every driver whose fault is enforced by a guard container does from the
// controller's side, with one set of rules (pause, network and node faults, and any new durative
// fault): start the guard or adopt the one this run already has, wait until the fault is
// observable, map a guard's failure to a reason, dispose of a guard, ignore one already gone.
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine, HelperSpec } from "../../engine/engine.js";
import { ContainerNameConflict, ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import type { ApplyResult } from "../driver.js";
import { failedFrom } from "../instant.js";

export type Failed = Extract<ApplyResult, { phase: "Failed" }>;
export type Applied = { phase: "Injected" } | { phase: "Done" } | Failed;

export interface GuardStart {
  id: string;
  /** The guard existed already (a second apply of the same run): it is in charge, apply nothing. */
  adopted: boolean;
  /** Settles with the start of a launched guard (`early`); already resolved otherwise. */
  started: Promise<void>;
}

/**
 * Start the guard, or adopt the one this run already started (same name: a second apply of a run
 * never injects twice). With `early`, returns as soon as the guard is created and its start is
 * handed to the engine (Engine.launchHelper): from then on the guard runs even if this process
 * dies, so the caller may apply the fault itself while the guard boots, and the guard adopts it.
 * Engines without launchHelper (an agent) start the guard fully first.
 */
export async function startOrAdopt(
  engine: Engine,
  hs: HelperSpec,
  opts: { early?: boolean } = {},
): Promise<GuardStart> {
  try {
    if (opts.early && engine.launchHelper) {
      const l = await engine.launchHelper(hs);
      return { id: l.id, adopted: false, started: l.started };
    }
    return { id: await engine.startHelper(hs), adopted: false, started: Promise.resolve() };
  } catch (err) {
    if (!(err instanceof ContainerNameConflict) || !hs.name) throw err;
    return { id: (await engine.inspectContainer(hs.name)).id, adopted: true, started: Promise.resolve() };
  }
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  /** What is waited for, in the timeout's message ("pause on <id>"). */
  what: string;
}

/**
 * Poll until the fault is observable (`inEffect`), the guard exits, or the deadline passes.
 * - inEffect throws ContainerNotFound: the target is gone (TargetGone; the guard is disposed of);
 *   any other error of inEffect is a failed read: polled again until the deadline.
 * - the guard is gone: GuardGone. It exited: its own account of why (guardFailure), or Done when it
 *   exited 0 without a refusal (the whole window passed before we looked).
 * - deadline: ApplyTimeout, with what the guard said; the guard is stopped (it reverts) and removed.
 */
export async function waitApplied(
  engine: Engine,
  guardId: string,
  inEffect: () => Promise<boolean>,
  o: WaitOptions,
): Promise<Applied> {
  const deadline = Date.now() + o.timeoutMs;
  let lastReadError: Error | undefined;
  for (;;) {
    const [guard, effect] = await Promise.all([settle(engine.inspectContainer(guardId)), settle(inEffect())]);
    if (effect === true) return { phase: "Injected" };
    if (effect instanceof ContainerNotFound) {
      await dispose(engine, guardId).catch(() => undefined);
      return { phase: "Failed", reason: "TargetGone", message: effect.message };
    }
    if (effect instanceof Error) lastReadError = effect;
    if (guard instanceof ContainerNotFound)
      return { phase: "Failed", reason: "GuardGone", message: `guard ${guardId} was removed` };
    if (guard instanceof Error) {
      await dispose(engine, guardId).catch(() => undefined);
      return failedFrom(guard);
    }
    if (guard.state === "exited" || guard.state === "dead") {
      const failed = await guardFailure(engine, guardId, guard.exitCode ?? -1);
      await engine.removeContainer(guardId, { force: true }).catch(ignoreGone);
      return failed ?? { phase: "Done" };
    }
    if (Date.now() >= deadline) {
      const failed = await guardFailure(engine, guardId, 1);
      await dispose(engine, guardId).catch(() => undefined);
      const why = failed
        ? `; guard said: ${failed.reason}: ${failed.message}`
        : lastReadError
          ? `; last read: ${lastReadError.message}`
          : "";
      return {
        phase: "Failed",
        reason: "ApplyTimeout",
        message: `${o.what} not observable within ${o.timeoutMs} ms${why}`,
      };
    }
    await sleep(o.pollMs);
  }
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
    if (!line.trim().startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // not a log record
    }
  }
  return out;
}

async function guardLogs(engine: Engine, guardId: string): Promise<string> {
  const logs = await engine.containerLogs(guardId, 50).catch(() => ({ stdout: "", stderr: "" }));
  return `${logs.stdout}\n${logs.stderr}`;
}

/**
 * Did the guard log `event` (e.g. "applied", "reverted"), with `result` if given? For effects the
 * controller cannot read back cheaply, or that the guard verified from where it runs.
 */
export async function guardLogged(engine: Engine, guardId: string, event: string, result?: string): Promise<boolean> {
  return records(await guardLogs(engine, guardId)).some(
    (r) => r.event === event && (result === undefined || r.result === result),
  );
}

/**
 * The guard's own account of a refusal or failure (its last log record with result refused/failed,
 * or with a reason when it exited non-zero); undefined for a clean exit 0.
 */
export async function guardFailure(engine: Engine, guardId: string, exitCode: number): Promise<Failed | undefined> {
  const text = await guardLogs(engine, guardId);
  for (const rec of records(text).reverse()) {
    if (rec.result === "refused" || rec.result === "failed" || (rec.reason && exitCode !== 0)) {
      return {
        phase: "Failed",
        reason: rec.reason ?? "GuardFailed",
        message: [rec.msg, rec.err?.message].filter(Boolean).join(": "),
      };
    }
  }
  if (exitCode === 0) return undefined;
  return { phase: "Failed", reason: "GuardFailed", message: `guard exited ${exitCode}: ${lastLine(text)}` };
}

/** SIGTERM (the guard reverts), then remove; a guard already gone or stopped is fine. */
export async function dispose(engine: Engine, guardId: string, stopTimeoutSeconds = 15): Promise<void> {
  await engine.stopContainer(guardId, stopTimeoutSeconds).catch(ignoreGone);
  await engine.removeContainer(guardId, { force: true }).catch(ignoreGone);
}

/** For `.catch`: a container that is gone, or already in the state asked for, is not an error. */
export function ignoreGone(err: unknown): void {
  if (err instanceof ContainerNotFound || err instanceof ContainerStateConflict) return;
  throw err;
}

/** The value, or the error it failed with (so parallel checks can be inspected together). */
export function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .filter((l) => l.trim())
      .at(-1) ?? ""
  );
}
