// Safety budgets across all schedules (docs/controller.md, "Selection and safety"). Pure.
//
// A service's "unavailable" count is what it lacks of its desired running tasks plus the
// running tasks that are faulted right now (a paused container is "running" to Swarm).
import type { ClusterSnapshot, ServiceInfo } from "../engine/engine.js";
import type { FaultKind, InjectionHandle, Target } from "../faults/driver.js";
import { isRunningTask } from "./select.js";

export function desiredTasks(svc: ServiceInfo, snap: ClusterSnapshot): number {
  if (svc.mode === "replicated") return svc.replicas ?? 0;
  return snap.tasks.filter((t) => t.serviceId === svc.id && t.desiredState === "running").length;
}

export function runningTasks(serviceId: string, snap: ClusterSnapshot): number {
  return snap.tasks.filter((t) => t.serviceId === serviceId && isRunningTask(t)).length;
}

/** "2" → 2; "50%" → floor(50% of desired). Undefined: no budget. */
export function maxUnavailableFor(value: number | string | undefined, desired: number): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value;
  const m = /^(\d+)%$/.exec(value.trim());
  if (m) return Math.floor((desired * Number(m[1])) / 100);
  const n = Number(value);
  return Number.isFinite(n) ? Math.floor(n) : undefined;
}

/** Network fault kinds that compose on one container (docs/network-faults.md). */
const COMPOSABLE: ReadonlySet<FaultKind> = new Set<FaultKind>(["netem", "network"]);

/** Per service: tasks missing + running tasks faulted by active injections (any schedule). */
export class UnavailabilityLedger {
  private readonly faulted = new Map<string, Set<string>>();
  /** Task id → the fault kinds on it now (or planned in this pass). */
  private readonly kinds = new Map<string, Set<FaultKind>>();

  constructor(
    private readonly snap: ClusterSnapshot,
    injections: readonly InjectionHandle[],
  ) {
    const running = new Set(snap.tasks.filter(isRunningTask).map((t) => t.id));
    for (const h of injections) {
      const { serviceId, taskId } = h.target;
      if (serviceId && taskId && running.has(taskId)) {
        this.add(serviceId, taskId, h.fault);
        this.holders.set(taskId, h.owner.schedule);
      }
    }
  }

  private add(serviceId: string, taskId: string, fault?: FaultKind): void {
    const set = this.faulted.get(serviceId) ?? new Set<string>();
    set.add(taskId);
    this.faulted.set(serviceId, set);
    if (fault) this.kinds.set(taskId, (this.kinds.get(taskId) ?? new Set<FaultKind>()).add(fault));
  }

  /**
   * May `fault` be added to this already faulted task? Network faults compose (a netem delay and
   * a network bandwidth cap on one container both take effect, each revertable alone), so a
   * network fault may join a task that carries only network faults of the other kind. The task
   * already counts as unavailable: stacking costs no budget. Anything else never stacks.
   */
  canStack(taskId: string | undefined, fault: FaultKind): boolean {
    const on = taskId ? this.kinds.get(taskId) : undefined;
    if (!on || on.size === 0 || !COMPOSABLE.has(fault) || on.has(fault)) return false;
    return [...on].every((k) => COMPOSABLE.has(k));
  }

  unavailable(svc: ServiceInfo): number {
    const missing = Math.max(0, desiredTasks(svc, this.snap) - runningTasks(svc.id, this.snap));
    return missing + (this.faulted.get(svc.id)?.size ?? 0);
  }

  /** Is this task faulted now (by any schedule, or chosen earlier in this pass)? */
  isFaulted(serviceId: string | undefined, taskId: string | undefined): boolean {
    return !!serviceId && !!taskId && !!this.faulted.get(serviceId)?.has(taskId);
  }

  /** Faulted running tasks of a service (to keep one task untouched by default). */
  faultedRunning(serviceId: string): number {
    return this.faulted.get(serviceId)?.size ?? 0;
  }

  /** Which schedule holds each faulted task (injections, and runs planned in this pass). */
  private readonly holders = new Map<string, string>();

  /** Records `schedule` as the holder of these targets (for messages that say who holds what). */
  hold(targets: readonly Target[], schedule: string): void {
    for (const t of targets) if (t.taskId) this.holders.set(t.taskId, schedule);
  }

  /** The schedule holding this task, when known. */
  holderOf(taskId: string): string | undefined {
    return this.holders.get(taskId);
  }

  /** Count targets planned in this pass, so later schedules see them. */
  commit(targets: readonly Target[], fault?: FaultKind): void {
    for (const t of targets) if (t.serviceId && t.taskId) this.add(t.serviceId, t.taskId, fault);
  }
}
