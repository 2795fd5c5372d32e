// chaosctl describe NAME: one schedule in words: spec summary, conditions, the injections the
// cluster holds for it now, run history with recovery times, recent audit-log records and the
// last lines of its guards.
import { PROBE_KINDS } from "../../api/probe-rules.js";
import { Command, Option } from "commander";
import { stringify } from "yaml";
import { readAuditLog } from "../../audit/log.js";
import type { ChaosScheduleStatus } from "../../api/types.js";
import type { Engine } from "../../engine/engine.js";
import type { StoredManifest } from "../../store/store.js";
import { activeInjections, unobservedNodes, unobservedNote, type ActiveInjectionView } from "../active.js";
import { freshness, readControllerLease, type Freshness } from "../freshness.js";
import { observe, openEngine } from "../cluster.js";
import { addAgentOptions, type AgentOpts } from "../agent-options.js";
import type { CliContext } from "../output.js";
import { faultName, keyOf, scheduleObject, selectorText, sourceText } from "../schedules.js";
import { addStoreOptions, withStore, type StoreOpts } from "../store-option.js";
import { age, renderTable, until } from "../table.js";
import { toJson } from "../output.js";
import { scheduleRuns, scheduleView, serviceStats } from "../../insight/model.js";

const EXAMPLES = `
Examples:
  chaosctl describe web-kill --store swarm
  chaosctl describe team-a/db-loss --dir manifests/ --audit-log /var/log/chaosctl/audit.jsonl
  chaosctl describe web-kill --store swarm --no-cluster   # status only, no engine calls

Active injections are read from the cluster (guard containers), not from status; with
--no-cluster, or when the engine cannot be reached, status.active is shown instead.
Exit codes: 0 ok, 1 not found or unreachable store, 2 usage.`;

interface Opts extends StoreOpts, AgentOpts {
  namespace: string;
  auditLog?: string;
  cluster: boolean;
  events: string;
  instance: string;
  output?: "json" | "yaml";
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("describe")
    .description("show one schedule: spec, conditions, active injections, history")
    .argument("<name>", "schedule (namespace/name or name)")
    .option("-n, --namespace <ns>", "namespace of NAME", "default")
    .option("--audit-log <file>", "show this schedule's recent records from this audit log (env CHAOSCTL_AUDIT_LOG)")
    .option("--events <n>", "how many recent events to show", "10")
    .option("--no-cluster", "do not ask the engine for active injections and guard logs")
    .option("--instance <name>", "the controller instance whose leader lease says whether it reconciles", "default")
    .addOption(
      new Option(
        "-o, --output <format>",
        "json or yaml: the schedule as stored, its active injections and its figures",
      ).choices(["json", "yaml"]),
    );
  addAgentOptions(addStoreOptions(cmd))
    .addHelpText("after", EXAMPLES)
    .action(async (name: string, opts: Opts) => {
      const key = keyOf(name, opts.namespace);
      const m = await withStore(opts, async (store) => (await store.list()).manifests.find((x) => x.key === key));
      if (!m) {
        ctx.io.stderr(`chaosctl: chaosschedule "${key}" not found\n`);
        ctx.exitCode = 1;
        return;
      }
      const now = new Date();
      let active: ActiveInjectionView[] | undefined;
      let engine: Engine | undefined;
      let clusterNote = "";
      let unseen: string[] = [];
      if (opts.cluster) {
        try {
          engine = await openEngine();
          const obs = await observe(engine, opts);
          unseen = unobservedNodes(obs);
          active = activeInjections(obs, now).filter((a) => a.schedule === key);
        } catch (e) {
          clusterNote = `(cluster unreachable: ${e instanceof Error ? e.message : String(e)}; showing status.active)`;
        }
      }
      if (opts.output) {
        const d = describeObject(m, active);
        ctx.io.stdout(opts.output === "json" ? toJson(d) : stringify(d));
        return;
      }
      const logPath = opts.auditLog ?? process.env.CHAOSCTL_AUDIT_LOG;
      const logged = logPath ? (await readAuditLog(logPath).catch(() => [])).filter((r) => r.schedule === key) : [];
      const lease = await readControllerLease(opts, opts.instance);
      const guardLogs: string[] = [];
      for (const a of (active ?? []).slice(0, 3)) {
        const logs = await engine?.containerLogs(a.guard, 5).catch(() => undefined);
        const lines = `${logs?.stdout ?? ""}${logs?.stderr ?? ""}`.split("\n").filter(Boolean).slice(-5);
        if (lines.length) guardLogs.push(`  guard ${a.guard}:`, ...lines.map((l) => `    ${l}`));
      }
      ctx.io.stdout(
        describeText(m, now, {
          ...(active ? { active } : {}),
          clusterNote,
          unobserved: unseen,
          controller: freshness(lease, now),
          events: [
            ...statusEvents(m.status ?? {}),
            ...logged.map((r) => ({
              time: r.time,
              text: `${r.actor} ${r.action} ${r.result}${r.run ? ` run ${r.run}` : ""}${r.target ? ` ${r.target}` : ""}${r.reason ? ` (${r.reason})` : ""}${r.origin ? ` by ${r.origin}` : ""}`,
            })),
          ]
            .sort((a, b) => a.time.localeCompare(b.time))
            .slice(-Number(opts.events || 10)),
          eventSources: logPath ? ["status", `audit log ${logPath}`] : ["status"],
          guardLogs,
        }),
      );
    });
}

