// apply and diff against the Swarm store warn, as kubectl relays an API server's warnings, when a
// schedule's selector matches nothing in that cluster (a typo in a service name validates: the
// schema cannot know the cluster). A folder store is offline: the controller's TargetsFound
// condition, shown by get and describe, says it there.
import type { ChaosSchedule } from "../api/types.js";
import { targetsFound } from "../controller/targets.js";
import type { SelectorSpec } from "../controller/select.js";
import type { CliContext } from "./output.js";
import { keyOf } from "./schedules.js";
import { storeChoice, type StoreOpts } from "./store-option.js";

export async function warnUnmatchedSelectors(
  ctx: CliContext,
  opts: StoreOpts,
  manifests: readonly ChaosSchedule[],
): Promise<void> {
  if (storeChoice(opts).kind !== "swarm") return;
  const { DockerEngine } = await import("../engine/docker.js");
  const snap = await new DockerEngine().snapshot().catch(() => undefined);
  if (!snap) return; // the store call reports an unreachable engine
  for (const m of manifests) {
    const c = targetsFound(m.spec.selector as SelectorSpec, "node" in (m.spec.fault ?? {}), snap);
    if (c.status === "False") {
      const key = keyOf(m.metadata.name, m.metadata.namespace ?? "default");
      ctx.io.stderr(`Warning: ${key}: the selector matches nothing in this cluster: ${c.message}\n`);
    }
  }
}
