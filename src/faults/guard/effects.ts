// Guard effects by fault kind. Network faults add theirs here.
import type { FaultKind } from "../driver.js";
import { pauseEffect } from "../pause/effect.js";
import { netemEffect } from "../netem/effect.js";
import { networkEffect } from "../network/effect.js";
import { nodeEffect } from "../node/effect.js";
import { stressEffect } from "../stress/effect.js";
import type { GuardEffectFactory } from "./effect.js";

export const guardEffects: Partial<Record<FaultKind, GuardEffectFactory>> = {
  pause: pauseEffect,
  netem: netemEffect,
  network: networkEffect,
  node: nodeEffect,
  stress: stressEffect,
};
