// netem (durative): delay, loss, duplicate, corrupt, reorder, rate on the target's egress,
// optionally only towards `to`. The spec is resolved by the controller (network/resolve.ts).
import { netnsDriver } from "../netns/driver.js";
import { netemInjection } from "./injection.js";
import type { ResolvedNetemSpec } from "./spec.js";

export const netemDriver = netnsDriver<ResolvedNetemSpec>("netem", netemInjection);
