// The agent as a policy enforcement point: before any engine call that changes something, the
// request is checked against the controller's own rules, with this node's own view of the
// cluster, never with what the request claims. A signed request is trusted to be from the
// controller, not to be right: a leaked token (or a controller bug) gets no more than a
// manifest could get.
//  - a fault target is a Swarm task container on this node (the engine that answers inspect is
//    this node's), never chaosctl's own (guard, helper, controller, agent), never protected by
//    its container, service or node labels, and in opt-in mode only on an opted-in service;
//  - a guard's argv is parsed with the guard's own parser: a known fault, a target admitted as
//    above (a node partition: this very node; a drain or pause: a node of the Swarm, from a
//    manager), a deadline within --max-duration;
//  - a network namespace is only `container:<the admitted target>` (or the host's, for a node
//    partition's guard); a PID namespace (the process fault, a disk fill's tools) likewise;
//  - a stress guard's stressor image is the agent's stress image;
//  - a node fault on a manager never costs raft its quorum or its last active manager.
// Service and node labels are visible only to a manager's engine: on a worker the container's
// own labels are what the agent can check (docs/agent.md, "What a valid token still cannot do").
import type { ClusterSnapshot, ContainerInfo, Engine, HelperSpec } from "../engine/engine.js";
import { ineligibleBecause } from "../faults/eligible.js";
import { parseGuardArgs, type GuardArgs } from "../faults/guard/args.js";
import { L_ROLE } from "../api/labels.js";
import { checkNodeSafety } from "../faults/node/quorum.js";
import { unwrapNodeSpec } from "../faults/node/spec.js";
import { guardVerbArgv, PolicyRefusal, runsGuardVerb } from "./policy.js";

export interface AdmissionRules {
  /** The longest a fault may last from now (the controller's --max-duration). */
  maxDurationMs: number;
  /** Opt-in mode, as the controller's --require-opt-in. */
  requireOptIn: boolean;
  /** Clock difference tolerated between controller and agent (the signature's window). */
  clockSkewMs: number;
}

export interface NodeView {
  nodeId: string;
  /** The Swarm as this node's engine sees it; undefined on a worker (no service or node lists). */
  cluster?: ClusterSnapshot;
}

const short = (id: string): string => id.slice(0, 12);

/**
 * The node's own view: its ID, and the cluster when its engine is a manager's. Asked once per
 * request that changes something (a few list calls), never cached across requests.
 */
export async function nodeView(engine: Engine, nodeId: string): Promise<NodeView> {
  try {
    return { nodeId, cluster: await engine.snapshot() };
  } catch {
    return { nodeId };
  }
}

/** A container that chaos may target on this node, or a PolicyRefusal saying why not. */
export function admitTarget(c: ContainerInfo, view: NodeView, rules: AdmissionRules, op: string): void {
  const role = c.labels[L_ROLE];
  if (role) throw new PolicyRefusal(`${op}: container ${short(c.id)} is chaosctl's ${role}`);
  if (!c.taskId) throw new PolicyRefusal(`${op}: container ${short(c.id)} is not a Swarm task`);
  if (c.nodeId && c.nodeId !== view.nodeId)
    throw new PolicyRefusal(`${op}: container ${short(c.id)} is a task of node ${c.nodeId}, not of this node`);
  const own = ineligibleBecause(c.labels);
  if (own) throw new PolicyRefusal(`${op}: container ${short(c.id)} is ${own}`);
  if (!view.cluster) return;
  const svc = view.cluster.services.find((s) => s.id === c.serviceId);
  if (!svc) throw new PolicyRefusal(`${op}: container ${short(c.id)} belongs to no service this node can see`);
  const why = ineligibleBecause(svc.labels, { requireOptIn: rules.requireOptIn });
  if (why) throw new PolicyRefusal(`${op}: service ${svc.name} is ${why}`);
  const node = view.cluster.nodes.find((n) => n.id === view.nodeId);
  const nodeWhy = node && ineligibleBecause(node.labels);
  if (nodeWhy) throw new PolicyRefusal(`${op}: this node (${node.hostname}) is ${nodeWhy}`);
}

