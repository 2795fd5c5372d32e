// chaosctl apply -f FILE|DIR|- [-R] [--dry-run]: create or update schedules, like kubectl apply.
// All input is loaded and validated before anything is written: one bad document rejects the
// whole apply (exit 2) with every problem located.
import { Command } from "commander";
import { warnUnmatchedSelectors } from "../targets-warning.js";
import { scheduleKey } from "../../api/types.js";
import { addAuditLogOption, CliAudit, type AuditLogOpts } from "../audit-option.js";
import { collect, loadFiles, rejectIfInvalid } from "../files.js";
import type { CliContext } from "../output.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { InvalidInputError } from "../../util/errors.js";

const EXAMPLES = `
Examples:
  chaosctl apply -f web-kill.yaml --store swarm       # into the cluster's Swarm config store
  chaosctl apply -f manifests/ -R --dir /srv/chaos    # a folder, recursively, into a directory store
  chaosctl apply -f manifests/ --dry-run --store swarm
  cat web-kill.yaml | chaosctl apply -f - --store swarm

Prints chaosschedule/<name> created | configured | unchanged per object. A spec change is a new
generation (the controller schedules it again); labels or annotations alone are "configured"
without one. Who applied it (user@host) is recorded on the object for chaosctl audit.
Exit codes: 0 applied, 1 a store write failed, 2 invalid input (nothing applied) or usage.`;

interface Opts extends StoreOpts, AuditLogOpts {
  filename?: string[];
  recursive?: boolean;
  dryRun?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("apply")
    .description("create or update ChaosSchedules from files (like kubectl apply)")
    .option("-f, --filename <path>", "file, directory or - for stdin; repeatable", collect)
    .option("-R, --recursive", "process directories recursively")
    .option("--dry-run", "say what would happen, change nothing");
  addAuditLogOption(addStoreOptions(cmd))
    .addHelpText("after", EXAMPLES)
    .action(async (opts: Opts) => {
      const loaded = await loadFiles(ctx, opts.filename, !!opts.recursive);
      rejectIfInvalid(ctx, loaded, "applied");
      if (loaded.manifests.length === 0) throw new InvalidInputError("no objects passed to apply");
      const audit = CliAudit.from(opts, !!opts.dryRun);
      const suffix = opts.dryRun ? " (dry run)" : "";
      try {
        await warnUnmatchedSelectors(
          ctx,
          opts,
          loaded.manifests.map((m) => m.manifest),
        );
        await withStore(opts, async (store) => {
          for (const { manifest, file } of loaded.manifests) {
            const out = await store.apply(manifest, { dryRun: !!opts.dryRun });
            ctx.io.stdout(`chaosschedule/${manifest.metadata.name} ${out.result}${suffix}\n`);
            audit.add("apply", scheduleKey(manifest), out.result, {
              generation: out.generation,
              message: `from ${file}`,
            });
          }
        });
      } finally {
        await audit.flush();
      }
    });
}
