// chaosctl audit [-o json]: what is injected cluster-wide right now, read from the cluster
// itself, each with its owner; orphans flagged; exit 1 when there are any (for monitoring).
import { Command } from "commander";
import {
  auditInventory,
  DEFAULT_GRACE_MS,
  type AuditEntry,
  type AuditInput,
  type AuditReport,
} from "../../audit/inventory.js";
import { originsOf } from "../../audit/origin.js";
import { parseDuration } from "../../api/duration.js";
import { UsageError } from "../../util/errors.js";
import { addAgentOptions, type AgentOpts } from "../agent-options.js";
import { observe } from "../cluster.js";
import { outputOption } from "../format.js";
import { toJson, type CliContext } from "../output.js";
import { addStoreOptions, storeChoice, withStore, type StoreOpts } from "../store-option.js";
import { renderTable } from "../table.js";
import { unobservedNote } from "../active.js";
import type { StoredManifest } from "../../store/store.js";

const EXAMPLES = `
Examples:
  chaosctl audit --store swarm          # injected chaos, owners, orphans; exit 1 on orphans
  chaosctl audit --dir manifests/ -o json
  chaosctl audit                        # without a store: only expired injections count as orphans
  chaosctl audit --store swarm --instance prod    # one controller instance's injections only

What it reads, from the cluster alone: guard containers and their ownership labels (pause,
netem qdiscs and iptables chains are owned through their guard), paused containers, nodes
carrying chaosctl.io/original-availability. Owner: schedule, run, generation, instance, expiry,
and the origin (who applied it; for a directory store in git, the file and its last commit).
An orphan is an injection whose schedule is not in the store, or still present past its expiry
(plus --grace). Other nodes' guards come from their node agents (--agent-token-file, or the
default token file when it exists); nodes no agent answers for are named in a note.
Exit codes: 0 no orphans, 1 orphans (or the cluster unreachable), 2 usage.`;

interface Opts extends StoreOpts, AgentOpts {
  output?: "json" | "wide";
  grace: string;
  instance?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("audit")
    .description("what chaos is injected cluster-wide right now, and who owns it; orphans flagged")
    .addOption(outputOption(["json", "wide"]))
    .option(
      "--grace <duration>",
      "how long past its expiry an injection may still be present",
      `${DEFAULT_GRACE_MS / 1000}s`,
    )
    .option(
      "--instance <name>",
      "only injections of this controller instance (nodes and hand-paused containers, which carry none, are left out)",
    );
  addAgentOptions(addStoreOptions(cmd))
    .addHelpText("after", EXAMPLES)
    .action(async (opts: Opts) => {
      let graceMs: number;
      try {
        graceMs = parseDuration(opts.grace);
      } catch (e) {
        throw new UsageError(`--grace: ${e instanceof Error ? e.message : String(e)}`);
      }
      const hasStore = !!(opts.dir || opts.store || process.env.CHAOSCTL_DIR || process.env.CHAOSCTL_STORE);
      if (hasStore) storeChoice(opts); // usage errors before touching the cluster
      const obs = await observe(undefined, opts);
      const now = new Date();
      const manifests: StoredManifest[] | undefined = hasStore
        ? await withStore(opts, async (s) => (await s.list()).manifests)
        : undefined;
      const input: AuditInput = {
        now,
        nodes: obs.snapshot.nodes,
        perNode: obs.perNode,
        graceMs,
        ...(opts.instance !== undefined ? { instance: opts.instance } : {}),
        ...(manifests ? { schedules: new Set(manifests.map((m) => m.key)) } : {}),
      };
      // Origins (git calls) only for the schedules that own something.
      const owners = new Set(auditInventory(input).entries.flatMap((e) => (e.owner ? [e.owner.schedule] : [])));
      const report = auditInventory({
        ...input,
        ...(manifests ? { origins: await originsOf(manifests, owners) } : {}),
      });
      if (opts.output === "json") ctx.io.stdout(toJson(report));
      else ctx.io.stdout(renderReport(report, opts.output === "wide"));
      ctx.exitCode = report.orphans > 0 ? 1 : 0;
    });
}

function target(e: AuditEntry): string {
  const t = e.target;
  if (e.kind === "node") return `node/${t.node ?? e.node}`;
  return (
    [t.service, t.container ? `container/${t.container}` : undefined].filter(Boolean).join(" ") ||
    (t.task ? `task/${t.task}` : "")
  );
}

function origin(e: AuditEntry): string {
  const o = e.origin;
  if (!o) return "";
  const where = o.file
    ? `${o.file}${o.commit ? `@${o.commit.slice(0, 12)}` : ""}`
    : o.config
      ? `config/${o.config}`
      : "";
  return [where, o.appliedBy ? `by ${o.appliedBy}` : ""].filter(Boolean).join(" ");
}

export function renderReport(r: AuditReport, wide: boolean): string {
  const rows = r.entries.map((e) => ({
    node: e.node,
    kind: e.kind,
    fault: e.fault,
    target: target(e),
    schedule: e.owner?.schedule ?? "",
    run: e.owner?.run ?? "",
    expires: e.owner?.expires ?? "",
    orphan: e.orphan ? "ORPHAN" : e.unowned ? "unowned" : "",
    origin: origin(e),
    guard: e.guard
      ? `${e.guard.id} (${e.guard.state}${e.guard.exitCode !== undefined ? ` ${e.guard.exitCode}` : ""})`
      : "",
    instance: e.owner?.instance ?? "",
    what: e.what,
  }));
  const cols = [
    { header: "NODE", key: "node" },
    { header: "KIND", key: "kind" },
    { header: "FAULT", key: "fault" },
    { header: "TARGET", key: "target" },
    { header: "SCHEDULE", key: "schedule" },
    { header: "EXPIRES", key: "expires" },
    { header: "ORIGIN", key: "origin" },
    { header: "ORPHAN", key: "orphan" },
    ...(wide
      ? [
          { header: "RUN", key: "run" },
          { header: "GUARD", key: "guard" },
          { header: "INSTANCE", key: "instance" },
          { header: "WHAT", key: "what" },
        ]
      : []),
  ];
  let out = r.entries.length ? renderTable(cols, rows, { empty: "-" }) : "no injected chaos found\n";
  for (const e of r.entries) {
    if (!e.orphan && !e.unowned) continue;
    out += `${e.orphan ? "orphan" : "unowned"}: ${e.kind} ${target(e)} on ${e.node}${e.owner ? ` (${e.owner.schedule} run ${e.owner.run ?? "?"})` : ""}: ${e.reasons.join("; ")}\n`;
  }
  if (!r.storeChecked)
    out += "note: no store given (--dir or --store swarm): an owner schedule that no longer exists is not detected\n";
  if (r.unobservedNodes.length) out += `note: containers ${unobservedNote(r.unobservedNodes)}\n`;
  out += `${r.entries.length} injection(s), ${r.orphans} orphan(s)\n`;
  return out;
}
