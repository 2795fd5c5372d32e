// Node faults as the cluster shows them without their guard (pure): a node labelled by a drain or
// pause whose guard is gone (removed by hand, its manager lost) is still an injection. Turned into
// a guardless handle, the controller adopts it and, at expiry, recover() restores the node from its
// labels; `audit` sees the same owner. Nodes whose run still has a guard are left to the guard.
import type { NodeInfo } from "../../engine/engine.js";
import type { InjectionHandle } from "../driver.js";
import {
  L_EXPIRES,
  L_GENERATION,
  L_INSTANCE,
  L_NODE_ACTION,
  L_NODE_ORIGINAL_AVAILABILITY,
  L_RUN,
  L_SCHEDULE,
} from "../../api/labels.js";
import type { NodeGuardSpec } from "./spec.js";

/** `managerNodeId`: where a direct restore runs (the controller's own engine). */
export function orphanNodeHandles(
  nodes: readonly NodeInfo[],
  guards: readonly InjectionHandle[],
  managerNodeId: string,
  now?: Date,
): InjectionHandle[] {
  const guarded = new Set(guards.filter((h) => h.fault === "node").map((h) => `${h.owner.schedule}\n${h.owner.run}`));
  const out: InjectionHandle[] = [];
  for (const n of nodes) {
    const l = n.labels;
    const schedule = l[L_SCHEDULE];
    const run = l[L_RUN];
    const action = l[L_NODE_ACTION];
    if (
      l[L_NODE_ORIGINAL_AVAILABILITY] === undefined ||
      !schedule ||
      !run ||
      (action !== "drain" && action !== "pause")
    )
      continue;
    if (guarded.has(`${schedule}\n${run}`)) continue;
    const expires = l[L_EXPIRES] ? new Date(l[L_EXPIRES]) : undefined;
    const valid = expires && !Number.isNaN(expires.getTime());
    const spec: NodeGuardSpec = {
      action,
      owner: {
        schedule,
        run,
        generation: Number(l[L_GENERATION] ?? 0),
        ...(l[L_INSTANCE] ? { instance: l[L_INSTANCE] } : {}),
        expires: valid ? expires.toISOString() : new Date(0).toISOString(),
      },
    };
    out.push({
      fault: "node",
      owner: {
        schedule,
        generation: spec.owner.generation,
        run,
        ...(valid ? { expires } : {}),
        ...(l[L_INSTANCE] ? { instance: l[L_INSTANCE] } : {}),
      },
      target: { kind: "node", nodeId: n.id, nodeHostname: n.hostname },
      guardNodeId: managerNodeId,
      spec,
      ...(now && valid ? { expired: now.getTime() >= expires.getTime() } : {}),
    });
  }
  return out;
}
