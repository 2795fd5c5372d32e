// chaosctl get [schedules|active] [NAME] [-o wide|yaml|json|name] [-w]
import { Command } from "commander";
import { L_ROLE } from "../../api/labels.js";
import { UsageError } from "../../util/errors.js";
import type { Engine } from "../../engine/engine.js";
import { addAgentOptions, type AgentOpts } from "../agent-options.js";
import { outputOption, renderView, type ListView, type OutputFormat } from "../format.js";
import type { CliContext } from "../output.js";
import { keyOf, scheduleObject, scheduleView } from "../schedules.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { watchView, type Subscribe } from "../watch.js";
import { warnInvalid } from "../invalid.js";
import { staleWarning } from "../freshness.js";

const EXAMPLES = `
Examples:
  chaosctl get --dir manifests/                 # every schedule: fault, phase, active injections
  chaosctl get schedules web-kill -o yaml --store swarm
  chaosctl get -o wide --store swarm            # + generation, selector, next run, source
  chaosctl get -A --dir manifests/              # every namespace (get lists them all anyway)
  chaosctl get active                           # what is injected right now (from the cluster)
  chaosctl get active -o json | jq '.items[].schedule'
  chaosctl get -w --store swarm                 # then one line per change, until Ctrl-C

RESOURCE is schedules (the default; also schedule, cs) or active. "get active" reads guard
containers from the engine in DOCKER_HOST (one node until node agents report theirs) and needs
no store. Exit codes: 0 ok, 1 NAME not found or the store/cluster unreachable, 2 usage.`;

const SCHEDULES = new Set(["schedules", "schedule", "chaosschedules", "chaosschedule", "cs"]);
const ACTIVE = new Set(["active", "injections", "injection"]);

interface Opts extends StoreOpts, AgentOpts {
  output?: OutputFormat;
  watch?: boolean;
  namespace: string;
  allNamespaces?: boolean;
  instance?: string;
}

// size: the get command's options and their wiring, as --help lists them.
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("get")
    .description("list schedules, or the injections active in the cluster")
    .argument("[resource]", "schedules (default) or active")
    .argument("[name]", "one schedule (namespace/name or name)")
    .addOption(outputOption())
    .option("-w, --watch", "after the list, print a line per change until interrupted")
    .option("-n, --namespace <ns>", "namespace of NAME", "default")
    .option("-A, --all-namespaces", "every namespace (what get lists anyway; accepted as kubectl does)")
    .option(
      "--instance <name>",
      "get active: only injections of this controller instance; get schedules: the instance whose lease says whether a controller reconciles (default: default)",
    );
  addAgentOptions(addStoreOptions(cmd))
    .addHelpText("after", EXAMPLES)
    .action(async (resource: string | undefined, name: string | undefined, opts: Opts) => {
      let kind: "schedules" | "active" = "schedules";
      if (resource && ACTIVE.has(resource)) kind = "active";
      else if (resource && !SCHEDULES.has(resource)) {
        if (name) throw new UsageError(`unknown resource "${resource}": use schedules or active`);
        name = resource; // `get NAME`, as a shorthand for `get schedules NAME`
      }
      if (opts.allNamespaces && name) {
        throw new UsageError(`-A lists every namespace: give no NAME ("${name}"), or use -n NAMESPACE with it`);
      }
      const format = opts.output ?? "table";
      const key = name ? keyOf(name, opts.namespace) : undefined;
      const signal = ctx.io.signal ?? new AbortController().signal;
      if (kind === "active") {
        // Only `get active` talks to Docker: its modules are not loaded for `get schedules`.
        const [{ activeInjections, activeView, unobservedNodes, unobservedNote }, { observe, openEngine }] =
          await Promise.all([import("../active.js"), import("../cluster.js")]);
        const engine = await openEngine();
        let unseen: string[] = [];
        const produce = async (): Promise<ListView> => {
          const now = new Date();
          const obs = await observe(engine, opts);
          unseen = unobservedNodes(obs);
          const items = activeInjections(obs, now).filter(
            (i) => (!key || i.schedule === key) && (opts.instance === undefined || i.instance === opts.instance),
          );
          return activeView(items, now);
        };
        if (opts.watch) return watchView({ io: ctx.io, format, produce, subscribe: guardEvents(engine), signal });
        const view = await produce();
        // Never "none" for nodes not asked: say which, and how to ask them.
        const none = unseen.length ? "no active injections on the nodes observed" : "no active injections";
        ctx.io.stdout(emptyOr(view, format, none));
        if (unseen.length) ctx.io.stderr(`note: ${unobservedNote(unseen)}\n`);
        return;
      }
      await withStore(opts, async (store) => {
        const produce = async (): Promise<ListView> => {
          const snap = await store.list();
          warnInvalid(ctx, snap.invalid, key);
          return scheduleView(
            snap.manifests.filter((m) => !key || m.key === key),
            new Date(),
          );
        };
        if (opts.watch) {
          ctx.io.stderr(await staleWarning(opts, opts.instance ?? "default", new Date()));
          return watchView({ io: ctx.io, format, produce, subscribe: (f) => store.watch(f), signal });
        }
        const view = await produce();
        if (key && view.objects.length === 0) {
          ctx.io.stderr(`chaosctl: chaosschedule "${key}" not found\n`);
          ctx.exitCode = 1;
          return;
        }
        ctx.io.stdout(emptyOr(view, format, "no schedules", !!key));
        if (view.objects.length) ctx.io.stderr(await staleWarning(opts, opts.instance ?? "default", new Date()));
        // A selector that matches nothing is not a healthy schedule, whatever its phase says.
        for (const m of snapshotOf(view)) {
          const c = m.status?.conditions?.find((x) => x.type === "TargetsFound" && x.status === "False");
          if (c)
            ctx.io.stderr(
              `warning: ${m.metadata.namespace ?? "default"}/${m.metadata.name}: TargetsFound=False: ${c.message ?? ""}\n`,
            );
        }
      });
    });
}

function emptyOr(view: ListView, format: OutputFormat, none: string, single = false): string {
  if (view.rows.length === 0 && (format === "table" || format === "wide")) return `${none}\n`;
  return renderView(view, format, single);
}

/** Changes of guards and paused containers (Docker events), plus a slow relist for expiries. */
function guardEvents(engine: Engine): Subscribe {
  return async (onChange) => {
    const ctl = new AbortController();
    engine.events(
      (e) => {
        if (
          e.type === "container" &&
          (e.attributes[L_ROLE] !== undefined || e.action === "pause" || e.action === "unpause")
        )
          onChange();
      },
      ctl.signal,
      () => undefined, // the periodic relist below still runs
    );
    const timer = setInterval(onChange, 5_000);
    return async () => {
      clearInterval(timer);
      ctl.abort();
    };
  };
}

/** The schedules behind a view, with their status. */
function snapshotOf(view: ListView): Array<ReturnType<typeof scheduleObject>> {
  return view.objects as Array<ReturnType<typeof scheduleObject>>;
}
