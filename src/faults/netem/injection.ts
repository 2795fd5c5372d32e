// A resolved netem spec -> what it wants in the target's namespace: one netem leaf under the
// owned root, steered by filters to `to` (or all traffic). No iptables part.
import type { InjectionKey } from "../netns/ids.js";
import type { NetnsInjection } from "../netns/plan.js";
import * as v from "../netns/validate.js";
import { netemArgs } from "./args.js";
import type { ResolvedNetemSpec } from "./spec.js";

export function netemInjection(key: InjectionKey, spec: ResolvedNetemSpec): NetnsInjection {
  return {
    key,
    dev: v.iface(spec.interface ?? "eth0"),
    leaf: { kind: "netem", args: netemArgs(spec) },
    ...(spec.to
      ? {
          to: {
            ...(spec.to.cidrs ? { cidrs: spec.to.cidrs.map(v.cidr) } : {}),
            ports: spec.to.ports.map((p) => Number(v.port(p))),
          },
        }
      : {}),
    egress: [],
    ingress: [],
  };
}
