// suspend / resume: spec.suspend set through the store (a new generation the controller acts on
// in its next pass: suspended schedules start nothing and revert what they have active).
// `--all` is the kill switch: every schedule in the store at once.
import { Command } from "commander";
import { haltInForce } from "../probes/halt.js";
import { UsageError } from "../util/errors.js";
import { addAuditLogOption, CliAudit, type AuditLogOpts } from "./audit-option.js";
import type { CliContext } from "./output.js";
import { keyOf } from "./schedules.js";
import { addStoreOptions, withStore, type StoreOpts } from "./store-option.js";

interface Opts extends StoreOpts, AuditLogOpts {
  all?: boolean;
  namespace: string;
}

export function registerSuspension(
  program: Command,
  ctx: CliContext,
  verb: "suspend" | "resume",
  description: string,
  examples: string,
): void {
  const suspend = verb === "suspend";
  const cmd = program
    .command(verb)
    .description(description)
    .argument("[names...]", "schedule names (namespace/name or name)")
    .option("--all", suspend ? "every schedule in the store: the kill switch" : "every schedule in the store")
    .option("-n, --namespace <ns>", "namespace of the names", "default");
  addAuditLogOption(addStoreOptions(cmd))
    .addHelpText("after", examples)
    .action(async (names: string[], opts: Opts) => {
      if (opts.all && names.length) throw new UsageError(`give names or --all, not both`);
      if (!opts.all && names.length === 0)
        throw new UsageError(`${verb} needs NAME or --all (see chaosctl ${verb} --help)`);
      const audit = CliAudit.from(opts);
      try {
        await withStore(opts, async (store) => {
          let keys = names.map((n) => keyOf(n, opts.namespace));
          if (opts.all) {
            const snap = await store.list();
            keys = snap.manifests.map((m) => m.key).sort();
            for (const i of snap.invalid) {
              // The controller starts nothing from an invalid manifest; it cannot be patched either.
              if (i.key)
                ctx.io.stderr(
                  `warning: ${i.key} is invalid and was not ${suspend ? "suspended" : "resumed"} (it schedules nothing while invalid)\n`,
                );
            }
          }
          // A halted schedule (a probe aborted a run) needs more than suspend: false: resume records
          // when it was resumed, which lifts the halt.
          const halted = new Set<string>();
          if (!suspend) {
            const snap = await store.list();
            for (const m of snap.manifests) if (haltInForce(m.manifest.spec, m.status)) halted.add(m.key);
          }
          for (const key of keys) {
            const r = await store.patchSpec(
              key,
              halted.has(key) ? { suspend, abort: { resumedAt: new Date().toISOString() } } : { suspend },
            );
            const name = key.startsWith("default/") ? key.slice("default/".length) : key;
            if (r === "notfound") {
              ctx.io.stderr(`chaosctl: chaosschedule "${key}" not found\n`);
              ctx.exitCode = 1;
            } else {
              ctx.io.stdout(
                `chaosschedule/${name} ${r === "unchanged" ? `unchanged (already ${suspend ? "suspended" : "running"})` : suspend ? "suspended" : halted.has(key) ? "resumed (halt lifted)" : "resumed"}\n`,
              );
            }
            audit.add(verb, key, r === "configured" ? (suspend ? "suspended" : "resumed") : r);
          }
          if (opts.all && keys.length === 0) ctx.io.stdout("no schedules\n");
        });
      } finally {
        await audit.flush();
      }
    });
}
