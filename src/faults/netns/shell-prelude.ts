// The shell prelude of a network guard (netem, network, node partition): the guard's entry point is
// a fixed shell script shipped in the image (netns-guard.sh, copied to /app by the Dockerfile) that
// writes the clean namespace's plan with one `tc -batch -` and/or one `iptables-restore --noflush`
// before Node.js starts, then runs the Node.js entry (cli/netns-guard.ts), which adopts what it
// applied and owns the revert (docs/guards.md, "The shell prelude").
//
// The script gets the plan as text, computed ahead from the guard's own arguments by this module:
// its arguments are UNTIL_MS TC_BATCH IPT_RESTORE followed by the guard verb's argv. That text runs
// as root in a target's namespace (`tc ... action ... exec`-like forms can start programs), so the
// agent admits the shell entry only when the text is exactly what `shellPreludeArgs` computes from
// the same argv (`shellGuardArgv`), and the controller computes it with the same function.
import { batchAt, planClean } from "./converge.js";
import { isEntry, NETNS_GUARD_ENTRYPOINT, unwrapSpec } from "./guard-spec.js";
import type { NetnsInjection } from "./plan.js";
import { guardOption, injectionBuilders } from "./injections.js";
import { applyRestoreText, partitionNames } from "../node/partition-rules.js";
import { unwrapNodeSpec } from "../node/spec.js";

/** The script's place in the image (Dockerfile); run by /bin/sh, so it needs no exec bit. */
export const NETNS_SHELL_ENTRYPOINT: readonly string[] = ["/bin/sh", "/app/netns-guard.sh"];
/** How many of the shell entry's arguments come before the guard verb's argv. */
export const SHELL_PRELUDE_ARGS = 3;

/**
 * The clean plan of `inj` as the text of one `tc -batch -` (its tc steps) and one
 * `iptables-restore --noflush` (its iptables steps, the filter table), each without its final
 * newline ("" when the plan has no such step); the very lines runSteps would send for planClean.
 * Undefined when a step cannot go in a batch, or a tc step follows an iptables one.
 */
export function cleanBatchTexts(inj: NetnsInjection): { tc: string; ipt: string } | undefined {
  const steps = planClean(inj);
  const tc: string[] = [];
  const ipt: string[] = [];
  for (let i = 0; i < steps.length;) {
    const b = batchAt(steps, i);
    if (!b) return undefined;
    if (b.kind === "tc" && ipt.length > 0) return undefined;
    (b.kind === "tc" ? tc : ipt).push(...b.lines);
    i += b.lines.length;
  }
  return { tc: tc.join("\n"), ipt: ipt.length > 0 ? ["*filter", ...ipt, "COMMIT"].join("\n") : "" };
}

/**
 * The shell prelude's arguments for a guard verb's argv (guardArgv's layout): the expiry in ms
 * since the epoch, the tc batch, the iptables-restore input. Undefined when the argv is not a
 * network or netem guard's with a spec its injection builder takes and a plan that batches, nor a
 * node partition guard's (no tc; its whole apply in one restore, node/partition-rules.ts).
 */
export function shellPreludeArgs(guardArgv: readonly string[]): string[] | undefined {
  const fault = guardOption(guardArgv, "fault");
  if (guardArgv[0] !== "guard" || (fault !== "network" && fault !== "netem" && fault !== "node")) return undefined;
  const until = Date.parse(guardOption(guardArgv, "until") ?? "");
  if (!Number.isFinite(until)) return undefined;
  try {
    const raw: unknown = JSON.parse(guardOption(guardArgv, "spec") ?? "null");
    if (fault === "node") {
      const s = unwrapNodeSpec(raw);
      if (s.action !== "partition") return undefined; // drain and pause: the Swarm API, from Node.js
      return [String(until), "", applyRestoreText(partitionNames(s.owner), s.keepTcpPorts ?? [])];
    }
    const { key, spec } = unwrapSpec<never>(fault, raw);
    const texts = cleanBatchTexts(injectionBuilders[fault](key, spec));
    return texts && (texts.tc || texts.ipt) ? [String(until), texts.tc, texts.ipt] : undefined;
  } catch {
    return undefined;
  }
}

/** The entry point and command of a network guard: the shell prelude where its plan batches, else Node.js's. */
export function netnsGuardCommand(guardArgv: string[]): { entrypoint: string[]; cmd: string[] } {
  const pre = shellPreludeArgs(guardArgv);
  return pre
    ? { entrypoint: [...NETNS_SHELL_ENTRYPOINT], cmd: [...pre, ...guardArgv] }
    : { entrypoint: [...NETNS_GUARD_ENTRYPOINT], cmd: guardArgv };
}

export class ShellPreludeMismatch extends Error {}

/**
 * The guard verb's argv of a shell entry's command, after checking that its first arguments are
 * exactly what shellPreludeArgs computes from that argv (a tampered or stale batch is refused).
 */
export function shellGuardArgv(cmd: readonly string[]): string[] {
  const argv = cmd.slice(SHELL_PRELUDE_ARGS);
  const want = shellPreludeArgs(argv);
  if (!want)
    throw new ShellPreludeMismatch("the shell prelude runs only before a network, netem or node partition guard verb");
  const got = cmd.slice(0, SHELL_PRELUDE_ARGS);
  if (got.length !== want.length || got.some((a, i) => a !== want[i]))
    throw new ShellPreludeMismatch(
      "the shell prelude's arguments are not the plan its guard's --until and --spec give",
    );
  return argv;
}

export const isShellEntry = (e: readonly string[] | undefined): boolean => isEntry(e, NETNS_SHELL_ENTRYPOINT);
