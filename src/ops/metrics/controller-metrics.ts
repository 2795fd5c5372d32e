// The metrics chaosctl exports (docs/operations.md lists them). Fed by the reconcile loop's pass
// observer, the leader elector and, at scrape time, the engine's own call counts.
import type { Engine } from "../../engine/engine.js";
import { isActive } from "../../faults/driver.js";
import type { PassObserver, PassOutcome } from "../../controller/observer.js";
import { Counter, Gauge, Histogram, Registry } from "./registry.js";
import { newVerdicts, runChanges } from "./runs.js";

const PASS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RECOVERY_BUCKETS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

export class ControllerMetrics implements PassObserver {
  readonly registry = new Registry();
  readonly activeInjections = this.registry.register(
    new Gauge("chaosctl_active_injections", "Injections active now (guard running), by fault kind and schedule.", [
      "fault",
      "schedule",
    ]),
  );
  readonly runs = this.registry.register(
    new Counter(
      "chaosctl_runs_total",
      "Runs that ended, by result (succeeded, failed, skipped, interrupted) and reason (empty when succeeded).",
      ["schedule", "fault", "result", "reason"],
    ),
  );
  readonly passDuration = this.registry.register(
    new Histogram(
      "chaosctl_reconcile_pass_duration_seconds",
      "Duration of reconcile passes, by result (ok, error).",
      ["result"],
      PASS_BUCKETS,
    ),
  );
  readonly lastPass = this.registry.register(
    new Gauge("chaosctl_last_reconcile_timestamp_seconds", "Unix time of the last completed reconcile pass.", []),
  );
  readonly dockerCalls = this.registry.register(
    new Counter("chaosctl_docker_api_calls_total", "Docker Engine API calls, by operation.", ["operation"]),
  );
  readonly dockerErrors = this.registry.register(
    new Counter("chaosctl_docker_api_errors_total", "Docker Engine API calls that failed, by operation.", [
      "operation",
    ]),
  );
  readonly recovery = this.registry.register(
    new Histogram(
      "chaosctl_recovery_seconds",
      "Time from a fault until its service is back to its desired running (and healthy) tasks, by service.",
      ["service"],
      RECOVERY_BUCKETS,
    ),
  );
  readonly manifests = this.registry.register(
    new Gauge("chaosctl_manifests", "Manifests in the store, by validity (valid, invalid).", ["validity"]),
  );
  readonly targetsFound = this.registry.register(
    new Gauge(
      "chaosctl_schedule_targets_found",
      "1 when the schedule's selector matches something in the cluster (condition TargetsFound), else 0.",
      ["schedule"],
    ),
  );
  readonly agentConnected = this.registry.register(
    new Gauge(
      "chaosctl_agent_connected",
      "1 when the controller reaches the node's executor (node=local: this engine; agents per node).",
      ["node"],
    ),
  );
  readonly leader = this.registry.register(
    new Gauge("chaosctl_leader", "1 while this controller holds the leader lease and may act, 0 while standby.", [
      "instance",
    ]),
  );
  readonly leaderTransitions = this.registry.register(
    new Counter("chaosctl_leader_transitions_total", "Times this controller became leader or stopped being leader.", [
      "instance",
      "to",
    ]),
  );

  readonly probeResults = this.registry.register(
    new Counter(
      "chaosctl_probe_results_total",
      "Probe checks, by schedule, probe, mode and result (pass, fail); the stop condition's as mode StopCondition.",
      ["schedule", "probe", "mode", "result"],
    ),
  );
  readonly runVerdicts = this.registry.register(
    new Counter("chaosctl_run_verdicts_total", "Runs judged by their probes, by schedule and verdict (Pass, Fail).", [
      "schedule",
      "verdict",
    ]),
  );
  readonly resilienceScore = this.registry.register(
    new Gauge(
      "chaosctl_resilience_score",
      "Share (0-100) of a schedule's recent judged runs whose verdict was Pass (status.resilienceScore).",
      ["schedule"],
    ),
  );
  readonly stopCondition = this.registry.register(
    new Gauge(
      "chaosctl_stop_condition_failing",
      "1 while the controller's --stop-condition probe fails (everything reverted, nothing started), else 0.",
      ["probe"],
    ),
  );

  /** One probe check finished (fed by the probe monitor). */
  probeChecked(c: { schedule: string; probe: string; mode: string; ok: boolean }): void {
    this.probeResults.inc({ schedule: c.schedule, probe: c.probe, mode: c.mode, result: c.ok ? "pass" : "fail" });
  }

  /** Copies the engine's call and error counts at every scrape. */
  watchEngine(engine: Pick<Engine, "calls" | "errors">): void {
    this.registry.onCollect(() => {
      for (const [op, n] of Object.entries(engine.calls)) this.dockerCalls.setTotal({ operation: op }, n);
      for (const [op, n] of Object.entries(engine.errors ?? {})) this.dockerErrors.setTotal({ operation: op }, n);
    });
  }

  setLeader(instance: string, leader: boolean): void {
    const before = this.leader.value({ instance });
    this.leader.set({ instance }, leader ? 1 : 0);
    if (before !== (leader ? 1 : 0) || (leader && this.leaderTransitions.value({ instance, to: "leader" }) === 0)) {
      this.leaderTransitions.inc({ instance, to: leader ? "leader" : "standby" });
    }
  }

  passEnded(o: PassOutcome): void {
    const seconds = Math.max(0, (o.endedAt.getTime() - o.startedAt.getTime()) / 1000);
    this.passDuration.observe({ result: o.error === undefined ? "ok" : "error" }, seconds);
    // The local engine answered a pass or it did not: the executor for node "local".
    this.agentConnected.set({ node: "local" }, o.error === undefined ? 1 : 0);
    const r = o.result;
    if (!r) return;
    this.lastPass.set({}, o.endedAt.getTime() / 1000);
    if (r.manifests) {
      this.manifests.set({ validity: "valid" }, r.manifests.valid);
      this.manifests.set({ validity: "invalid" }, r.manifests.invalid);
    }
    if (r.injections) {
      this.activeInjections.reset();
      for (const h of r.injections.filter(isActive)) {
        const labels = { fault: h.fault, schedule: h.owner.schedule };
        this.activeInjections.set(labels, this.activeInjections.value(labels) + 1);
      }
    }
    if (r.statuses) this.targetsFound.reset();
    for (const [schedule, { prev, next }] of r.statuses ?? []) {
      const found = next.conditions?.find((c) => c.type === "TargetsFound");
      if (found) this.targetsFound.set({ schedule }, found.status === "True" ? 1 : 0);
      const { ended, recovered } = runChanges(prev, next);
      for (const e of ended) this.runs.inc({ schedule, fault: e.fault, result: e.result, reason: e.reason });
      for (const x of recovered) this.recovery.observe({ service: x.service }, x.seconds);
      for (const v of newVerdicts(prev, next)) this.runVerdicts.inc({ schedule, verdict: v });
      if (next.resilienceScore !== undefined) this.resilienceScore.set({ schedule }, next.resilienceScore);
    }
  }
}
