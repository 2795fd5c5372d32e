// What a guard container is: its ownership labels, run-unique name and container spec.
import { createHash } from "node:crypto";
import type { HelperSpec } from "../../engine/engine.js";
import type { FaultKind, Owner, Target } from "../driver.js";
import {
  L_EXPIRES,
  L_INSTANCE,
  L_FAULT,
  L_GENERATION,
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
import { guardArgv } from "./args.js";

export const GUARD_ROLE = "guard";
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
/**
 * A crashed guard comes back, a few times: enough for transient failures, bounded for permanent ones.
 *
 * What a dockerd restart does to a running guard (verified on engine 20.10 with an isolated dockerd):
 * - graceful stop (SIGTERM), no live-restore: dockerd SIGTERMs the guard, which unpauses and exits 0
 *   (not restarted); dockerd stops the target as well (Swarm replaces the task).
 * - crash (SIGKILL), no live-restore: containers outlive dockerd in their shims; the restarted dockerd
 *   stops them. The guard's revert fails meanwhile (its bind-mounted socket is the old, dead one:
 *   exit 1), on-failure brings it back, it finds the target stopped and exits 0. Nothing stays paused.
 * - crash with live-restore: the target stays paused while dockerd is down (nothing can unpause it);
 *   the guard exits 1 on the dead socket, dockerd restarts it on restore, and it reverts at once
 *   ("late-start"; measured 1.5 s after dockerd answered).
 * So guards come back by themselves. If one still ends non-zero (restarts exhausted, removed by
 * hand), observe sees guardCondition "failed" and the controller must call recover(), which
 * reverts directly through the engine.
 */
export const GUARD_MAX_RESTARTS = 3;

export function guardLabels(
  owner: Owner,
  target: Target,
  fault: FaultKind,
  spec: unknown = {},
): Record<string, string> {
  const labels: Record<string, string> = {
    [L_ROLE]: GUARD_ROLE,
    [L_SCHEDULE]: owner.schedule,
    [L_GENERATION]: String(owner.generation),
    [L_RUN]: owner.run,
    [L_FAULT]: fault,
    [L_NODE]: target.nodeId,
    [L_SPEC]: JSON.stringify(spec ?? {}),
  };
  if (owner.expires) labels[L_EXPIRES] = owner.expires.toISOString();
  if (owner.instance) labels[L_INSTANCE] = owner.instance;
  if (owner.source) {
    labels[L_COMMIT] = owner.source.commit;
    labels[L_SOURCE_PATH] = owner.source.path;
  }
  if (target.containerId) labels[L_TARGET] = target.containerId;
  if (target.serviceName) labels[L_SERVICE] = target.serviceName;
  if (target.serviceId) labels[L_SERVICE_ID] = target.serviceId;
  if (target.taskId) labels[L_TASK] = target.taskId;
  return labels;
}

/**
 * One guard per (schedule, run, fault, target): the name makes a second apply of the same run
 * collide (ContainerNameConflict) instead of injecting twice.
 */
export function guardName(owner: Owner, target: Target, fault: FaultKind): string {
  const h = createHash("sha256").update(`${owner.schedule}\n${owner.run}`).digest("hex").slice(0, 12);
  return `chaosctl-guard-${fault}-${(target.containerId ?? target.nodeId).slice(0, 12)}-${h}`;
}

export interface GuardSpecInput {
  image: string;
  fault: FaultKind;
  owner: Owner;
  target: Target;
  until: Date;
  spec: unknown;
  /** The guard's --hold (args.ts): hold this long from the fault's applied moment. */
  holdMs?: number;
  /** Host path of the engine socket the guard must reach (its own node's). */
  dockerSocket?: string;
  networkMode?: string;
  capAdd?: string[];
  entrypoint?: string[];
  /**
   * The entry point and command from the guard verb's argv, for an entry that takes arguments of
   * its own before it (a network guard's shell prelude, faults/netns/shell-prelude.ts); wins over
   * `entrypoint`.
   */
  command?: (guardArgv: string[]) => { entrypoint: string[]; cmd: string[] };
}

export function guardHelperSpec(i: GuardSpecInput): HelperSpec {
  // A container guard's --target is its container; a node guard's, its node.
  const target = i.target.kind === "node" ? i.target.nodeId : (i.target.containerId ?? "");
  const hold = i.holdMs !== undefined ? { holdMs: i.holdMs } : {};
  const argv = guardArgv({ fault: i.fault, target, until: i.until, spec: i.spec, ...hold });
  const command = i.command?.(argv);
  const spec: HelperSpec = {
    image: i.image,
    name: guardName(i.owner, i.target, i.fault),
    cmd: command?.cmd ?? argv,
    labels: guardLabels({ ...i.owner, expires: i.until }, i.target, i.fault, i.spec),
    // The guard talks to its node's engine only; it needs no network of its own unless the
    // effect works inside the target's namespace.
    networkMode: i.networkMode ?? "none",
    binds: [`${i.dockerSocket ?? DEFAULT_DOCKER_SOCKET}:/var/run/docker.sock`],
    restartOnFailure: true,
    maxRestarts: GUARD_MAX_RESTARTS,
    // The controller may stop a guard that is still booting (an early revert right after a direct
    // apply): under an init, that SIGTERM ends it at once instead of waiting out the stop timeout.
    init: true,
  };
  if (i.capAdd) spec.capAdd = i.capAdd;
  const entrypoint = command?.entrypoint ?? i.entrypoint;
  if (entrypoint) spec.entrypoint = entrypoint;
  return spec;
}
