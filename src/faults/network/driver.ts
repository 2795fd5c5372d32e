// network (durative): iptables loss and partition, tbf bandwidth, in the target's namespace.
// The spec is resolved by the controller (network/resolve.ts).
import { netnsDriver } from "../netns/driver.js";
import { networkInjection } from "./injection.js";
import type { ResolvedNetworkSpec } from "./spec.js";

export const networkDriver = netnsDriver<ResolvedNetworkSpec>("network", networkInjection);
