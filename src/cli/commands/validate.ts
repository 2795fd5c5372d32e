// chaosctl validate -f FILE|DIR|- [-f ...] [-o json]: offline lint for CI in GitOps repos.
// Exit 0 when every manifest is valid, 2 when anything is not (including files that cannot
// be read). Problems go to stdout: they are this verb's result.
import { Command, Option } from "commander";
import { allProblems, loadPaths } from "../../api/load.js";
import { formatProblem } from "../../api/problems.js";
import { UsageError } from "../../util/errors.js";
import { plural, toJson, type CliContext } from "../output.js";

const EXAMPLES = `
Examples:
  chaosctl validate -f manifests/                # every .yaml/.yml below, recursively
  chaosctl validate -f a.yaml -f b.yaml -o json  # machine-readable, for CI annotations
  cat schedule.yaml | chaosctl validate -f -     # from stdin

Each problem is printed as  FILE:LINE:COLUMN: PATH: MESSAGE [RULE]
A Docker stack (compose) file among the manifests is skipped, with a note (FILE:LINE: note: ...).
Exit codes: 0 all valid, 2 any problem (including a file that cannot be read).`;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("validate")
    .description("check ChaosSchedule manifests offline: schema, semantic rules, duplicates")
    .option("-f, --filename <path>", "file, directory (recursive) or - for stdin; repeatable", collect)
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", EXAMPLES)
    .action(async (opts: { filename?: string[]; output: "text" | "json" }) => {
      if (!opts.filename)
        throw new UsageError("validate needs at least one -f FILE|DIR|- (see chaosctl validate --help)");
      const result = await loadPaths(opts.filename, { stdin: ctx.io.stdin });
      const problems = allProblems(result);
      const manifests = result.documents.flatMap((d) =>
        d.manifest && d.key ? [{ key: d.key, file: d.file, line: d.line }] : [],
      );
      const valid = problems.length === 0;
      const skipped = result.skipped.map((s) => ({ file: s.file, line: s.line, reason: s.reason }));
      if (opts.output === "json") {
        // `skipped` appears only when something was skipped, so existing consumers see no change.
        const json = { valid, files: result.files.length, manifests, problems, ...(skipped.length ? { skipped } : {}) };
        ctx.io.stdout(toJson(json));
      } else {
        for (const s of skipped) ctx.io.stdout(`${s.file}:${s.line}: note: ${s.reason}\n`);
        for (const p of problems) ctx.io.stdout(formatProblem(p) + "\n");
        const skips = skipped.length > 0 ? `, ${plural(skipped.length, "stack file")} skipped` : "";
        const checked = `${plural(result.files.length, "file")}, ${plural(manifests.length, "valid manifest")}${skips}`;
        const bad = new Set(problems.map((p) => p.file)).size;
        ctx.io.stdout(
          valid ? `ok: ${checked}\n` : `${plural(problems.length, "problem")} in ${plural(bad, "file")} (${checked})\n`,
        );
      }
      ctx.exitCode = valid ? 0 : 2;
    });
}