/** The guard's argv, exactly as guardArgv() writes it, parsed by the guard's own parser. */
export function guardArgsOf(cmd: readonly string[]): GuardArgs {
  const [verb, f1, fault, f2, target, f3, until, f4, spec, ...rest] = cmd;
  const [f5, hold] = rest;
  if (
    verb !== "guard" ||
    f1 !== "--fault" ||
    f2 !== "--target" ||
    f3 !== "--until" ||
    f4 !== "--spec" ||
    spec === undefined ||
    !(rest.length === 0 || (rest.length === 2 && f5 === "--hold"))
  )
    throw new PolicyRefusal("guard argv must be: guard --fault F --target T --until TIME --spec JSON [--hold MS]");
  try {
    return parseGuardArgs({ fault, target, until, spec, ...(hold !== undefined ? { hold } : {}) });
  } catch (e) {
    throw new PolicyRefusal(`guard argv: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Checks what a helper (already through the pure admitHelper) would do on this node. `inspect`
 * is this node's engine, so a target it cannot find is not on this node.
 */
export async function admitHelperOnNode(
  spec: HelperSpec,
  view: NodeView,
  rules: AdmissionRules,
  now: Date,
  inspect: (id: string) => Promise<ContainerInfo>,
  stressImage?: string,
): Promise<void> {
  const net = spec.networkMode;
  const netTarget = net?.startsWith("container:") ? net.slice("container:".length) : undefined;
  const target = async (ref: string, what: string): Promise<ContainerInfo> => {
    const c = await inspect(ref).catch(() => {
      throw new PolicyRefusal(`${what}: container ${ref.slice(0, 64)} is not on this node`);
    });
    admitTarget(c, view, rules, what);
    return c;
  };

  if (spec.pidMode !== undefined) {
    // The process fault's verb or a disk fill's file tool (policy.ts): only in an admitted target.
    await target(spec.pidMode.slice("container:".length), spec.entrypoint?.[0] ?? spec.cmd[0] ?? "helper");
    return;
  }
  if (spec.entrypoint !== undefined && !runsGuardVerb(spec)) {
    // A network tool: only inside an admitted target's namespace.
    if (netTarget === undefined)
      throw new PolicyRefusal("a network tool runs only in a target's namespace (container:<target>)");
    await target(netTarget, "network tool");
    return;
  }

  const g = guardArgsOf(guardVerbArgv(spec) ?? spec.cmd);
  const left = g.until.getTime() - now.getTime();
  if (left > rules.maxDurationMs + rules.clockSkewMs)
    throw new PolicyRefusal(
      `guard until ${g.until.toISOString()}: more than --max-duration (${rules.maxDurationMs / 1000} s) from now`,
    );

  if (g.fault === "node") {
    admitNodeGuard(g, net, view, rules);
    return;
  }

  const c = await target(g.target, `${g.fault} guard`);
  if (g.fault === "stress" && stressImage !== undefined) {
    // The guard starts its stressor itself: only from the stress image this agent was given.
    const image = (g.spec as { image?: unknown } | undefined)?.image;
    if (image !== stressImage)
      throw new PolicyRefusal(`stress guard: the stressor must use the agent's stress image ${stressImage}`);
  }
  if (net !== undefined && net !== "none") {
    if (netTarget === undefined) throw new PolicyRefusal(`network mode ${net} is not allowed for a ${g.fault} guard`);
    const joined = await inspect(netTarget).catch(() => undefined);
    if (joined?.id !== c.id)
      throw new PolicyRefusal(`network mode ${net}: a guard joins only its own target's namespace (${short(c.id)})`);
  }
}

/** A node fault's guard: a partition only of this node, drain and pause from a manager, quorum kept. */
function admitNodeGuard(g: GuardArgs, net: string | undefined, view: NodeView, rules: AdmissionRules): void {
  let action: string;
  try {
    action = unwrapNodeSpec(g.spec).action;
  } catch (e) {
    throw new PolicyRefusal(`node guard spec: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (net !== undefined && net !== "none" && !(net === "host" && action === "partition"))
    throw new PolicyRefusal(`network mode ${net} is not allowed for a node ${action} guard`);
  // A partition cuts the namespace its guard runs in: only this node's. Drain and pause go
  // through the Swarm API: their guard runs on a manager, for any node the manager can see.
  if (action === "partition" && g.target !== view.nodeId)
    throw new PolicyRefusal(
      `node partition guard for node ${g.target.slice(0, 64)}: this agent is node ${view.nodeId}`,
    );
  if (!view.cluster) {
    if (action !== "partition")
      throw new PolicyRefusal(`node ${action} guard: runs only on a manager, and this node is not one`);
    return; // a worker: no manager to protect, and its labels are not visible here
  }
  const node = view.cluster.nodes.find((n) => n.id === g.target);
  if (!node) throw new PolicyRefusal(`node ${action}: no node ${g.target.slice(0, 64)} in this Swarm`);
  const why = ineligibleBecause(node.labels, { requireOptIn: rules.requireOptIn });
  if (why) throw new PolicyRefusal(`node ${action}: node ${node.hostname} is ${why}`);
  // The controller checked allowManagers against the manifest; what no signed request can
  // lift is the quorum floor (allowManagerLoss is a manifest's consent, not the agent's).
  const safety = checkNodeSafety({
    action: action as Parameters<typeof checkNodeSafety>[0]["action"],
    targets: [node.id],
    nodes: view.cluster.nodes,
    allowManagers: true,
  });
  if (!safety.ok) throw new PolicyRefusal(`node ${action}: ${safety.reason}: ${safety.message}`);
}
