// Wires operations into a controller process: the metrics/health port, the leader lease and the
// hooks the reconcile loop calls. The controller command stays a few lines longer, no more.
import { writeFile } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { parseDuration } from "../api/duration.js";
import type { Engine, SwarmConfigs } from "../engine/engine.js";
import type { Logger } from "../util/log.js";
import { UsageError } from "../util/errors.js";
import { Health } from "./health.js";
import { ControllerMetrics } from "./metrics/controller-metrics.js";
import { observers, type PassObserver } from "../controller/observer.js";
import { startOpsServer, type OpsServer } from "./server.js";
import { LeaderElector } from "./lease/elector.js";
import { checkTiming } from "./lease/machine.js";
import { holderIdentity } from "./lease/identity.js";
import { defaultLeaseFile, FileLeaseStore } from "./lease/file.js";
import { SwarmLeaseStore } from "./lease/swarm.js";
import type { LeaseStore } from "./lease/store.js";
import { supervise } from "./supervise.js";
import { swarmScope } from "../store/open.js";
import type { StoredManifest } from "../store/store.js";
import { DashboardData } from "./dashboard/data.js";
import { WebhookSender } from "./webhook/sender.js";
import { WebhookNotifier } from "./webhook/notifier.js";
import { webhookMetrics } from "./webhook/metrics.js";

export interface OpsFlags {
  metricsAddr: string;
  leaderElect: boolean;
  leaseDuration: string;
  leaseRenew: string;
  stuckAfter: string;
  leaseFile?: string;
  /** false with --no-dashboard: the metrics port serves no page and no API. */
  dashboard: boolean;
  webhookUrlFile?: string;
  webhookFormat: "json" | "slack";
}

/** The operations flags of `chaosctl controller` (docs/operations.md explains the defaults). */
export function addOpsOptions(cmd: Command): Command {
  return cmd
    .option(
      "--metrics-addr <[host]:port>",
      "serve /metrics, /healthz and /readyz here (e.g. :9464); empty: off",
      process.env.CHAOSCTL_METRICS_ADDR ?? "",
    )
    .option("--no-leader-elect", "act without a leader lease (only when nothing else can run on the same store)")
    .option("--lease-duration <duration>", "a leader lease not renewed for this long may be taken over", "15s")
    .option(
      "--lease-renew <duration>",
      "how often the leader renews (and a standby retries); under half the duration",
      "5s",
    )
    .option(
      "--lease-file <path>",
      "with --dir: the lease's lock file (default: outside the folder, in $XDG_RUNTIME_DIR/chaosctl or the temp dir)",
    )
    .option(
      "--stuck-after <duration>",
      "/healthz fails when the loop shows no activity (or one pass runs) this long",
      "90s",
    )
    .option("--no-dashboard", "serve no dashboard (/ and /api/v1/) on the --metrics-addr port")
    .option(
      "--webhook-url-file <path>",
      "post an event to the URL in this file (a secret) when a run starts, ends or aborts, a schedule halts, the kill switch flips",
    )
    .addOption(
      new Option("--webhook-format <format>", "json (the event) or slack (an incoming webhook's {text})")
        .choices(["json", "slack"])
        .default("json"),
    );
}

export interface OpsSetup {
  flags: OpsFlags;
  engine: Engine;
  /** The lease's home: a Swarm config (store swarm) or a lock file (--lease-file, else defaultLeaseFile). */
  /** scope: the Swarm store's scope (default CHAOSCTL_SWARM_SCOPE, else "default"). */
  lease: { kind: "swarm"; configs: SwarmConfigs; scope?: string } | { kind: "file"; dir: string };
  instance: string;
  logger: Logger;
  /** Loads the store once (readiness of a standby, which runs no passes). */
  loadStore: () => Promise<void>;
  /** The stored manifests with their status, for the dashboard (none without it). */
  manifests?: () => Promise<readonly StoredManifest[]>;
  /** Whether the kill switch is on now (for the webhook's kill switch events). */
  killSwitch?: () => Promise<boolean>;
}

