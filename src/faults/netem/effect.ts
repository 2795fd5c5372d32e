// netem inside a guard sharing the target's namespace (registered in faults/guard/effects.ts).
import { netnsEffect } from "../netns/effect.js";
import { netemInjection } from "./injection.js";
import type { ResolvedNetemSpec } from "./spec.js";

export const netemEffect = netnsEffect<ResolvedNetemSpec>("netem", netemInjection);
