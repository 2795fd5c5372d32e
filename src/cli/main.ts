#!/usr/bin/env node
// The chaosctl bin. One file per verb under commands/, listed in verbs.ts and imported only
// when that verb runs (cold start); one catch maps every error to an exit code (0 ok,
// 1 failure, 2 usage or invalid input), never a stack trace unless CHAOSCTL_DEBUG=1.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { exitCodeOf } from "../util/errors.js";
import { processIO, type CliContext, type CliIO } from "./output.js";
import { VERBS, verbOf, verbTerm } from "./verbs.js";
import { packageVersion } from "./version.js";

function verbTermOf(cmd: Command): string {
  const v = VERBS.find((x) => x.name === cmd.name());
  if (v) return verbTerm(v);
  const args = cmd.registeredArguments
    .map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? "..." : ""}]`))
    .join(" ");
  return `${cmd.name()}${cmd.options.length ? " [options]" : ""}${args ? " " + args : ""}`;
}

const HELP = `
Examples:
  chaosctl apply -f manifests/ --dir /srv/chaos   # into a directory store (GitOps folder)
  chaosctl apply -f web-kill.yaml --store swarm   # into the cluster (Swarm configs, DOCKER_HOST)
  chaosctl get --store swarm                      # schedules and their phase
  chaosctl get active --store swarm               # what is injected right now
  chaosctl suspend --all --store swarm            # the kill switch
  chaosctl audit --store swarm                    # injected chaos and its owners; exit 1 on orphans
  chaosctl validate -f manifests/          # lint manifests offline (CI in a GitOps repo)
  chaosctl schema > chaosschedule.schema.json
  chaosctl <command> --help                # examples for each command

Exit codes: 0 ok, 1 failure, 2 usage error or invalid input.`;

/**
 * The program for `argv`: the verb it names is fully registered (its module imported); every
 * other verb is a name and a description, enough for the full help.
 */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command("chaosctl")
    .description("Declarative chaos for Docker Swarm: ChaosSchedule manifests reconciled against a real Swarm")
    .version(packageVersion(), "--version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", HELP)
    // The verbs not loaded are stubs: name them with their usage as if they were.
    .configureHelp({ subcommandTerm: (cmd) => verbTermOf(cmd) });
  const wanted = verbOf(argv);
  for (const verb of VERBS) {
    if (verb === wanted) (await verb.load()).register(program, ctx);
    else
      program
        .command(verb.name, verb.hidden ? { hidden: true } : {})
        .description(verb.description)
        .helpOption(false);
  }
  // Verbs may build their own Command and addCommand() it, which does not inherit settings:
  // apply the output and exit handling to every command in the tree.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs chaosctl with `argv` (without node and script); resolves to the exit code. */
export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  try {
    const program = await buildProgram(ctx, argv);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (or the help / version).
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`chaosctl: ${message}\n`);
    if (process.env.CHAOSCTL_DEBUG === "1" && err instanceof Error && err.stack) io.stderr(err.stack + "\n");
    return exitCodeOf(err);
  }
}

function invokedAsScript(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedAsScript()) {
  // `chaosctl schema | head`: a closed pipe ends the output, not in a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`chaosctl: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
