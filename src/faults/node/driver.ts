// node (durative, except reboot): one driver, four actions.
// - drain / pause: a guard on a manager (the manager's docker.sock mounted) records the original
//   availability on the node (labels, availability.ts), sets it, and restores it at expiry or on
//   SIGTERM, even if the controller is gone.
// - partition: a guard on the TARGET node (its engine or agent; NetworkMode host, NET_ADMIN) cuts
//   the node's Swarm traffic with an owned iptables chain and heals it at expiry on its own.
// - reboot: the controller's configured hook (reboot.ts); nothing to revert.
// Manager safety (quorum.ts) is checked by the planner before any driver runs, and again by the agent.
import type { NodeFault } from "../../api/types.js";
import type { Engine } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import type { Logger } from "../../util/log.js";
import { silentLogger } from "../../util/log.js";
import type {
  ApplyResult,
  DriverContext,
  FaultDriver,
  InjectionHandle,
  Owner,
  RecoverResult,
  Target,
} from "../driver.js";
import { failedFrom } from "../instant.js";
import { L_GUARD_NODE } from "../../api/labels.js";
import { TargetGone } from "../guard/effect.js";
import { labelledBy, planAvailability, planRestore } from "./availability.js";
import { converge, readNode } from "./availability-effect.js";
import { dispose, guardLogged, ignoreGone, settle, startOrAdopt, waitApplied } from "../guard/client.js";
import { nodeGuardSpec } from "./guard.js";
import { describeHook, runRebootHook, type RebootHook } from "./reboot.js";
import { unwrapNodeSpec, wrapNodeSpec, type NodeGuardSpec } from "./spec.js";

export interface NodeDriverOptions {
  /** From the controller's own configuration; absent: reboot fails with RebootHookMissing. */
  rebootHook?: RebootHook;
  /** TCP ports a partition never cuts (the agent's). */
  keepTcpPorts?: readonly number[];
  logger?: Logger;
  pollMs?: number;
}

type Failed = Extract<ApplyResult, { phase: "Failed" }>;

