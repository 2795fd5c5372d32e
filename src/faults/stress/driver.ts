// stress (durative): CPU, memory, IO and disk pressure inside the target's own cgroup, for
// spec.duration. Enforced by a guard container (faults/guard) that starts the stress helper and
// fills the disk, and takes both back at expiry; stress-ng also ends by itself at the expiry.
import type { Engine, HelperSpec } from "../../engine/engine.js";
import { ContainerNotFound } from "../../engine/errors.js";
import type { FaultDriver, Owner, Target } from "../driver.js";
import { guardedDriver } from "../guard/driver.js";
import { requireContainer } from "../instant.js";
import { L_EXPIRES, L_FAULT, L_INSTANCE, L_ROLE, L_RUN, L_SCHEDULE, L_TARGET } from "../../api/labels.js";
import { toolHelper } from "./effect.js";
import {
  DEFAULT_STRESS_IMAGE,
  fillPath,
  hasStressor,
  helperName,
  stressId,
  unwrap,
  type StressGuardSpec,
  type StressSpec,
} from "./spec.js";

async function stressorRunning(engine: Engine, g: StressGuardSpec): Promise<boolean> {
  try {
    return (await engine.inspectContainer(helperName(g.id))).state === "running";
  } catch (err) {
    if (err instanceof ContainerNotFound) return false;
    throw err;
  }
}

/** Is the fill file there? Asked through a one-shot helper in the target's PID namespace. */
async function fillPresent(engine: Engine, target: Target, g: StressGuardSpec): Promise<boolean> {
  if (!g.spec.disk) return false;
  const c = await engine.inspectContainer(requireContainer(target)); // ContainerNotFound: gone
  if (c.state !== "running") return false;
  const hs: HelperSpec = toolHelper(g, c.id, "test", ["-e", fillPath(g.spec.disk.path ?? "/tmp", g.id)]);
  return (await engine.runHelper(hs, 30_000)).exitCode === 0;
}

async function targetExists(engine: Engine, target: Target): Promise<void> {
  await engine.inspectContainer(requireContainer(target));
}

export function stressDriver(image: string = DEFAULT_STRESS_IMAGE): FaultDriver<StressSpec> {
  const guarded = guardedDriver<StressGuardSpec>({
    kind: "stress",
    // In effect when every part is: the stressor runs and the fill file exists.
    async inEffect(engine, target, spec) {
      const g = unwrap(spec);
      await targetExists(engine, target);
      if (hasStressor(g.spec) && !(await stressorRunning(engine, g))) return false;
      if (g.spec.disk && !(await fillPresent(engine, target, g))) return false;
      return true;
    },
    // Reverted when no part is left.
    async leftover(engine, target, spec) {
      const g = unwrap(spec);
      if (await stressorRunning(engine, g)) return true;
      return fillPresent(engine, target, g);
    },
  });
  return {
    ...guarded,
    apply(ctx, target, spec, owner) {
      return guarded.apply(ctx, target, guardSpec(image, target, spec, owner), owner);
    },
  };
}

/** What the guard enforces: the user's spec, the image, the run's id and expiry, the owner labels. */
export function guardSpec(image: string, target: Target, spec: StressSpec, owner: Owner): StressGuardSpec {
  const labels: Record<string, string> = {
    [L_ROLE]: "helper",
    [L_SCHEDULE]: owner.schedule,
    [L_RUN]: owner.run,
    [L_FAULT]: "stress",
  };
  if (owner.expires) labels[L_EXPIRES] = owner.expires.toISOString();
  if (owner.instance) labels[L_INSTANCE] = owner.instance;
  if (target.containerId) labels[L_TARGET] = target.containerId;
  return {
    image,
    id: stressId(owner, target),
    until: (owner.expires ?? new Date(0)).toISOString(),
    labels,
    spec,
  };
}
