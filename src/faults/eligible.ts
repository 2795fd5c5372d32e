// Which labelled objects chaos may touch at all, one rule for the controller (selection) and the
// node agents (admission): never chaosctl's own controller or agents, never what is labelled
// chaosctl.io/protected=true, and in opt-in mode only what is labelled chaosctl.io/enabled=true.
import { L_ENABLED, L_PROTECTED, L_ROLE } from "../api/labels.js";

export interface EligibleOptions {
  /** Only objects labelled chaosctl.io/enabled=true (opt-in mode). */
  requireOptIn?: boolean;
}

/** Why the labels rule chaos out, or undefined when they allow it. */
export function ineligibleBecause(labels: Record<string, string>, opts: EligibleOptions = {}): string | undefined {
  if (labels[L_PROTECTED] === "true") return `protected (${L_PROTECTED}=true)`;
  const role = labels[L_ROLE];
  if (role === "controller" || role === "agent") return `chaosctl's own ${role}`;
  if (opts.requireOptIn && labels[L_ENABLED] !== "true") return `not opted in (${L_ENABLED}=true), required here`;
  return undefined;
}

export function eligible(labels: Record<string, string>, opts: EligibleOptions = {}): boolean {
  return ineligibleBecause(labels, opts) === undefined;
}