// size: a factory; its length is the driver's methods (apply, revert, recover, observe), each short.
export function nodeDriver(opts: NodeDriverOptions = {}): FaultDriver<NodeFault> {
  const log = opts.logger ?? silentLogger;
  // How often apply looks for the guard's effect (a partition's `applied` record; a drain whose
  // direct apply did not take). The prelude cuts a node within ~100 ms of the guard's start on a
  // real host: a 200 ms poll added ~100 ms on average to apply's return. Each poll is two calls.
  const pollMs = opts.pollMs ?? 20;
  const managerOf = (ctx: DriverContext): Engine => ctx.manager ?? ctx.engine;
  /** The node `managerOf(ctx)` runs on: known from the context, else read from the cluster. */
  const managerNodeId = async (ctx: DriverContext): Promise<string> =>
    (ctx.manager ? ctx.managerNodeId : ctx.nodeId) ?? (await managerOf(ctx).snapshot()).selfNodeId;

  /** A partition guard must run in the target's own namespace: only on that node's engine. */
  const wrongNode = (ctx: DriverContext, target: Target): Failed | undefined =>
    ctx.nodeId === target.nodeId
      ? undefined
      : {
          phase: "Failed",
          reason: "AgentUnavailable",
          message: `partition of node ${target.nodeHostname ?? target.nodeId} needs that node's engine or agent (this engine is node ${ctx.nodeId ?? "unknown"})`,
        };

  async function reboot(ctx: DriverContext, target: Target, owner: Owner): Promise<ApplyResult> {
    if (!opts.rebootHook) {
      return {
        phase: "Failed",
        reason: "RebootHookMissing",
        message:
          "no reboot hook configured: start the controller with --reboot-hook-file FILE (a JSON argv) or --reboot-hook ARG...",
      };
    }
    const node = await readNode(managerOf(ctx), target.nodeId);
    if (!node) return { phase: "Failed", reason: "TargetGone", message: `node ${target.nodeId} is not in the swarm` };
    const r = await runRebootHook(opts.rebootHook, { id: node.id, hostname: node.hostname, addr: node.addr });
    const what = describeHook(r);
    log.info(
      {
        event: "reboot-hook",
        schedule: owner.schedule,
        run: owner.run,
        node: node.hostname,
        exitCode: r.exitCode,
        timedOut: r.timedOut,
        ms: r.ms,
        stdout: r.stdout,
        stderr: r.stderr,
      },
      what,
    );
    if (r.timedOut) return { phase: "Failed", reason: "RebootHookTimeout", message: what };
    if (r.exitCode !== 0) return { phase: "Failed", reason: "RebootHookFailed", message: what };
    return { phase: "Done" };
  }

  async function guarded(
    ctx: DriverContext,
    target: Target,
    action: NodeGuardSpec["action"],
    owner: Owner,
  ): Promise<ApplyResult> {
    const until = owner.expires;
    if (!until) return { phase: "Failed", reason: "NoExpiry", message: `node ${action} needs a duration` };
    const partition = action === "partition";
    if (partition) {
      const wrong = wrongNode(ctx, target);
      if (wrong) return wrong;
    }
    const engine = partition ? ctx.engine : managerOf(ctx);
    const spec = wrapNodeSpec(action, owner, until, partition ? opts.keepTcpPorts : []);
    const hs = nodeGuardSpec(ctx, target, spec, owner, until);
    // drain/pause: the guard runs on the manager, not on its target; its label says where.
    const guardNodeId = partition ? undefined : await managerNodeId(ctx);
    if (guardNodeId) hs.labels[L_GUARD_NODE] = guardNodeId;
    // drain/pause, the direct way (as pause of a container, faults/guard/driver.ts): once the
    // guard's start is with the engine, set the availability from here; the guard's own apply
    // finds the node labelled by this run and adopts it. partition: the guard's prelude applies.
    const guard = await startOrAdopt(engine, hs, { early: !partition });
    const guardId = guard.id;
    if (!partition && !guard.adopted) {
      const direct = await settle(converge(engine, target.nodeId, (n) => planAvailability(n, action, spec.owner)));
      const started = await settle(guard.started);
      if (started instanceof Error) {
        // No guard will run: take back what the direct apply did. The created guard stays until
        // then: if we die first, it is the record a restarted controller restores the node from.
        const undone = await settle(converge(engine, target.nodeId, (n) => planRestore(n, spec.owner)));
        if (undone instanceof Error)
          return {
            ...failedFrom(started),
            message: `${started.message}; and the direct restore failed: ${undone.message}`,
          };
        await engine.removeContainer(guardId, { force: true }).catch(ignoreGone);
        return failedFrom(started);
      }
      // A direct apply that did not take (refused, failed) is not the verdict: the guard tries too.
      if (!(direct instanceof Error) && direct.kind !== "refused")
        return { phase: "Injected", handle: nodeHandle(ctx, target, owner, until, guardId, guardNodeId, spec) };
    }
    const inEffect = partition
      ? () => guardLogged(engine, guardId, "applied")
      : async () => {
          const n = await readNode(engine, target.nodeId);
          return !!n && labelledBy(n, owner) && n.availability === action;
        };
    const r = await waitApplied(engine, guardId, inEffect, {
      timeoutMs: ctx.guardApplyTimeoutMs ?? 15_000,
      pollMs,
      what: `node ${action} of ${target.nodeHostname ?? target.nodeId}`,
    });
    if (r.phase !== "Injected") return r;
    return { phase: "Injected", handle: nodeHandle(ctx, target, owner, until, guardId, guardNodeId, spec) };
  }

  return {
    kind: "node",
    durative: true,
    targets: "node",

    async apply(ctx, target, fault, owner) {
      try {
        if (fault.action === "reboot") return await reboot(ctx, target, owner);
        return await guarded(ctx, target, fault.action, owner);
      } catch (err) {
        return failedFrom(err);
      }
    },

    async recover(ctx, handle) {
      let spec: NodeGuardSpec;
      try {
        spec = unwrapNodeSpec(handle.spec);
      } catch (err) {
        return { phase: "Failed", reason: "InvalidSpec", message: String(err) };
      }
      const target: Target = { ...handle.target, kind: "node" };
      try {
        if (spec.action === "partition") return await recoverPartition(ctx, handle, target, spec);
        const manager = managerOf(ctx);
        if (handle.guardId)
          await dispose(manager, handle.guardId).catch((e: unknown) =>
            log.warn({ err: String(e) }, "could not stop node guard"),
          );
        // The guard restored on SIGTERM; one that crashed or vanished did not: restore from here.
        await converge(manager, target.nodeId, (n) => planRestore(n, spec.owner));
        const after = await readNode(manager, target.nodeId);
        if (after && labelledBy(after, spec.owner))
          return {
            phase: "Failed",
            reason: "RevertFailed",
            message: `node ${after.hostname} still carries run ${spec.owner.run}`,
          };
        return { phase: "Recovered" };
      } catch (err) {
        if (err instanceof TargetGone) return { phase: "Gone" };
        return { phase: "Failed", reason: "RevertFailed", message: err instanceof Error ? err.message : String(err) };
      }
    },
  };

  /**
   * Stop the guard (it heals on SIGTERM); if it is gone or did not say it reverted, a guard started
   * after expiry only reverts. Both are guard containers: what a node's agent admits.
   */
  async function recoverPartition(
    ctx: DriverContext,
    handle: InjectionHandle,
    target: Target,
    spec: NodeGuardSpec,
  ): Promise<RecoverResult> {
    const wrong = wrongNode(ctx, target);
    if (wrong)
      return {
        phase: "Failed",
        reason: wrong.reason,
        message: `${wrong.message}; its guard heals the node at expiry on its own`,
      };
    const { engine } = ctx;
    if (handle.guardId) {
      await engine.stopContainer(handle.guardId, 15).catch(ignoreGone);
      const g = await engine
        .inspectContainer(handle.guardId)
        .catch((e: unknown) => (e instanceof ContainerNotFound ? undefined : Promise.reject(e)));
      if (g && g.exitCode === 0 && (await guardLogged(engine, handle.guardId, "reverted"))) {
        await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
        return { phase: "Recovered" };
      }
    }
    const hs = nodeGuardSpec(ctx, target, spec, { schedule: "-", generation: 0, run: "revert" }, new Date(0));
    delete hs.name;
    hs.restartOnFailure = false;
    const r = await engine.runHelper(hs, 30_000);
    if (r.exitCode !== 0)
      return {
        phase: "Failed",
        reason: "RevertFailed",
        message: `partition revert on ${target.nodeHostname ?? target.nodeId} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().split("\n").pop() ?? ""}`,
      };
    if (handle.guardId) await engine.removeContainer(handle.guardId, { force: true }).catch(ignoreGone);
    return { phase: "Recovered" };
  }
}

function nodeHandle(
  ctx: DriverContext,
  target: Target,
  owner: Owner,
  until: Date,
  guardId: string,
  guardNodeId: string | undefined,
  spec: NodeGuardSpec,
): InjectionHandle {
  return {
    fault: "node",
    owner: { ...owner, expires: until },
    target,
    guardId,
    ...(guardNodeId ? { guardNodeId } : {}),
    guardState: "running",
    since: ctx.now,
    spec,
  };
}