export interface Ops {
  metrics: ControllerMetrics;
  health: Health;
  elector?: LeaderElector;
  /** For ControllerOptions.observer. */
  observer: PassObserver;
  /** For ControllerOptions.mayAct (undefined without leader election). */
  mayAct?: () => boolean;
  /** Runs the loop while leading, until the signal aborts. */
  run(loop: (signal: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<void>;
  /** One pass if this controller can lead now (for --once); the lease is released after. */
  once(pass: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}

function leaseFileError(e: unknown): never {
  throw new UsageError(`leader lease: ${e instanceof Error ? e.message : String(e)}`);
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The webhook URL, read from its file (a Docker secret, typically): http(s) only, never logged. */
export async function webhookUrl(file: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, "utf8")).trim();
  } catch (e) {
    throw new UsageError(`--webhook-url-file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--webhook-url-file ${file}: the file does not hold a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--webhook-url-file ${file}: only http and https URLs are posted to (got ${url.protocol})`);
  return url.toString();
}

// size: the operations wiring in start order (lease, health, metrics, server, supervision).
export async function startOps(s: OpsSetup): Promise<Ops> {
  const { flags, logger, instance } = s;
  const timing = {
    durationMs: duration("--lease-duration", flags.leaseDuration),
    renewMs: duration("--lease-renew", flags.leaseRenew),
  };
  const stuckAfterMs = duration("--stuck-after", flags.stuckAfter);
  if (flags.leaseFile !== undefined && s.lease.kind === "swarm")
    throw new UsageError("--lease-file is for --dir: with --store swarm or --git the lease is a Swarm config");
  const bad = checkTiming(timing);
  if (bad) throw new UsageError(`--lease-duration/--lease-renew: ${bad}`);
  const metrics = new ControllerMetrics();
  metrics.watchEngine(s.engine);
  metrics.agentConnected.set({ node: "local" }, 0);
  let elector: LeaderElector | undefined;
  // The end of the last pass that completed: readers of the lease (get, describe) tell a stuck
  // leader from a reconciling one by it.
  let lastPass: number | undefined;
  const passTimes: PassObserver = {
    passEnded: (o) => void (o.error === undefined && (lastPass = o.endedAt.getTime())),
  };
  const health = new Health({
    stuckAfterMs,
    pingEngine: () => s.engine.ping(),
    role: () => elector?.role() ?? "leader",
  });
  if (flags.leaderElect) {
    const store: LeaseStore =
      s.lease.kind === "swarm"
        ? new SwarmLeaseStore(s.lease.configs, instance, s.lease.scope ?? swarmScope())
        : new FileLeaseStore(
            flags.leaseFile ?? (await defaultLeaseFile(s.lease.dir, instance).catch(leaseFileError)),
            timing.durationMs,
          );
    elector = new LeaderElector({
      store,
      identity: holderIdentity(),
      lastPass: () => lastPass,
      timing,
      logger,
      onRole: (r) => metrics.setLeader(instance, r === "leader"),
      onAttempt: () => health.beat(),
    });
    metrics.setLeader(instance, false);
    logger.info(
      {
        event: "lease",
        lease: store.where,
        self: elector.identity,
        durationMs: timing.durationMs,
        renewMs: timing.renewMs,
      },
      "leader election on",
    );
  } else {
    metrics.setLeader(instance, true);
  }
  let server: OpsServer | undefined;
  const dashboard =
    flags.metricsAddr && flags.dashboard !== false && s.manifests
      ? new DashboardData({ manifests: s.manifests })
      : undefined;
  const webhook = flags.webhookUrlFile
    ? new WebhookSender({
        url: await webhookUrl(flags.webhookUrlFile),
        logger,
        stats: webhookMetrics(metrics.registry),
      })
    : undefined;
  const notifier = webhook
    ? new WebhookNotifier({
        sender: webhook,
        format: flags.webhookFormat ?? "json",
        logger,
        ...(s.killSwitch ? { killSwitch: s.killSwitch } : {}),
      })
    : undefined;
  const marker = process.env.CHAOSCTL_HEALTH_MARKER;
  if (flags.metricsAddr)
    server = await startOpsServer({
      addr: flags.metricsAddr,
      registry: metrics.registry,
      health,
      logger,
      ...(marker ? { markerFile: marker } : {}),
      ...(dashboard ? { dashboard } : {}),
    });
  // No port, nothing to ask: the image's HEALTHCHECK reads "off" and passes (healthcheck.ts).
  else if (marker) await writeFile(marker, "off\n");
  const e = elector;
  return {
    metrics,
    health,
    ...(e ? { elector: e, mayAct: () => e.mayAct() } : {}),
    observer: observers(metrics, health, dashboard, notifier, passTimes),
    run: (loop, signal) =>
      supervise(
        {
          run: loop,
          ...(e ? { elector: e } : {}),
          loadStore: () => s.loadStore().then(() => health.markStoreLoaded()),
          logger,
        },
        signal,
      ),
    async once(pass) {
      if (e && (await e.attempt()) !== "leader") {
        logger.warn(
          { event: "lease", holder: e.holder() },
          "another controller holds the leader lease: this pass does nothing",
        );
        return false;
      }
      try {
        await pass();
      } finally {
        await e?.release();
      }
      return true;
    },
    async close() {
      // Events of the last passes get a few seconds to reach the receiver.
      if (webhook) await Promise.race([webhook.drained(), new Promise((r) => setTimeout(r, 5_000).unref())]);
      webhook?.close();
      await server?.close();
    },
  };
}
