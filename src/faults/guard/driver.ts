// A durative fault enforced by a guard container (see runtime.ts). Crash-safety order:
// the guard is started FIRST and applies the fault itself, so from the first instant the fault
// exists, its revert at expiry is owned by a process on the target's node that does not depend
// on the controller. The controller only starts, observes and (early) stops guards.
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine } from "../../engine/engine.js";
import { ContainerNameConflict, ContainerNotFound, ContainerStateConflict } from "../../engine/errors.js";
import type {
  ApplyResult,
  DriverContext,
  FaultDriver,
  FaultKind,
  InjectionHandle,
  Owner,
  RecoverResult,
  Target,
} from "../driver.js";
import { failedFrom, requireContainer } from "../instant.js";
import { guardHelperSpec, type GuardSpecInput } from "./spec.js";

export interface GuardedFault<Spec> {
  kind: FaultKind;
  /** Container options a guard of this fault needs (e.g. the target's netns and NET_ADMIN). */
  guardContainer?(target: Target): Pick<GuardSpecInput, "networkMode" | "capAdd">;
  /** Is the fault observable on the target now? Throws ContainerNotFound when the target is gone. */
  inEffect(engine: Engine, target: Target, spec: Spec): Promise<boolean>;
  /**
   * Does any part of the fault remain (after a revert)? Default: inEffect. Differs for a fault of
   * several parts, which is in effect only when all are there and reverted only when none is.
   */
  leftover?(engine: Engine, target: Target, spec: Spec): Promise<boolean>;
  /**
   * Revert without a working guard (it failed, or is gone). Idempotent. Default: run a guard with
   * an expiry in the past, which only reverts.
   */
  revertDirect?: (ctx: DriverContext, target: Target, spec: Spec) => Promise<void>;
}

export interface GuardedDriverOptions {
  /** How long apply waits for the fault to become observable. */
  applyTimeoutMs?: number;
  pollMs?: number;
  /** SIGTERM → SIGKILL grace when stopping a guard (it reverts on SIGTERM). */
  stopTimeoutSeconds?: number;
}

type Failed = Extract<ApplyResult, { phase: "Failed" }>;

