// The observe phase: the store, the cluster snapshot, the guards of other nodes and the kill
// switch, read once per pass into one Observation. Its only writes are the Ready=False status
// of invalid manifests (which says so in their own file).
import { formatProblem } from "../api/problems.js";
import { invalidMessage } from "../store/store.js";
import { orphanNodeHandles } from "../faults/node/observe.js";
import type { Observation, PassEnv, PassMemory } from "./pass.js";
import { observeProbes } from "./probes.js";
import { killSwitchRaised } from "./kill-switch.js";

export async function observe(env: PassEnv, memory: PassMemory): Promise<Observation> {
  const { store, engine } = env;
  const [observed, stored] = await Promise.all([engine.snapshot(), store.list()]);
  const snapshot = { ...observed, healthyAt: Object.fromEntries(memory.healthyAt) };
  logInvalid(
    env,
    memory,
    stored.invalid.map((i) => ({ key: i.key, text: i.problems.map(formatProblem).join("\n") })),
  );
  // An invalid manifest that still parses says so in its own status (Ready=False, InvalidSpec).
  for (const i of stored.invalid) if (i.key) await store.reportInvalid(i.key, invalidMessage(i.problems), env.clock());
  // Guards on other nodes, from their agents (one call per agent), beside our own node's.
  const remote = env.nodes ? await env.nodes.refresh(snapshot) : [];
  const guards = env.observeInjections(snapshot.containers.concat(remote));
  // A drained/paused node whose guard is gone is still injected: adopted from its labels.
  const injections = guards
    .concat(orphanNodeHandles(snapshot.nodes, guards, snapshot.selfNodeId))
    .filter((h) => (h.owner.instance ?? "default") === env.instance);
  const now = env.clock();
  const killSwitch = env.config.killSwitch || killSwitchRaised(env.killSwitchFile);
  const probes = await observeProbes(env, stored.manifests);
  return { now, snapshot, stored, injections, killSwitch, probes };
}

/** Logs each invalid manifest's problems once while they stand. */
function logInvalid(env: PassEnv, memory: PassMemory, items: { key: string | undefined; text: string }[]): void {
  const seen = new Set<string>();
  for (const i of items) {
    const sig = `${i.key ?? ""}\n${i.text}`;
    seen.add(sig);
    if (!memory.loggedInvalid.has(sig))
      env.logger.error(
        { event: "invalid", schedule: i.key, problems: i.text },
        "invalid manifest: nothing new is injected from it",
      );
  }
  memory.loggedInvalid.clear();
  for (const s of seen) memory.loggedInvalid.add(s);
}
