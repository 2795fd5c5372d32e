// A resolved network spec -> what it wants in the target's namespace.
// - loss: random DROP in the egress chain (statistic match). Egress only, by design: a probe
//   and its answer then cross one lossy hop, so the observed round-trip drop rate equals the
//   probability, and ingress stays intact for the target's own healthchecks of the network.
// - partition: DROP to the addresses (egress chain, -d) and/or from them (ingress chain, -s).
// - bandwidth: all egress of the interface (tc shapes what a device sends) is capped by the
//   shared htb cap class; the injection owns a tbf leaf that records its rate, burst and
//   latency, from which the cap is derived (netns/tc.ts, netns/shared.ts). A netem fault on
//   the same container is shaped by the same cap, so both take effect.
import type { InjectionKey } from "../netns/ids.js";
import type { NetnsInjection } from "../netns/plan.js";
import { InvalidNetworkSpec } from "../netns/errors.js";
import * as ipt from "../netns/iptables.js";
import * as v from "../netns/validate.js";
import { rateBytes, sizeBytes, timeUs } from "../netns/units.js";
import type { LeafQdisc } from "../netns/tc.js";
import type { ResolvedNetworkSpec } from "./spec.js";

type Bandwidth = NonNullable<ResolvedNetworkSpec["bandwidth"]>;

export function tbfArgs(b: Bandwidth): string[] {
  return ["rate", v.rate(b.rate), "burst", v.size(b.burst ?? "32kb"), "latency", v.time(b.latency ?? "400ms")];
}

export function bandwidthLeaf(b: Bandwidth): LeafQdisc {
  const args = tbfArgs(b);
  return {
    kind: "tbf",
    args,
    cap: {
      rateBytes: rateBytes(b.rate),
      burstBytes: sizeBytes(b.burst ?? "32kb"),
      latencyUs: timeUs(b.latency ?? "400ms"),
    },
  };
}

export function networkInjection(key: InjectionKey, spec: ResolvedNetworkSpec): NetnsInjection {
  if (!spec.loss && !spec.partition && !spec.bandwidth)
    throw new InvalidNetworkSpec("network needs at least one of loss, partition, bandwidth");
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
    ...(spec.bandwidth ? { leaf: bandwidthLeaf(spec.bandwidth) } : {}),
    egress,
    ingress,
  };
}
