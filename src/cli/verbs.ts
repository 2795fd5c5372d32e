// The verb table: name, one-line description, and a lazy import of the module that registers
// it. main.ts loads only the module of the verb being run (cold start: `chaosctl get` must not
// pay for dockerode, the controller or every other verb), while the full help still lists
// every verb from the descriptions here.
import type { Command } from "commander";
import type { CliContext } from "./output.js";

export interface VerbModule {
  register(program: Command, ctx: CliContext): void;
}

export interface Verb {
  name: string;
  /** Arguments as the full help shows them, after "[options]". */
  args?: string;
  description: string;
  hidden?: boolean;
  load(): Promise<VerbModule>;
}

/** In help order. To add a verb: write commands/<verb>.ts exporting register(program, ctx), list it here. */
export const VERBS: readonly Verb[] = [
  {
    name: "apply",
    description: "create or update ChaosSchedules from files (like kubectl apply)",
    load: () => import("./commands/apply.js"),
  },
  {
    name: "get",
    args: "[resource] [name]",
    description: "list schedules, or the injections active in the cluster",
    load: () => import("./commands/get.js"),
  },
  {
    name: "describe",
    args: "<name>",
    description: "show one schedule: spec, conditions, active injections, history",
    load: () => import("./commands/describe.js"),
  },
  {
    name: "diff",
    description: "show what apply -f would change (exit 1 when it would change something)",
    load: () => import("./commands/diff.js"),
  },
  {
    name: "delete",
    args: "[names...]",
    description: "delete schedules by name or by file",
    load: () => import("./commands/delete.js"),
  },
  {
    name: "suspend",
    args: "[names...]",
    description: "suspend a schedule, or every schedule with --all (the kill switch)",
    load: () => import("./commands/suspend.js"),
  },
  {
    name: "resume",
    args: "[names...]",
    description: "resume a suspended schedule, or every schedule with --all",
    load: () => import("./commands/resume.js"),
  },
  {
    name: "audit",
    description: "what chaos is injected cluster-wide right now, and who owns it; orphans flagged",
    load: () => import("./commands/audit.js"),
  },
  {
    name: "report",
    description: "a report of recent runs: timeline, recovery per service, verdicts, aborts, scores",
    load: () => import("./commands/report.js"),
  },
  {
    name: "validate",
    description: "check ChaosSchedule manifests offline: schema, semantic rules, duplicates",
    load: () => import("./commands/validate.js"),
  },
  {
    name: "controller",
    description: "run the reconcile loop: apply and revert chaos, write status into the manifests",
    load: () => import("./commands/controller.js"),
  },
  {
    name: "agent",
    description: "node agent: run the controller's node-local work on this node (authenticated)",
    load: () => import("./commands/agent.js"),
  },
  {
    name: "schema",
    description: "print the ChaosSchedule JSON Schema (draft-07) for editors",
    load: () => import("./commands/schema.js"),
  },
  {
    name: "guard",
    description: "enforce one durative fault on one container until a deadline",
    hidden: true,
    load: () => import("./commands/guard.js"),
  },
  {
    name: "signal-processes",
    description: "signal processes of this PID namespace by name or pattern (process-fault helper)",
    hidden: true,
    load: () => import("./commands/signal-processes.js"),
  },
];

/** How the full help names a verb, as commander would for the registered command. */
export function verbTerm(v: Verb): string {
  return `${v.name} [options]${v.args ? " " + v.args : ""}`;
}

/** The verb argv asks for ("help VERB" included), if it names one. */
export function verbOf(argv: readonly string[]): Verb | undefined {
  const first = argv.findIndex((a) => !a.startsWith("-"));
  if (first === -1) return undefined;
  const name = argv[first] === "help" ? argv[first + 1] : argv[first];
  return VERBS.find((v) => v.name === name);
}