/**
 * `describe -o json`: the schedule as stored, what is injected for it (from the cluster, else
 * from status) and its figures, computed by the code that makes `chaosctl report` and the
 * dashboard (so their figures are these).
 */
export function describeObject(m: StoredManifest, active: ActiveInjectionView[] | undefined) {
  const runs = scheduleRuns(m);
  return {
    kind: "ChaosScheduleDescription",
    schedule: scheduleObject(m),
    active: active ?? m.status?.active ?? [],
    activeFrom: active ? "cluster" : "status",
    summary: scheduleView(m, runs),
    services: serviceStats(runs),
  };
}

export interface DescribeExtras {
  /** Live injections from the cluster; status.active when undefined. */
  active?: ActiveInjectionView[];
  clusterNote?: string;
  /** Nodes whose containers no source reported (their injections are not in `active`). */
  unobserved?: readonly string[];
  /** Whether a controller reconciles (from the lease); unknown when undefined. */
  controller?: Freshness;
  events?: Array<{ time: string; text: string }>;
  /** Where the events come from, for the heading ("status", "audit log FILE"). */
  eventSources?: readonly string[];
  guardLogs?: string[];
}

/** The runs' events as status records them: started, skipped, ended, recovered (oldest first). */
export function statusEvents(st: ChaosScheduleStatus): Array<{ time: string; text: string }> {
  const out: Array<{ time: string; text: string }> = [];
  for (const r of st.history ?? []) {
    const run = `run ${r.run ?? "?"}`;
    const why = `${r.reason ? ` ${r.reason}` : ""}${r.message ? `: ${r.message}` : ""}`;
    if (r.result === "Skipped") {
      out.push({ time: r.scheduledAt ?? r.endedAt ?? "", text: `status ${run} skipped${why}` });
      continue;
    }
    if (r.startedAt)
      out.push({
        time: r.startedAt,
        text: `status ${run} started: ${r.targets ?? 0} target(s)${r.services?.length ? ` of ${r.services.join(", ")}` : ""}`,
      });
    if (r.endedAt && r.result && r.result !== "Running")
      out.push({ time: r.endedAt, text: `status ${run} ${r.result.toLowerCase()}${why}` });
    if (r.recoveredAt && r.recovery === "Recovered")
      out.push({ time: r.recoveredAt, text: `status ${run} recovered in ${r.recoverySeconds ?? "?"}s` });
    else if (r.recovery === "TimedOut") out.push({ time: r.endedAt ?? "", text: `status ${run} recovery timed out` });
  }
  return out.filter((e) => e.time !== "").sort((a, b) => a.time.localeCompare(b.time));
}

