// chaosctl controller --dir DIR [--once]: the reconcile loop.
import { access } from "node:fs/promises";
import { Command, Option } from "commander";
import { parseDuration } from "../../api/duration.js";
import { UsageError } from "../../util/errors.js";
import type { DefaultedProbe } from "../../api/types.js";
import { loadStopCondition, StopConditionInvalid } from "../../probes/stop-condition.js";
import { createLogger, type Logger } from "../../util/log.js";
import { buildController, DEFAULT_IMAGE } from "../../controller/build.js";
import type { Controller } from "../../controller/controller.js";
import { DockerEngine } from "../../engine/docker.js";
import { DirectoryStore } from "../../store/directory/store.js";
import { openStore } from "../../store/open.js";
import { faultDrivers } from "../../faults/registry.js";
import { rebootHookOptions, withNodeDriver, type RebootHookFlags } from "../../faults/node/cli-options.js";
import { stressDriver } from "../../faults/stress/driver.js";
import { DEFAULT_STRESS_IMAGE } from "../../faults/stress/spec.js";
import type { CliContext } from "../output.js";
import { AuditLog } from "../../audit/log.js";
import { addGitOptions, openGitStore, type GitFlags } from "../../store/git/cli.js";
import {
  AGENT_PORT_HELP,
  AGENT_TOKEN_HELP,
  DEFAULT_AGENT_PORT,
  nodeDirectory,
  type AgentFlags,
} from "../../nodes/options.js";
import { addOpsOptions, startOps, type Ops, type OpsFlags } from "../../ops/wire.js";

const EXAMPLES = `
Examples:
  chaosctl controller --dir manifests/              # reconcile until SIGTERM / Ctrl-C
  chaosctl controller --dir manifests/ --once       # one pass, then exit (e.g. from cron)
  chaosctl controller --dir m/ --kill-switch-file /run/chaosctl/stop
                                                     # while that file exists: revert all, start nothing
  chaosctl controller --dir m/ --dry-run --once      # what would be injected now, recorded as DryRun runs

The controller talks to the Docker engine in DOCKER_HOST (default /var/run/docker.sock), which
must be a Swarm manager. Durative faults (pause, network) are enforced by guard containers from
--image: they revert at expiry even if the controller is gone. Logs: pino JSON on stderr.`;

interface Opts extends RebootHookFlags, OpsFlags {
  dir?: string;
  store: string;
  once?: boolean;
  image: string;
  killSwitchFile?: string;
  stopCondition?: string;
  killSwitch?: boolean;
  dryRun?: boolean;
  auditLog?: string;
  maxDuration: string;
  startingDeadline: string;
  requireOptIn?: boolean;
  instance: string;
  agentPort: AgentFlags["agentPort"];
  agentTokenFile?: string;
  guardTimeout: string;
  logLevel: string;
  stressImage: string;
}

