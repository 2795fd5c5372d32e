// chaosctl report: the runs of a window as a self-contained HTML page (inline SVG timeline), as
// Markdown for a pull request comment, or as JSON for scripts. Read-only: it reads the store.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, Option } from "commander";
import { parseDuration } from "../../api/duration.js";
import { overview } from "../../insight/model.js";
import { reportHtml, reportJson, reportMarkdown } from "../../insight/report.js";
import { UsageError } from "../../util/errors.js";
import type { CliContext } from "../output.js";
import { toJson } from "../output.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { warnInvalid } from "../invalid.js";

const EXAMPLES = `
Examples:
  chaosctl report --dir manifests/ -o html > game-day.html    # attach to the ticket
  chaosctl report --store swarm --since 7d -o md             # for a pull request comment
  chaosctl report --workdir /var/lib/chaosctl/git --path chaos/ -o json | jq .services
                                                             # a git store: the controller's working copy

Figures are those of each schedule's status (what describe shows): recoverySeconds, verdicts,
resilienceScore. Recovery percentiles are nearest-rank over the runs of the window.
Exit codes: 0 ok, 1 unreachable store, 2 usage.`;

interface Opts extends StoreOpts {
  since: string;
  output: "html" | "md" | "json";
  file?: string;
  workdir?: string;
  path: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("report")
    .description("a report of recent runs: timeline, recovery per service, verdicts, aborts, scores")
    .addOption(new Option("-o, --output <format>", "html, md or json").choices(["html", "md", "json"]).default("html"))
    .option("--since <duration>", 'runs started within this long before now (e.g. 24h, 7d; "all": every run)', "24h")
    .option("--file <path>", "write the report to this file instead of stdout")
    .option("--workdir <dir>", "read a git store's working copy (the controller's --workdir) instead of --dir")
    .option("--path <path>", "with --workdir: the manifests' folder inside the repository", ".");
  addStoreOptions(cmd)
    .addHelpText("after", EXAMPLES)
    .action(async (opts: Opts) => {
      const now = new Date();
      let since: number | undefined;
      if (opts.since !== "all") {
        try {
          since = now.getTime() - parseDuration(opts.since);
        } catch (e) {
          throw new UsageError(`--since: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (opts.workdir) {
        if (opts.dir || opts.store === "swarm") throw new UsageError("--workdir names the store: no --dir or --store");
        opts.dir = join(opts.workdir, "repo", opts.path); // where the git store keeps its checkout
      }
      const listed = await withStore(opts, (store) => store.list());
      warnInvalid(ctx, listed.invalid);
      const r = overview({ manifests: listed.manifests, now, ...(since !== undefined ? { since } : {}) });
      const text =
        opts.output === "json" ? toJson(reportJson(r)) : opts.output === "md" ? reportMarkdown(r) : reportHtml(r, now);
      if (opts.file) await writeFile(opts.file, text);
      else ctx.io.stdout(text);
    });
}