// size: a factory; its length is the driver's methods (apply, revert, recover, observe), each short.
export function guardedDriver<Spec>(f: GuardedFault<Spec>, opts: GuardedDriverOptions = {}): FaultDriver<Spec> {
  const applyTimeoutMs = opts.applyTimeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;
  const stopTimeout = opts.stopTimeoutSeconds ?? 15;

  const specInput = (ctx: DriverContext, target: Target, spec: Spec, owner: Owner, until: Date): GuardSpecInput => ({
    image: ctx.image,
    fault: f.kind,
    owner,
    target,
    until,
    spec,
    ...(ctx.dockerSocket ? { dockerSocket: ctx.dockerSocket } : {}),
    ...(f.guardContainer?.(target) ?? {}),
  });

  const revertDirect =
    f.revertDirect ??
    (async (ctx: DriverContext, target: Target, spec: Spec): Promise<void> => {
      // A guard whose expiry has passed reverts and exits; unnamed so it never collides.
      const hs = guardHelperSpec(
        specInput(ctx, target, spec, { schedule: "-", generation: 0, run: "revert" }, new Date(0)),
      );
      delete hs.name;
      const r = await ctx.engine.runHelper(hs, 30_000);
      if (r.exitCode !== 0) throw new Error(`revert helper exited ${r.exitCode}: ${lastLine(r.stderr)}`);
    });

  /** Stop (SIGTERM: the guard reverts) and remove a guard; a guard already gone is fine. */
  const dispose = async (engine: Engine, guardId: string): Promise<void> => {
    await engine.stopContainer(guardId, stopTimeout).catch(ignoreGoneOrStopped);
    await engine.removeContainer(guardId, { force: true }).catch(ignoreGoneOrStopped);
  };

  return {
    kind: f.kind,
    durative: true,
    targets: "container",

    async apply(ctx, target, spec, owner) {
      const { engine } = ctx;
      const until = owner.expires;
      if (!until) return { phase: "Failed", reason: "NoExpiry", message: `a ${f.kind} fault needs owner.expires` };
      let guardId: string;
      try {
        requireContainer(target);
        guardId = await engine.startHelper(guardHelperSpec(specInput(ctx, target, spec, owner, until)));
      } catch (err) {
        if (!(err instanceof ContainerNameConflict)) return failedFrom(err);
        // The same run was already applied to this target (its guard exists): adopt, don't repeat.
        const name = guardHelperSpec(specInput(ctx, target, spec, owner, until)).name ?? "";
        const existing = await settle(engine.inspectContainer(name));
        if (existing instanceof Error) return failedFrom(existing);
        guardId = existing.id;
      }
      const handle: InjectionHandle = {
        fault: f.kind,
        owner: { ...owner, expires: until },
        target,
        guardId,
        guardState: "running",
        since: ctx.now,
        spec,
      };
      const bound = ctx.guardApplyTimeoutMs ?? applyTimeoutMs;
      const deadline = Date.now() + bound;
      for (;;) {
        const [guard, effect] = await Promise.all([
          settle(engine.inspectContainer(guardId)),
          settle(f.inEffect(engine, target, spec)),
        ]);
        if (effect === true) return { phase: "Injected", handle };
        if (effect instanceof ContainerNotFound) {
          await dispose(engine, guardId);
          return { phase: "Failed", reason: "TargetGone", message: effect.message };
        }
        if (guard instanceof ContainerNotFound)
          return { phase: "Failed", reason: "GuardGone", message: `guard ${guardId} was removed` };
        if (guard instanceof Error) return failedFrom(guard);
        if (guard.state === "exited" || guard.state === "dead") {
          const failed = await guardFailure(engine, guardId, guard.exitCode ?? -1);
          await engine.removeContainer(guardId, { force: true }).catch(ignoreGoneOrStopped);
          // Exit 0 without a refusal: the whole window passed before we looked (a very short fault).
          return failed ?? { phase: "Done" };
        }
        if (Date.now() >= deadline) {
          const failed = await guardFailure(engine, guardId, 1);
          await dispose(engine, guardId);
          const why = failed ? `; guard said: ${failed.reason}: ${failed.message}` : "";
          return {
            phase: "Failed",
            reason: "ApplyTimeout",
            message: `${f.kind} not observable on ${target.containerId} within ${bound} ms${why}`,
          };
        }
        await sleep(pollMs);
      }
    },

    async recover(ctx, handle) {
      const { engine } = ctx;
      const spec = (handle.spec ?? {}) as Spec;
      if (handle.guardId) await engine.stopContainer(handle.guardId, stopTimeout).catch(ignoreGoneOrStopped);
      let result: RecoverResult = { phase: "Recovered" };
      try {
        // A guard that ran reverted on SIGTERM; one that crashed or vanished did not: revert directly.
        const remains = (e: Engine, t: Target, sp: Spec): Promise<boolean> =>
          f.leftover ? f.leftover(e, t, sp) : f.inEffect(e, t, sp);
        if (await remains(engine, handle.target, spec)) await revertDirect(ctx, handle.target, spec);
        if (await remains(engine, handle.target, spec)) {
          result = {
            phase: "Failed",
            reason: "RevertFailed",
            message: `${f.kind} still in effect on ${handle.target.containerId}`,
          };
        }
      } catch (err) {
        result =
          err instanceof ContainerNotFound
            ? { phase: "Gone" }
            : { phase: "Failed", reason: "RevertFailed", message: String(err) };
      }
      // Keep a guard whose revert failed: it is the cluster's record that something is injected.
      if (handle.guardId && result.phase !== "Failed")
        await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGoneOrStopped);
      return result;
    },
  };
}

/** The value, or the error it failed with (so parallel checks can be inspected together). */
function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

function ignoreGoneOrStopped(err: unknown): void {
  if (err instanceof ContainerNotFound || err instanceof ContainerStateConflict) return;
  throw err;
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/** The guard's own account of why it failed or refused (its last pino line with a reason). */
async function guardFailure(engine: Engine, guardId: string, exitCode: number): Promise<Failed | undefined> {
  const logs = await engine.containerLogs(guardId, 50).catch(() => ({ stdout: "", stderr: "" }));
  const lines = `${logs.stdout}\n${logs.stderr}`.split("\n").filter((l) => l.trim().startsWith("{"));
  for (const line of lines.reverse()) {
    try {
      const rec = JSON.parse(line) as { result?: string; reason?: string; msg?: string; err?: { message?: string } };
      if (rec.result === "refused" || rec.result === "failed" || (rec.reason && exitCode !== 0)) {
        return {
          phase: "Failed",
          reason: rec.reason ?? "GuardFailed",
          message: [rec.msg, rec.err?.message].filter(Boolean).join(": "),
        };
      }
    } catch {
      // not a log record
    }
  }
  if (exitCode !== 0)
    return {
      phase: "Failed",
      reason: "GuardFailed",
      message: `guard exited ${exitCode}: ${lastLine(logs.stderr || logs.stdout)}`,
    };
  return undefined;
}
