// A resolved network spec -> what it wants in the target's namespace.
// - loss: random DROP in the egress chain (statistic match). Egress only, by design: a probe
//   and its answer then cross one lossy hop, so the observed round-trip drop rate equals the
//   probability, and ingress stays intact for the target's own healthchecks of the network.
// - partition: DROP to the addresses (egress chain, -d) and/or from them (ingress chain, -s).
// - bandwidth: a tbf leaf under the owned root, on egress (tc shapes what a device sends).
import type { InjectionKey } from "../netns/ids.js";
import type { NetnsInjection } from "../netns/plan.js";
import { InvalidNetworkSpec } from "../netns/errors.js";
import * as ipt from "../netns/iptables.js";
import * as v from "../netns/validate.js";
import type { ResolvedNetworkSpec } from "./spec.js";

export function tbfArgs(b: NonNullable<ResolvedNetworkSpec["bandwidth"]>): string[] {
  return ["rate", v.rate(b.rate), "burst", v.size(b.burst ?? "32kb"), "latency", v.time(b.latency ?? "400ms")];
}

export function networkInjection(key: InjectionKey, spec: ResolvedNetworkSpec): NetnsInjection {
  if (!spec.loss && !spec.partition && !spec.bandwidth) throw new InvalidNetworkSpec("network needs at least one of loss, partition, bandwidth");
  const egress: string[][] = [];
  const ingress: string[][] = [];
  if (spec.loss) egress.push(ipt.lossRule(spec.loss.probability));
  if (spec.partition) {
    const { cidrs, direction } = spec.partition;
    const targets: (string | undefined)[] = cidrs === undefined ? [undefined] : cidrs.map(v.cidr);
    if (direction === "to" || direction === "both") egress.push(...targets.map((c) => ipt.dropRule("to", c)));
    if (direction === "from" || direction === "both") ingress.push(...targets.map((c) => ipt.dropRule("from", c)));
  }
  return {
    key,
    dev: v.iface(spec.interface ?? "eth0"),
    ...(spec.bandwidth ? { leaf: { kind: "tbf" as const, args: tbfArgs(spec.bandwidth) } } : {}),
    egress,
    ingress,
  };
}
