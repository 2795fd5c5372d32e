// chaosctl guard (hidden): the process inside a guard container. It applies one durative fault
// to one container of its own node, holds it until --until (or --hold from its applied moment),
// reverts, exits 0; on SIGTERM/SIGINT it reverts at once. Started by fault drivers
// (faults/guard/driver.ts), not by people.
import type { Command } from "commander";
import { DockerEngine } from "../../engine/docker.js";
import { parseGuardArgs, type RawGuardArgs } from "../../faults/guard/args.js";
import { guardEffects } from "../../faults/guard/effects.js";
import { runGuard } from "../../faults/guard/runtime.js";
import { preludeAppliedAt, takeOverFromPrelude } from "../../faults/netns/prelude-state.js";
import { createLogger } from "../../util/log.js";
import type { CliContext } from "../output.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("guard", { hidden: true })
    .description("enforce one durative fault on one container until a deadline (runs inside a guard container)")
    .requiredOption("--fault <kind>", "fault kind (pause, ...)")
    .requiredOption("--target <container>", "target container id on this node")
    .requiredOption("--until <time>", "RFC 3339 expiry: revert at this time")
    .option("--spec <json>", "the fault's spec as JSON")
    .option("--hold <ms>", "hold this long from the moment the fault was applied (at most 1 s past --until)")
    .action(async (raw: RawGuardArgs) => {
      const args = parseGuardArgs(raw);
      const log = createLogger().child({ role: "guard" });
      const stop = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        log.info({ event: "signal", signal: sig }, "signal received");
        stop.abort();
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      // A network guard's prelude applied already and was stopped while this verb loaded: its
      // revert is under way and ends the process; applying again would race it.
      const preludeReverting = takeOverFromPrelude();
      if (preludeReverting) {
        await preludeReverting;
        return;
      }
      try {
        ctx.exitCode = await runGuard(args, {
          engine: new DockerEngine(),
          log,
          now: () => new Date(),
          effects: guardEffects,
          stop: stop.signal,
          appliedAt: preludeAppliedAt,
        });
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    });
}
