// chaosctl delete NAME... | -f FILE|DIR|-: remove schedules. The controller reverts what a
// deleted schedule still has injected on its next pass.
import { Command } from "commander";
import { UsageError } from "../../util/errors.js";
import { addAuditLogOption, CliAudit, type AuditLogOpts } from "../audit-option.js";
import { collect, loadFiles } from "../files.js";
import type { CliContext } from "../output.js";
import { keyOf } from "../schedules.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { formatProblem } from "../../api/problems.js";
import type { StoreSnapshot } from "../../store/store.js";

const EXAMPLES = `
Examples:
  chaosctl delete web-kill --store swarm
  chaosctl delete -f web-kill.yaml --store swarm     # the schedules that file defines
  chaosctl delete team-a/db-loss --dir manifests/    # namespace/name
  chaosctl delete web-kill --ignore-not-found --store swarm

Deleting a schedule stops it: the controller reverts its active injections on its next pass.
With -f, names are read from the files (a document only needs a readable metadata.name).
Exit codes: 0 deleted, 1 a schedule was not found (unless --ignore-not-found) or a write failed, 2 usage.`;

interface Opts extends StoreOpts, AuditLogOpts {
  filename?: string[];
  recursive?: boolean;
  ignoreNotFound?: boolean;
  dryRun?: boolean;
  namespace: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("delete")
    .description("delete schedules by name or by file")
    .argument("[names...]", "schedule names (namespace/name or name)")
    .option("-f, --filename <path>", "delete the schedules these files define; repeatable", collect)
    .option("-R, --recursive", "process directories recursively")
    .option("-n, --namespace <ns>", "namespace of the names", "default")
    .option("--ignore-not-found", "a schedule that does not exist is not an error")
    .option("--dry-run", "say what would be deleted, change nothing");
  addAuditLogOption(addStoreOptions(cmd))
    .addHelpText("after", EXAMPLES)
    .action(async (names: string[], opts: Opts) => {
      if (names.length && opts.filename) throw new UsageError("give names or -f, not both");
      let keys = names.map((n) => keyOf(n, opts.namespace));
      if (opts.filename) {
        const loaded = await loadFiles(ctx, opts.filename, !!opts.recursive);
        const unnamed = loaded.documents.filter((d) => !d.key);
        const fileLevel = loaded.problems.filter((p) => p.line === 0);
        if (unnamed.length || fileLevel.length) {
          for (const p of [...fileLevel, ...unnamed.flatMap((d) => d.problems.slice(0, 1))])
            ctx.io.stderr(formatProblem(p) + "\n");
          throw new UsageError("cannot read the name of every object in these files: nothing deleted");
        }
        keys = [...new Set(loaded.documents.flatMap((d) => (d.key ? [d.key] : [])))];
      }
      if (keys.length === 0) throw new UsageError("delete needs NAME or -f FILE (see chaosctl delete --help)");
      const audit = CliAudit.from(opts, !!opts.dryRun);
      try {
        await withStore(opts, async (store) => {
          const before = await store.list();
          for (const key of keys) {
            const where = whereText(before, key, !!opts.dryRun);
            const result = await store.delete(key, { dryRun: !!opts.dryRun });
            const name = key.startsWith("default/") ? key.slice("default/".length) : key;
            if (result === "deleted")
              ctx.io.stdout(
                `chaosschedule/${name} deleted${opts.dryRun ? " (dry run)" : ""}${where ? `: ${where}` : ""}\n`,
              );
            else if (!opts.ignoreNotFound) {
              ctx.io.stderr(`chaosctl: chaosschedule "${key}" not found\n`);
              ctx.exitCode = 1;
            }
            audit.add("delete", key, result);
          }
        });
      } finally {
        await audit.flush();
      }
    });
}

/**
 * What a delete removes from a folder store, in words: the file when the document was alone in
 * it (its comments go with it), else the one document cut out of it. "" for the Swarm store,
 * where the schedule is its own config.
 */
function whereText(snap: StoreSnapshot, key: string, dryRun: boolean): string {
  const all = [...snap.manifests, ...snap.invalid];
  const source = all.find((m) => m.key === key)?.source;
  if (source?.store !== "dir") return "";
  const inFile = all.filter((m) => m.source.store === "dir" && m.source.file === source.file).length;
  if (inFile <= 1) return `${dryRun ? "would remove" : "removed"} file ${source.file} (its only document)`;
  return `${dryRun ? "would cut" : "cut"} document ${source.index + 1} of ${inFile} from ${source.file} (line ${source.line}); the others and their comments kept`;
}
