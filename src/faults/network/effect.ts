// network inside a guard sharing the target's namespace (registered in faults/guard/effects.ts).
import { netnsEffect } from "../netns/effect.js";
import { networkInjection } from "./injection.js";
import type { ResolvedNetworkSpec } from "./spec.js";

export const networkEffect = netnsEffect<ResolvedNetworkSpec>("network", networkInjection);