// size: the controller command's option list (about 60 lines of flags) and their wiring.
export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command("controller");
  addOpsOptions(cmd)
    .description("run the reconcile loop: apply and revert chaos, write status into the manifests")
    .option("--dir <dir>", "directory store: a folder of ChaosSchedule YAML files (GitOps)")
    .addOption(new Option("--store <kind>", "where manifests live").choices(["dir", "swarm"]).default("dir"))
    .option("--once", "run a single reconcile pass and exit")
    .option("--image <image>", "the chaosctl image used for guard and helper containers (never pulled)", DEFAULT_IMAGE)
    .option(
      "--stress-image <image>",
      "the image with stress-ng for resource faults, present on every node (never pulled)",
      DEFAULT_STRESS_IMAGE,
    )
    .option("--kill-switch-file <path>", "while this file exists, revert everything and start nothing")
    .option(
      "--stop-condition <file>",
      "a probe (docs/probes.md) checked all the time: while it fails, revert everything and start nothing",
    )
    .option("--kill-switch", "revert everything this instance injected and start nothing, for as long as it runs")
    .option(
      "--dry-run",
      "plan as usual but inject and revert nothing: runs are recorded in status as DryRun with the targets chosen",
    )
    .option("--audit-log <file>", "append a JSON line per apply, revert and skip to this file (see docs/cli.md)")
    .option("--max-duration <duration>", "controller-wide cap on any fault's duration", "24h")
    .option(
      "--starting-deadline <duration>",
      "default deadline for a late run (spec.startingDeadline overrides)",
      "60s",
    )
    .option("--require-opt-in", "only target services/nodes labelled chaosctl.io/enabled=true")
    .option(
      "--guard-timeout <duration>",
      "how long a guard may take to make its fault observable before the run fails (raise on slow nodes)",
      "10s",
    )
    .option(
      "--instance <name>",
      "manage only injections labelled with this instance (several controllers on one cluster)",
      "default",
    )
    .addOption(rebootHookOptions.file())
    .addOption(rebootHookOptions.arg())
    .addOption(rebootHookOptions.timeout())
    .option("--agent-port <port>", AGENT_PORT_HELP, String(DEFAULT_AGENT_PORT))
    .option("--agent-token-file <path>", AGENT_TOKEN_HELP)
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "fatal"])
        .default(process.env.CHAOSCTL_LOG_LEVEL ?? "info"),
    )
    .addHelpText("after", EXAMPLES)
    .action(
      // size: the controller's assembly in order (store, ops, stop condition, controller, loop).
      async (opts: Opts & GitFlags) => {
        if (opts.store === "swarm" && opts.dir)
          throw new UsageError("--dir and --store swarm name two different stores: give one");
        if (opts.git && (opts.dir || opts.store === "swarm"))
          throw new UsageError("--git keeps its own working copy (see --workdir): no --dir or --store swarm with it");
        // The git store (docs/gitops.md): a directory store over a working copy synced from --git.
        const git = opts.git ? await openGitStore(opts, createLogger(opts.logLevel)) : undefined;
        if (git) opts.dir = git.dir;
        if (!opts.dir && opts.store !== "swarm")
          throw new UsageError(
            "controller needs --dir DIR, --store swarm or --git URL (see chaosctl controller --help)",
          );
        const durations = {
          guardTimeout: parseDurationOption("--guard-timeout", opts.guardTimeout),
          maxDuration: parseDurationOption("--max-duration", opts.maxDuration),
          startingDeadline: parseDurationOption("--starting-deadline", opts.startingDeadline),
        };
        const logger = createLogger(opts.logLevel);
        const engine = new DockerEngine();
        // --store swarm: Swarm configs of this engine (scope: CHAOSCTL_SWARM_SCOPE, default "default").
        const store =
          git?.store ??
          (opts.dir
            ? new DirectoryStore({ dir: opts.dir, logger })
            : await openStore({ kind: "swarm" }, { logger, engine }));
        const ops = await startOps({
          flags: opts,
          engine,
          instance: opts.instance,
          logger,
          lease:
            opts.store === "swarm" || opts.git || !opts.dir
              ? { kind: "swarm", configs: engine }
              : { kind: "file", dir: opts.dir },
          loadStore: async () => void (await store.list()),
          manifests: async () => (await store.list()).manifests,
          killSwitch: async () =>
            !!opts.killSwitch ||
            (!!opts.killSwitchFile &&
              (await access(opts.killSwitchFile).then(
                () => true,
                () => false,
              ))),
        });
        // A bad stop condition is a usage error before anything runs, with every problem located.
        const stopCondition = opts.stopCondition ? await readStopCondition(opts.stopCondition) : undefined;
        const controller = buildController({
          ...(stopCondition
            ? {
                stopCondition,
                onStopCondition: (failing: string | undefined) =>
                  ops.metrics.stopCondition.set({ probe: stopCondition.name }, failing === undefined ? 0 : 1),
              }
            : {}),
          onProbeCheck: (c) => ops.metrics.probeChecked(c),
          nodes: await nodeDirectory(opts, engine, logger),
          observer: ops.observer,
          ...(ops.mayAct ? { mayAct: ops.mayAct } : {}),
          store,
          engine,
          drivers: new Map([
            ...(await withNodeDriver(faultDrivers, opts, logger)),
            ["stress", stressDriver(opts.stressImage)],
          ]),
          instance: opts.instance,
          guardApplyTimeoutMs: durations.guardTimeout,
          image: opts.image,
          logger,
          config: {
            maxDurationMs: durations.maxDuration,
            startingDeadlineMs: durations.startingDeadline,
            requireOptIn: !!opts.requireOptIn,
            killSwitch: !!opts.killSwitch,
            dryRun: !!opts.dryRun,
          },
          ...(opts.killSwitchFile ? { killSwitchFile: opts.killSwitchFile } : {}),
          ...(opts.auditLog ? { auditLog: new AuditLog(opts.auditLog) } : {}),
        });
        if (stopCondition) ops.metrics.stopCondition.set({ probe: stopCondition.name }, 0);
        logger.info({ event: "start", dir: opts.dir, image: opts.image, once: !!opts.once }, "controller starting");
        try {
          await runUntilStopped(controller, ops, !!opts.once, logger, git);
        } finally {
          await ops.close();
          await store.close();
        }
        if (!opts.once) ctx.exitCode = 0; // --once leaves the exit code to the pass (ops.once)
      },
    );
  const controller = program.commands.find((c) => c.name() === "controller");
  if (controller) addGitOptions(controller);
}

async function readStopCondition(file: string): Promise<DefaultedProbe> {
  try {
    return await loadStopCondition(file);
  } catch (e) {
    if (e instanceof StopConditionInvalid) throw new UsageError(`--stop-condition: ${e.message}`);
    throw new UsageError(`--stop-condition ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** --once: one pass; else the loop until SIGTERM or SIGINT (SIGHUP: fetch the git store now). */
async function runUntilStopped(
  controller: Controller,
  ops: Ops,
  once: boolean,
  logger: Logger,
  git?: { store: { requestSync(): void } },
): Promise<void> {
  if (once) {
    await ops.once(async () => {
      const r = await controller.pass();
      logger.info({ event: "pass", actions: r.plan.actions.length }, "single pass done");
    });
    controller.close();
    return;
  }
  const ctl = new AbortController();
  const stop = (sig: string): void => {
    logger.info({ event: "stop", signal: sig }, "stopping; active faults stay guarded until their expiry");
    ctl.abort();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  // SIGHUP: fetch now (e.g. from a CI job or webhook after a push).
  if (git) process.on("SIGHUP", () => git.store.requestSync());
  await ops.run((signal) => controller.run(signal), ctl.signal);
}

function parseDurationOption(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
