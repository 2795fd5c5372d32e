// chaosctl suspend NAME...|--all (the kill switch).
import type { Command } from "commander";
import type { CliContext } from "../output.js";
import { registerSuspension } from "../suspension.js";

const EXAMPLES = `
Examples:
  chaosctl suspend web-kill --store swarm
  chaosctl suspend --all --store swarm          # the kill switch: every schedule, cluster-wide
  chaosctl suspend --all --dir manifests/

A suspended schedule starts nothing, and a running controller reverts what it has active on its
next pass (no need to wait for expiries). Undo with chaosctl resume.
Exit codes: 0 done, 1 a schedule was not found or a write failed, 2 usage.`;

export function register(program: Command, ctx: CliContext): void {
  registerSuspension(
    program,
    ctx,
    "suspend",
    "suspend a schedule, or every schedule with --all (the kill switch)",
    EXAMPLES,
  );
}
