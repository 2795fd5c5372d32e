// What the agent lets a signed request do on its node, judged from the request alone (pure). The
// token is a strong credential, but the agent still does only the node-local work the drivers
// need, so a leaked token (or a bug in a controller) cannot turn the agent into a general root
// shell on the node: helpers only from the agent's own image (or, for a disk fill's file tools,
// its stress image), only the guard verb, the network tools, the process fault's signal verb or
// those file tools, only the node's socket bound, and only chaosctl's own helpers removed. What
// needs the node's view (targets, deadlines, quorum) is admission.ts.
import type { ContainerInfo, HelperSpec } from "../engine/engine.js";
import { L_ROLE } from "../api/labels.js";
import { isEntry, NETNS_GUARD_ENTRYPOINT } from "../faults/netns/guard-spec.js";
import { isShellEntry, shellGuardArgv } from "../faults/netns/shell-prelude.js";

export const DOCKER_SOCKET_IN_CONTAINER = "/var/run/docker.sock";
/** argv[0] the network drivers run inside a target's namespace (faults/netns). */
export const NETNS_TOOLS: ReadonlySet<string> = new Set([
  "tc",
  "ip",
  "iptables",
  "iptables-save",
  "ip6tables",
  "ip6tables-save",
]);
/** The process fault's verb (faults/process): signals inside one target's PID namespace. */
export const SIGNAL_VERB = "signal-processes";
/**
 * A disk fill's one-shot tools (faults/stress/effect.ts), from the stress image, in one target's
 * PID namespace, on the fill file (or, for stat, the directory it goes in) under /proc/1/root.
 */
const SEGMENTS = String.raw`(\/(?!\.\.?(?:\/|$))[^/\0]+)*`; // no "." or ".." segment
const FILL_FILE = new RegExp(String.raw`^\/proc\/1\/root${SEGMENTS}\/\.chaosctl-fill-[0-9a-f]{16}$`);
const FILL_DIR = new RegExp(String.raw`^\/proc\/1\/root${SEGMENTS}\/?$`);
const FILL_TOOLS: Readonly<Record<string, (args: readonly string[]) => boolean>> = {
  test: (a) => a.length === 2 && a[0] === "-e" && FILL_FILE.test(a[1]!),
  rm: (a) => a.length === 2 && a[0] === "-f" && FILL_FILE.test(a[1]!),
  fallocate: (a) => a.length === 3 && a[0] === "-l" && /^[1-9][0-9]{0,15}$/.test(a[1]!) && FILL_FILE.test(a[2]!),
  stat: (a) => a.length === 4 && a[0] === "-f" && a[1] === "-c" && a[2] === "%a %S" && FILL_DIR.test(a[3]!),
};
const HELPER_ROLES: ReadonlySet<string> = new Set(["guard", "helper"]);
const CAPS: ReadonlySet<string> = new Set(["NET_ADMIN"]);
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export class PolicyRefusal extends Error {
  readonly code = "PolicyRefused";
}

/**
 * The guard verb's argv of a helper that runs it, or undefined for any other helper: the image's
 * own entry point or the network guard's Node.js one (its prelude applies the fault from the same
 * arguments before the verb runs, faults/netns/prelude.ts) with `guard ...` as the command; or the
 * network guard's shell prelude (faults/netns/netns-guard.sh; a node partition's guard uses it
 * too), whose first arguments, a tc batch and an iptables-restore input it runs as root in the
 * target's (or the node's) namespace, must be exactly what the agent computes from the guard's
 * own --until and --spec (faults/netns/shell-prelude.ts): anything else is refused.
 */
export function guardVerbArgv(spec: Pick<HelperSpec, "entrypoint" | "cmd">): string[] | undefined {
  const e = spec.entrypoint;
  if (isShellEntry(e)) {
    try {
      return shellGuardArgv(spec.cmd);
    } catch (err) {
      throw new PolicyRefusal(err instanceof Error ? err.message : String(err));
    }
  }
  const guardEntry = e === undefined || isEntry(e, NETNS_GUARD_ENTRYPOINT);
  return guardEntry && spec.cmd[0] === "guard" ? [...spec.cmd] : undefined;
}

/** Does the helper run the guard verb (guardVerbArgv; a shell prelude that does not check out is refused)? */
export function runsGuardVerb(spec: Pick<HelperSpec, "entrypoint" | "cmd">): boolean {
  return guardVerbArgv(spec) !== undefined;
}

export interface AgentPolicy {
  /** The only image helpers may use (the agent's own chaosctl image)... */
  image: string;
  /** ...but for a stress guard's stressor and a disk fill's file tools: the stress image. */
  stressImage: string;
  /** Host path of this node's engine socket, as the engine resolves bind mounts. */
  dockerSocket: string;
}

/**
 * The helper spec the agent will start, or a refusal. The socket bind's source is rewritten to
 * the node's own socket: a guard started through an agent always talks to the engine of the
 * node it runs on, whatever path the controller assumed.
 */
