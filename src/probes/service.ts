// service probe: Swarm-native steady state, read from the cluster itself: every desired task
// of the service running (its container, where this node can see it, running and not paused),
// and with `healthy` every such container healthy.
import type { ClusterSnapshot } from "../engine/engine.js";
import type { DefaultedProbe } from "../api/types.js";
import type { CheckContext, CheckResult, ProbeRunner } from "./types.js";
import { errorText } from "./types.js";

/** Pure: is the service steady in this snapshot? */
export function judgeService(snap: ClusterSnapshot, name: string, healthy: boolean): CheckResult {
  const svc = snap.services.find((s) => s.name === name || s.id === name);
  if (!svc) return { ok: false, message: `service ${name} not found` };
  const tasks = snap.tasks.filter((t) => t.serviceId === svc.id && t.desiredState === "running");
  const desired = svc.mode === "replicated" ? (svc.replicas ?? 0) : tasks.length;
  if (desired === 0) return { ok: false, message: `service ${name} has no desired tasks (scaled to 0)` };
  const containers = new Map(snap.containers.map((c) => [c.id, c]));
  let running = 0;
  const unhealthy: string[] = [];
  const paused: string[] = [];
  for (const t of tasks) {
    if (t.state !== "running" || !t.containerId) continue;
    const c = containers.get(t.containerId);
    if (c && c.state !== "running") {
      if (c.state === "paused") paused.push(t.id.slice(0, 12));
      continue;
    }
    running++;
    if (healthy && c && (c.health ?? "healthy") !== "healthy") unhealthy.push(`${t.id.slice(0, 12)} ${c.health}`);
  }
  if (running < desired) {
    const more = paused.length ? ` (${paused.length} paused)` : "";
    return { ok: false, message: `service ${name}: ${running} of ${desired} tasks running${more}` };
  }
  if (unhealthy.length)
    return { ok: false, message: `service ${name}: ${unhealthy.length} task(s) not healthy: ${unhealthy.join(", ")}` };
  return { ok: true, message: `service ${name}: ${running} of ${desired} tasks running${healthy ? ", healthy" : ""}` };
}

export const serviceRunner: ProbeRunner = {
  async check(probe: DefaultedProbe, ctx: CheckContext): Promise<CheckResult> {
    const s = probe.service;
    if (!s) return { ok: false, message: "not a service probe" };
    try {
      return judgeService(await ctx.snapshot(), s.name, s.healthy);
    } catch (err) {
      return { ok: false, message: `service ${s.name}: could not read the cluster: ${errorText(err)}` };
    }
  },
};
