// Pure: the team-facing events of one reconcile pass (run started, ended, aborted; schedule
// halted; kill switch on/off), each with a sentence a person reads in a chat channel at 3 am.
import type { ChaosScheduleStatus, RunRecord } from "../../api/types.js";
import type { Target } from "../../faults/driver.js";
import type { PassFacts } from "../../controller/observer.js";
import { isAborted } from "../../insight/model.js";

export type ChaosEventType =
  "run.started" | "run.ended" | "run.aborted" | "schedule.halted" | "killswitch.on" | "killswitch.off";

export interface ChaosEvent {
  type: ChaosEventType;
  time: string;
  schedule?: string;
  run?: string;
  fault?: string;
  /** "task <id> of <service> on <node>" or "node <name>", one per target. */
  targets?: string[];
  services?: string[];
  result?: string;
  verdict?: string;
  reason?: string;
  recoverySeconds?: number;
  source?: { commit: string; path: string };
  /** A human sentence. */
  text: string;
}

const FINAL = new Set(["Succeeded", "Failed", "Interrupted", "Aborted"]);

function targetText(t: Target): string {
  if (t.kind === "node") return `node ${t.nodeHostname ?? t.nodeId}`;
  const where = t.nodeHostname ?? t.nodeId;
  return `task ${(t.taskId ?? t.containerId ?? "?").slice(0, 12)}${t.serviceName ? ` of ${t.serviceName}` : ""}${where ? ` on ${where}` : ""}`;
}

const recordTargets = (r: RunRecord): string[] =>
  (r.tasks ?? []).map((t) => `task ${t.slice(0, 12)}`).concat((r.nodes ?? []).map((n) => `node ${n}`));

const commitText = (s: { commit: string; path: string } | undefined): string =>
  s ? ` (from ${s.path} at ${s.commit.slice(0, 12)})` : "";

const halted = (st: ChaosScheduleStatus | undefined) =>
  (st?.conditions ?? []).find((c) => c.type === "Halted" && c.status === "True");

/** Events of a pass. `seen` remembers what was sent (run id + type), so a rewrite never repeats one. */
export function passEvents(facts: PassFacts, at: Date, seen: Set<string>): ChaosEvent[] {
  const time = at.toISOString();
  const out: ChaosEvent[] = [];
  const once = (id: string, e: ChaosEvent): void => {
    if (seen.has(id)) return;
    seen.add(id);
    out.push(e);
  };
  const starts = new Map(
    facts.plan.actions.filter((a) => a.type === "start").map((a) => [`${a.key}\n${a.run}`, a] as const),
  );
  for (const [schedule, { prev, next }] of facts.statuses ?? []) {
    const before = new Map((prev?.history ?? []).map((r) => [r.run, r]));
    for (const r of next.history ?? []) {
      if (!r.run) continue;
      const start = starts.get(`${schedule}\n${r.run}`);
      const source = r.source;
      const verdict = r.verdict;
      if (start && r.result !== "DryRun" && r.result !== "Skipped") {
        const targets = start.targets.map(targetText);
        once(`${schedule}\n${r.run}\nstarted`, {
          type: "run.started",
          time,
          schedule,
          run: r.run,
          fault: r.fault ?? start.fault,
          targets,
          services: start.services,
          ...(source ? { source } : {}),
          text: `chaos: ${schedule} started a ${r.fault ?? start.fault} run on ${targets.join(", ") || "no target"}${commitText(source)}.`,
        });
      }
      const wasRunning = before.get(r.run)?.result === "Running" || !!start;
      if (wasRunning && r.result && FINAL.has(r.result)) {
        const aborted = isAborted(r);
        const targets = recordTargets(r);
        const healed =
          r.recovery === "Recovered" && r.recoverySeconds !== undefined ? `, healed in ${r.recoverySeconds}s` : "";
        once(`${schedule}\n${r.run}\nended`, {
          type: aborted ? "run.aborted" : "run.ended",
          time,
          schedule,
          run: r.run,
          ...(r.fault ? { fault: r.fault } : {}),
          targets,
          services: r.services ?? [],
          result: r.result,
          ...(verdict ? { verdict } : {}),
          ...(r.reason ? { reason: r.reason } : {}),
          ...(typeof r.recoverySeconds === "number" ? { recoverySeconds: r.recoverySeconds } : {}),
          ...(source ? { source } : {}),
          text: aborted
            ? `chaos: ${schedule} run ${r.run} (${r.fault}) was ABORTED${r.reason ? ` (${r.reason})` : ""}${r.message ? `: ${r.message}` : ""}; the fault is reverted${commitText(source)}.`
            : `chaos: ${schedule} run ${r.run} (${r.fault}) ended ${r.result}${r.reason ? ` (${r.reason})` : ""}${verdict ? `, verdict ${verdict}` : ""}${healed}${commitText(source)}.`,
        });
      }
    }
    const h = halted(next);
    if (h && !halted(prev))
      once(`${schedule}\nhalted\n${h.lastTransitionTime ?? time}`, {
        type: "schedule.halted",
        time,
        schedule,
        ...(h.reason ? { reason: h.reason } : {}),
        text: `chaos: ${schedule} is HALTED${h.message ? `: ${h.message}` : ""}; no run starts until \`chaosctl resume ${schedule}\`.`,
      });
  }
  return out;
}

export function killSwitchEvent(on: boolean, at: Date): ChaosEvent {
  return on
    ? {
        type: "killswitch.on",
        time: at.toISOString(),
        text: "chaos: the KILL SWITCH is on: every injection is being reverted and nothing new starts.",
      }
    : {
        type: "killswitch.off",
        time: at.toISOString(),
        text: "chaos: the kill switch is off: schedules run again.",
      };
}

/** The body posted: the event as JSON, or Slack's incoming-webhook shape ({text}). */
export function webhookBody(e: ChaosEvent, format: "json" | "slack"): string {
  return JSON.stringify(format === "slack" ? { text: e.text } : e);
}
