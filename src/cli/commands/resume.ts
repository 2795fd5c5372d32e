// chaosctl resume NAME...|--all.
import type { Command } from "commander";
import type { CliContext } from "../output.js";
import { registerSuspension } from "../suspension.js";

const EXAMPLES = `
Examples:
  chaosctl resume web-kill --store swarm
  chaosctl resume --all --store swarm           # undo the kill switch

Resuming is a new generation: an "@once" schedule fires once more; cron and @every schedules
continue from the next time due. Exit codes: 0 done, 1 a schedule was not found or a write failed, 2 usage.`;

export function register(program: Command, ctx: CliContext): void {
  registerSuspension(program, ctx, "resume", "resume a suspended schedule, or every schedule with --all", EXAMPLES);
}