const indent = (text: string, n = 2): string =>
  text
    .split("\n")
    .map((l) => (l ? " ".repeat(n) + l : l))
    .join("\n");

/** The describe page (pure). */
// size: the describe page, section after section as printed; each section a few lines.
export function describeText(m: StoredManifest, now: Date, x: DescribeExtras = {}): string {
  const { manifest } = m;
  const st: ChaosScheduleStatus = m.status ?? {};
  const spec = manifest.spec;
  const fault = faultName(manifest);
  const kv = (k: string, v: string | undefined): string =>
    `${(k + ":").padEnd(16)}${v === undefined || v === "" ? "<none>" : v}\n`;
  const map = (o: Record<string, string | undefined> | undefined): string =>
    Object.entries(o ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
  let out = "";
  out += kv("Name", manifest.metadata.name);
  out += kv("Namespace", manifest.metadata.namespace ?? "default");
  out += kv("Labels", map(manifest.metadata.labels));
  out += kv("Annotations", map(manifest.metadata.annotations));
  out += kv("Source", sourceText(m.source));
  out += kv("Generation", `${manifest.metadata.generation ?? 1} (observed ${st.observedGeneration ?? "never"})`);
  out += kv("Schedule", spec.schedule ?? "@once");
  out += kv("Fault", `${fault} ${JSON.stringify((spec.fault as Record<string, unknown>)[fault] ?? {})}`);
  out += kv("Duration", spec.duration);
  out += kv("Suspend", String(!!spec.suspend));
  out += kv("Concurrency", spec.concurrencyPolicy ?? "Forbid");
  out += kv("Selector", selectorText(manifest));
  out += kv("Safety", spec.safety ? JSON.stringify(spec.safety) : "");
  out += kv(
    "Probes",
    (spec.probes ?? [])
      .map((p) => `${p.name} (${p.mode}, ${Object.keys(p).find((k) => PROBE_KINDS.includes(k as never)) ?? "?"})`)
      .join(", "),
  );
  if (spec.probes?.length)
    out += kv(
      "Resilience",
      st.resilienceScore !== undefined
        ? `${st.resilienceScore}% of the last ${st.resilienceRuns ?? "?"} judged run(s) passed`
        : "no judged run yet",
    );
  out += kv(
    "Phase",
    st.phase === undefined
      ? "Pending (no controller has written status for it yet)"
      : x.controller && !x.controller.current
        ? `${st.phase} (as last written)`
        : st.phase,
  );
  if (x.controller) out += kv("Controller", x.controller.current ? x.controller.text : `none: ${x.controller.text}`);
  out += kv(
    "Last Schedule",
    st.lastScheduleTime ? `${st.lastScheduleTime} (${age(st.lastScheduleTime, now)} ago)` : "",
  );
  out += kv("Next Schedule", st.nextScheduleTime ? `${st.nextScheduleTime} (${until(st.nextScheduleTime, now)})` : "");
  if (st.waiting)
    out += kv(
      "Waiting",
      `run ${st.waiting.run ?? "?"} held back: ${st.waiting.reason ?? "?"}${st.waiting.message ? `: ${st.waiting.message}` : ""}; tried again until ${st.waiting.retryUntil ?? "?"} (its starting deadline), then skipped`,
    );

  out += "Conditions:\n";
  const conds = st.conditions ?? [];
  out += conds.length
    ? indent(
        renderTable(
          [
            { header: "TYPE", key: "type" },
            { header: "STATUS", key: "status" },
            { header: "REASON", key: "reason" },
            { header: "LAST TRANSITION", key: "ltt" },
            { header: "MESSAGE", key: "message" },
          ],
          conds.map((c) => ({
            type: c.type,
            status: c.status,
            reason: c.reason ?? "",
            ltt: c.lastTransitionTime ?? "",
            message: c.message ?? "",
          })),
        ),
      )
    : "  <none>\n";

  const unseen = x.active && x.unobserved?.length ? ` (${unobservedNote(x.unobserved)})` : "";
  out += `Active Injections:${x.active ? ` (from the cluster)${unseen}` : ` (from status)${x.clusterNote ? " " + x.clusterNote : ""}`}\n`;
  const rows = x.active
    ? x.active.map((a) => ({
        fault: a.fault,
        service: a.service ?? "",
        task: a.task ?? "",
        container: a.container ?? "",
        node: a.node,
        since: age(a.since, now),
        until: until(a.until, now),
        run: a.run,
      }))
    : (st.active ?? []).map((a) => ({
        fault: a.fault ?? "",
        service: a.service ?? "",
        task: a.task ?? "",
        container: a.container ?? "",
        node: a.node ?? "",
        since: age(a.since, now),
        until: until(a.until, now),
        run: a.run ?? "",
      }));
  out += rows.length
    ? indent(
        renderTable(
          [
            { header: "FAULT", key: "fault" },
            { header: "SERVICE", key: "service" },
            { header: "TASK", key: "task" },
            { header: "CONTAINER", key: "container" },
            { header: "NODE", key: "node" },
            { header: "SINCE", key: "since" },
            { header: "UNTIL", key: "until" },
            { header: "RUN", key: "run" },
          ],
          rows,
        ),
      )
    : x.active && x.unobserved?.length
      ? "  <none on the nodes observed>\n"
      : "  <none>\n";

  out += "History:\n";
  const hist = [...(st.history ?? [])].reverse();
  out += hist.length
    ? indent(
        renderTable(
          [
            { header: "STARTED", key: "started" },
            { header: "RESULT", key: "result" },
            { header: "TARGETS", key: "targets" },
            { header: "DURATION", key: "took" },
            { header: "RECOVERY", key: "recovery" },
            { header: "VERDICT", key: "verdict" },
            { header: "GEN", key: "gen" },
            { header: "REASON", key: "reason" },
            { header: "MESSAGE", key: "message" },
          ],
          hist.map((r) => ({
            started: r.startedAt ?? r.scheduledAt ?? "",
            result: r.result ?? "",
            targets: String(r.targets ?? 0),
            took:
              r.startedAt && r.endedAt
                ? `${Math.round((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 100) / 10}s`
                : "",
            recovery: r.recovery === "Recovered" ? `${r.recoverySeconds ?? "?"}s` : (r.recovery ?? ""),
            verdict: r.verdict ?? "",
            gen: String(r.generation ?? ""),
            reason: r.reason ?? "",
            message: r.message ?? "",
          })),
        ),
      )
    : "  <none>\n";

  const judged = hist.find((r) => r.probes?.length);
  if (judged) {
    out += `Probes (run ${judged.run ?? "?"}):\n`;
    out += indent(
      renderTable(
        [
          { header: "PROBE", key: "name" },
          { header: "MODE", key: "mode" },
          { header: "VERDICT", key: "verdict" },
          { header: "PASSED", key: "passed" },
          { header: "FAILED", key: "failed" },
          { header: "LAST ERROR", key: "lastError" },
        ],
        (judged.probes ?? []).map((p) => ({
          name: p.name,
          mode: p.mode,
          verdict: p.verdict ?? "pending",
          passed: String(p.passed),
          failed: String(p.failed),
          lastError: p.lastError ?? "",
        })),
      ),
    );
  }

  out += "Events:\n";
  out += `Events:${x.eventSources?.length ? ` (from ${x.eventSources.join(" and ")})` : ""}\n`;
  out += x.events?.length ? x.events.map((e) => `  ${e.time}  ${e.text}\n`).join("") : "  <none>\n";
  if (x.guardLogs?.length) out += "Guard Logs:\n" + x.guardLogs.join("\n") + "\n";
  return out;
}
