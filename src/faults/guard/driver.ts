// A durative fault enforced by a guard container (see runtime.ts). Crash-safety order: the
// guard's start is handed to the engine FIRST, so from the first instant the fault exists, its
// revert at expiry is owned by a process on the target's node that does not depend on the
// controller. A fault with `applyDirect` is then applied by the controller at once (the guard
// adopts it when it boots); without it, the guard applies it. docs/guards.md has the crash windows.
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import type {
  DriverContext,
  FaultDriver,
  FaultKind,
  InjectionHandle,
  Owner,
  RecoverResult,
  Target,
} from "../driver.js";
import { failedFrom, requireContainer } from "../instant.js";
import { ignoreGone, settle, startOrAdopt, waitApplied, type GuardStart } from "./client.js";
import { guardHelperSpec, type GuardSpecInput } from "./spec.js";

export interface GuardedFault<Spec> {
  kind: FaultKind;
  /** Container options a guard of this fault needs (e.g. the target's netns and NET_ADMIN, an entry point). */
  guardContainer?(target: Target): Pick<GuardSpecInput, "networkMode" | "capAdd" | "entrypoint" | "command">;
  /** Is the fault observable on the target now? Throws ContainerNotFound when the target is gone. */
  inEffect(engine: Engine, target: Target, spec: Spec): Promise<boolean>;
  /**
   * Apply the fault from the controller, once the guard's start is with the engine (the fast
   * path: the fault lands at the speed of the direct call, the guard adopts it when it boots).
   * Must be idempotent with the guard's own apply. Absent: the guard alone applies.
   */
  applyDirect?(ctx: DriverContext, target: Target, spec: Spec): Promise<void>;
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
  /**
   * The fault lands with its guard's start (no applyDirect): the guard is told to hold it for the
   * run's remaining duration from the moment it applied it (--hold), so the window is whole, at
   * most HOLD_LEAD_MAX_MS past the run's expiry.
   */
  holdFromApplied?: boolean;
}

export interface GuardedDriverOptions {
  /** How long apply waits for the fault to become observable. */
  applyTimeoutMs?: number;
  pollMs?: number;
  /** SIGTERM → SIGKILL grace when stopping a guard (it reverts on SIGTERM). */
  stopTimeoutSeconds?: number;
}

// size: a factory; its length is the driver's methods (apply, revert, recover, observe), each short.
export function guardedDriver<Spec>(f: GuardedFault<Spec>, opts: GuardedDriverOptions = {}): FaultDriver<Spec> {
  const applyTimeoutMs = opts.applyTimeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 50;
  const stopTimeout = opts.stopTimeoutSeconds ?? 15;

  const holdMs = (ctx: DriverContext, until: Date): { holdMs?: number } => {
    const left = Math.round(until.getTime() - ctx.now.getTime());
    return f.holdFromApplied && left > 0 ? { holdMs: left } : {};
  };
  const specInput = (ctx: DriverContext, target: Target, spec: Spec, owner: Owner, until: Date): GuardSpecInput => ({
    image: ctx.image,
    fault: f.kind,
    owner,
    target,
    until,
    spec,
    ...holdMs(ctx, until),
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

  return {
    kind: f.kind,
    durative: true,
    targets: "container",

    async apply(ctx, target, spec, owner) {
      const { engine } = ctx;
      const until = owner.expires;
      if (!until) return { phase: "Failed", reason: "NoExpiry", message: `a ${f.kind} fault needs owner.expires` };
      let guard: GuardStart;
      try {
        requireContainer(target);
        guard = await startOrAdopt(engine, guardHelperSpec(specInput(ctx, target, spec, owner, until)), {
          early: !!f.applyDirect,
        });
      } catch (err) {
        return failedFrom(err);
      }
      const handle: InjectionHandle = {
        fault: f.kind,
        owner: { ...owner, expires: until },
        target,
        guardId: guard.id,
        guardState: "running",
        since: ctx.now,
        spec,
      };
      // The direct way: the guard's start is with the engine, so its revert at expiry no longer
      // depends on this process; apply now instead of waiting for the guard to boot. The guard
      // applies again when it boots (idempotent: it adopts the fault) and reverts at expiry. A
      // direct apply that fails is not the verdict: the guard tries too and says why it cannot.
      const direct = f.applyDirect && !guard.adopted ? await settle(f.applyDirect(ctx, target, spec)) : undefined;
      const started = await settle(guard.started);
      if (started instanceof Error) {
        // No guard will run: take back what the direct apply did, here and now. The created guard
        // stays until then: if we die first, it is the record a restarted controller reverts from.
        const undone = direct === undefined ? undefined : await settle(revertDirect(ctx, target, spec));
        const failed = failedFrom(started);
        if (undone instanceof Error)
          return { ...failed, message: `${failed.message}; and the direct revert failed: ${undone.message}` };
        await engine.removeContainer(guard.id, { force: true }).catch(ignoreGone);
        return failed;
      }
      if (direct !== undefined && !(direct instanceof Error)) return { phase: "Injected", handle };
      const r = await waitApplied(engine, guard.id, () => f.inEffect(engine, target, spec), {
        timeoutMs: ctx.guardApplyTimeoutMs ?? applyTimeoutMs,
        pollMs,
        what: `${f.kind} on ${target.containerId}`,
      });
      return r.phase === "Injected" ? { phase: "Injected", handle } : r;
    },

    async recover(ctx, handle) {
      const { engine } = ctx;
      const spec = (handle.spec ?? {}) as Spec;
      if (handle.guardId) await engine.stopContainer(handle.guardId, stopTimeout).catch(ignoreGone);
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
        await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
      return result;
    },
  };
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
