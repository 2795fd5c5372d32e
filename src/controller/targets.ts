// TargetsFound: does the selector match anything in the cluster? A selector naming a service
// that does not exist validates (the schema cannot know the cluster), and every run was then
// skipped with NoTargets while status said Ready. Pure: (selector, snapshot) → a condition,
// with suggestions taken from the cluster's own names.
import type { Condition } from "../api/types.js";
import type { ClusterSnapshot } from "../engine/engine.js";
import { closest } from "../util/suggest.js";
import { nodeMatches, serviceMatches, type SelectorSpec } from "./select.js";

export const TARGETS_FOUND = "TargetsFound";

/** The TargetsFound condition (without lastTransitionTime) for a container or node fault. */
export function targetsFound(sel: SelectorSpec, nodeFault: boolean, snap: ClusterSnapshot): Condition {
  const problems: string[] = [];
  const services = snap.services.filter((s) => s.labels["chaosctl.io/role"] === undefined);
  const names = services.map((s) => s.name);
  const hint = (word: string, among: string[]): string => {
    const guess = closest(word, among);
    return guess ? `; did you mean ${guess}?` : "";
  };
  if (!nodeFault) {
    for (const name of sel.services ?? []) {
      if (!snap.services.some((s) => s.name === name || s.id === name))
        problems.push(`service ${name} does not exist${hint(name, names)}`);
    }
    if (sel.stack && !snap.services.some((s) => s.stack === sel.stack)) {
      const stacks = [...new Set(services.map((s) => s.stack).filter((x): x is string => !!x))];
      problems.push(`stack ${sel.stack} has no service${hint(sel.stack, stacks)}`);
    }
  }
  const hostnames = snap.nodes.map((n) => n.hostname);
  for (const name of sel.nodes ?? []) {
    if (!snap.nodes.some((n) => n.hostname === name || n.id === name))
      problems.push(`node ${name} does not exist${hint(name, hostnames)}`);
  }
  const nodes = snap.nodes.filter((n) => nodeMatches(sel, n));
  const matched = nodeFault ? [] : snap.services.filter((s) => serviceMatches(sel, s));
  if (problems.length === 0) {
    if (nodeFault && nodes.length === 0) problems.push("no node matches the selector");
    else if (!nodeFault && matched.length === 0) problems.push("no service matches the selector");
    else if (!nodeFault && nodes.length === 0) problems.push("no node matches the selector's node filters");
  }
  if (problems.length) return { type: TARGETS_FOUND, status: "False", reason: "NoMatch", message: problems.join("; ") };
  return {
    type: TARGETS_FOUND,
    status: "True",
    reason: "Matched",
    message: nodeFault
      ? `selector matches ${nodes.length} node(s)`
      : `selector matches ${matched.length} service(s): ${matched
          .map((s) => s.name)
          .sort()
          .slice(0, 5)
          .join(", ")}${matched.length > 5 ? ", ..." : ""}`,
  };
}

/**
 * What TargetsFound depends on in a snapshot (names, ids, stacks, labels, roles of services and
 * nodes), as one string computed once per snapshot: a settled schedule is derived again only when
 * it changes.
 */
const fingerprints = new WeakMap<ClusterSnapshot, string>();
export function selectorInputs(snap: ClusterSnapshot): string {
  let f = fingerprints.get(snap);
  if (f === undefined) {
    f = JSON.stringify([
      snap.services.map((s) => [s.id, s.name, s.stack ?? "", s.labels]),
      snap.nodes.map((n) => [n.id, n.hostname, n.role, n.labels]),
    ]);
    fingerprints.set(snap, f);
  }
  return f;
}
