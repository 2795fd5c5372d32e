// The agent's operations over its node's engine, one per RPC op, each checked by policy.ts.
// Transport-free, so they are tested with a real engine and no HTTP.
import type { Engine, HelperSpec } from "../engine/engine.js";
import { observeGuards } from "../faults/guard/observe.js";
import { GUARD_ROLE } from "../faults/guard/spec.js";
import { L_ROLE } from "../api/labels.js";
import * as a from "./args.js";
import { admitHelperOnNode, admitTarget, nodeView, type AdmissionRules } from "./admission.js";
import { admitExec, admitHelper, admitOwn, type AgentPolicy } from "./policy.js";
import type { InjectionReport, Op, WhoAmI } from "../nodes/protocol.js";

export interface AgentIdentity {
  nodeId: string;
  hostname: string;
}

export interface HandlerDeps {
  engine: Engine;
  policy: AgentPolicy;
  rules: AdmissionRules;
  identity: () => Promise<AgentIdentity>;
  version: string;
  now: () => Date;
}

const MAX_HELPER_MS = 120_000;
const MAX_EXEC_MS = 60_000;

export type Handlers = Record<Op, (args: a.Json) => Promise<unknown>>;

export function agentHandlers(d: HandlerDeps): Handlers {
  const { engine } = d;
  /** kill and stop also end chaosctl's own guards and helpers (a revert); nothing else touches them. */
  const target = async (args: a.Json, op: string): Promise<string> => {
    const c = await engine.inspectContainer(a.str(args, "id"));
    const role = c.labels[L_ROLE];
    if ((op === "kill" || op === "stop") && (role === GUARD_ROLE || role === "helper")) return c.id;
    admitTarget(c, await nodeView(engine, (await d.identity()).nodeId), d.rules, op);
    return c.id;
  };
  const helper = async (raw: unknown): Promise<HelperSpec> => {
    const spec = admitHelper(a.helperSpec(raw), d.policy);
    const view = await nodeView(engine, (await d.identity()).nodeId);
    await admitHelperOnNode(spec, view, d.rules, d.now(), (id) => engine.inspectContainer(id), d.policy.stressImage);
    return spec;
  };
  return {
    whoami: async (): Promise<WhoAmI> => ({ ...(await d.identity()), image: d.policy.image, version: d.version }),
    ping: async () => {
      await engine.ping();
      return {};
    },
    injections: async (): Promise<InjectionReport> => {
      const [id, containers] = await Promise.all([d.identity(), engine.listContainers([`${L_ROLE}=${GUARD_ROLE}`])]);
      const at = d.now();
      return { ...id, at: at.toISOString(), containers, handles: observeGuards(containers, at) };
    },
    listContainers: async (args) => engine.listContainers(a.strArr(args, "labelFilters", true) ?? []),
    inspectContainer: async (args) => engine.inspectContainer(a.str(args, "id")),
    killContainer: async (args) => {
      const signal = a.str(args, "signal");
      if (!/^(SIG)?[A-Z0-9]{1,10}$/.test(signal)) throw new a.BadRequest(`bad signal ${signal}`);
      await engine.killContainer(await target(args, "kill"), signal);
      return {};
    },
    stopContainer: async (args) => {
      await engine.stopContainer(await target(args, "stop"), a.num(args, "timeoutSeconds", 0, 600));
      return {};
    },
    restartContainer: async (args) => {
      await engine.restartContainer(await target(args, "restart"), a.num(args, "timeoutSeconds", 0, 600));
      return {};
    },
    pauseContainer: async (args) => {
      await engine.pauseContainer(await target(args, "pause"));
      return {};
    },
    unpauseContainer: async (args) => {
      await engine.unpauseContainer(await target(args, "unpause"));
      return {};
    },
    removeContainer: async (args) => {
      const c = await engine.inspectContainer(a.str(args, "id"));
      admitOwn(c, "remove");
      await engine.removeContainer(c.id, { force: args.force === true });
      return {};
    },
    startHelper: async (args) => ({ id: await engine.startHelper(await helper(args.spec)) }),
    runHelper: async (args) => {
      const timeoutMs = a.num(args, "timeoutMs", 1, MAX_HELPER_MS);
      return engine.runHelper(await helper(args.spec), timeoutMs);
    },
    containerLogs: async (args) => {
      const c = await engine.inspectContainer(a.str(args, "id"));
      admitOwn(c, "logs"); // a guard's own account of a refusal
      return engine.containerLogs(c.id, a.num(args, "tail", 1, 10_000));
    },
    exec: async (args) => {
      const argv = a.strArr(args, "argv") ?? [];
      const c = await engine.inspectContainer(a.str(args, "containerId"));
      admitExec(c, argv);
      return engine.exec(c.id, argv, a.num(args, "timeoutMs", 1, MAX_EXEC_MS));
    },
  };
}