export function admitHelper(spec: HelperSpec, p: AgentPolicy): HelperSpec {
  const role = spec.labels[L_ROLE];
  if (!role || !HELPER_ROLES.has(role)) throw new PolicyRefusal(`helpers must be labelled ${L_ROLE}=guard|helper`);
  if (spec.env && spec.env.length > 0) throw new PolicyRefusal("helpers get no environment");
  if (spec.name !== undefined && !/^chaosctl-[a-zA-Z0-9_.-]{1,120}$/.test(spec.name))
    throw new PolicyRefusal(`helper name must start with chaosctl-`);
  for (const c of spec.capAdd ?? []) if (!CAPS.has(c)) throw new PolicyRefusal(`capability ${c} is not allowed`);
  const pid = spec.pidMode;
  if (pid !== undefined && !(pid.startsWith("container:") && CONTAINER_REF.test(pid.slice("container:".length))))
    throw new PolicyRefusal(`pid mode ${pid} is not allowed`);
  const tool = spec.entrypoint?.length === 1 ? spec.entrypoint[0]! : undefined;
  if (tool !== undefined && FILL_TOOLS[tool] && spec.image === p.stressImage) {
    // A disk fill's file tool: in a target's PID namespace, no network, nothing else.
    if (pid === undefined) throw new PolicyRefusal(`${tool} runs only in a target's PID namespace`);
    if (spec.networkMode !== "none") throw new PolicyRefusal(`${tool} runs without a network`);
    if ((spec.binds ?? []).length > 0 || (spec.capAdd ?? []).length > 0)
      throw new PolicyRefusal(`${tool} gets no bind mounts and no capabilities`);
    if (!FILL_TOOLS[tool](spec.cmd)) throw new PolicyRefusal(`${tool} ${JSON.stringify(spec.cmd)}: not a disk fill's`);
    return { ...spec };
  }
  if (spec.image !== p.image)
    throw new PolicyRefusal(`helpers must use the agent's image ${p.image}, not ${spec.image}`);
  if (spec.entrypoint === undefined && spec.cmd[0] === SIGNAL_VERB) {
    // The process fault: signals inside one target's PID namespace (never its PID 1), nothing else.
    if (pid === undefined) throw new PolicyRefusal(`${SIGNAL_VERB} runs only in a target's PID namespace`);
    if (spec.networkMode !== "none") throw new PolicyRefusal(`${SIGNAL_VERB} runs without a network`);
    if ((spec.binds ?? []).length > 0 || (spec.capAdd ?? []).length > 0)
      throw new PolicyRefusal(`${SIGNAL_VERB} gets no bind mounts and no capabilities`);
    return { ...spec };
  }
  if (pid !== undefined) throw new PolicyRefusal(`pid mode ${pid} is only for a process fault or a disk fill`);
  const net = spec.networkMode;
  const guardVerb = runsGuardVerb(spec);
  if (
    net !== undefined &&
    net !== "none" &&
    !(net.startsWith("container:") && CONTAINER_REF.test(net.slice("container:".length))) &&
    !(net === "host" && guardVerb)
  ) {
    throw new PolicyRefusal(`network mode ${net} is not allowed`);
  }
  if (spec.entrypoint !== undefined && !guardVerb) {
    // A network tool in a target's namespace (faults/netns/exec-helper.ts): no socket, nothing else.
    if (spec.entrypoint.length !== 1 || !NETNS_TOOLS.has(spec.entrypoint[0] ?? ""))
      throw new PolicyRefusal(`entrypoint ${JSON.stringify(spec.entrypoint)} is not allowed`);
    if ((spec.binds ?? []).length > 0) throw new PolicyRefusal("a network tool gets no bind mounts");
    return { ...spec };
  }
  if (!guardVerb)
    throw new PolicyRefusal(
      `helpers run the guard verb, a network tool or ${SIGNAL_VERB}, not ${JSON.stringify(spec.cmd.slice(0, 1))}`,
    );
  const binds = (spec.binds ?? []).map((b) => {
    const parts = b.split(":");
    const dst = parts[1];
    const mode = parts[2];
    if (
      parts.length < 2 ||
      parts.length > 3 ||
      dst !== DOCKER_SOCKET_IN_CONTAINER ||
      (mode !== undefined && mode !== "ro" && mode !== "rw")
    ) {
      throw new PolicyRefusal(`bind ${b} is not allowed: guards get the node's docker.sock only`);
    }
    return [p.dockerSocket, dst, ...(mode ? [mode] : [])].join(":");
  });
  return { ...spec, binds };
}

/** Remove, logs: chaosctl's own guards and helpers only (Swarm removes its tasks itself). */
export function admitOwn(c: ContainerInfo, op: string): void {
  const role = c.labels[L_ROLE];
  if (!role || !HELPER_ROLES.has(role))
    throw new PolicyRefusal(`${op}: container ${c.id.slice(0, 12)} is not a chaosctl guard or helper`);
}

/** Exec: a network tool inside a running guard (it shares the target's namespace). */
export function admitExec(c: ContainerInfo, argv: string[]): void {
  if (c.labels[L_ROLE] !== "guard")
    throw new PolicyRefusal(`exec: container ${c.id.slice(0, 12)} is not a chaosctl guard`);
  if (!NETNS_TOOLS.has(argv[0] ?? ""))
    throw new PolicyRefusal(`exec: ${JSON.stringify(argv.slice(0, 1))} is not a network tool`);
}
