// What a node guard is: a regular guard container (faults/guard; the guard client starts, waits for
// and disposes of it) whose --target is a node id and whose --spec is a NodeGuardSpec.
import type { HelperSpec } from "../../engine/engine.js";
import type { DriverContext, Owner, Target } from "../driver.js";
import { guardHelperSpec } from "../guard/spec.js";
import type { NodeGuardSpec } from "./spec.js";
import { NETNS_GUARD_ENTRYPOINT } from "../netns/guard-spec.js";
import { netnsGuardCommand } from "../netns/shell-prelude.js";

export function nodeGuardSpec(
  ctx: DriverContext,
  target: Target,
  spec: NodeGuardSpec,
  owner: Owner,
  until: Date,
): HelperSpec {
  const partition = spec.action === "partition";
  return guardHelperSpec({
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
    // partition: the node's own namespace, applied by the guard's shell prelude (one
    // iptables-restore, netns/shell-prelude.ts) before Node.js starts, then adopted by Node.js's
    // (netns/prelude.ts). drain/pause: only the mounted manager socket, the Node.js guard.
    ...(partition
      ? { networkMode: "host", capAdd: ["NET_ADMIN"], entrypoint: NETNS_GUARD_ENTRYPOINT, command: netnsGuardCommand }
      : {}),
  });
}
