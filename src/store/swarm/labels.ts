// How a ChaosSchedule generation is kept as a Swarm config: its name and its labels.
// One config per manifest generation; data = the manifest YAML as applied (immutable), the
// mutable parts in labels: status (JSON), metadata changed without a new spec, and the marks of
// the two-step generation change (store.ts).
import { createHash } from "node:crypto";

/** The store scope: only configs with this label value belong to a store. */
export const STORE_LABEL = "chaosctl.io/store";
export const KIND_LABEL = "chaosctl.io/kind";
export const KIND_VALUE = "ChaosSchedule";
export const NAMESPACE_LABEL = "chaosctl.io/namespace";
export const NAME_LABEL = "chaosctl.io/name";
export const GENERATION_LABEL = "chaosctl.io/generation";
/** status, encoded by status-label.ts (JSON, or gzip+base64 when large). */
export const STATUS_LABEL = "chaosctl.io/status";
/** {labels, annotations} as JSON when they changed after the config was created (no new spec). */
export const METADATA_LABEL = "chaosctl.io/metadata";
/** On a new generation: the predecessor's version its status was copied at (store.ts supersede). */
export const STATUS_FROM_LABEL = "chaosctl.io/status-from";
/** On an old generation: the id of the config that replaces it; it is about to be removed. */
export const SUPERSEDED_BY_LABEL = "chaosctl.io/superseded-by";

/** Config names start with this (events of other configs are ignored). */
export const NAME_PREFIX = "chaosctl.";
/** Docker limits config names to 64 characters of [a-zA-Z0-9-_.]. */
const MAX_NAME = 64;

/**
 * `chaosctl.<namespace>.<name>.<hash>.g<generation>`: readable, unique per scope, key and
 * generation (the hash covers scope and key; the readable part is cut to fit 64 characters),
 * so two writers creating the same generation collide on the name (ConfigNameConflict).
 */
export function configName(scope: string, key: string, generation: number): string {
  const hash = createHash("sha256").update(`${scope}\n${key}`).digest("hex").slice(0, 10);
  const tail = `.${hash}.g${generation}`;
  const readable = key.replace("/", ".").replace(/[^a-zA-Z0-9._-]/g, "-");
  return NAME_PREFIX + readable.slice(0, MAX_NAME - NAME_PREFIX.length - tail.length).replace(/[._-]+$/, "") + tail;
}

/** The label filters that list one scope's configs, or one key's. */
export function scopeFilters(scope: string, key?: string): string[] {
  const base = [`${STORE_LABEL}=${scope}`, `${KIND_LABEL}=${KIND_VALUE}`];
  if (key === undefined) return base;
  const [namespace, name] = splitKey(key);
  return [...base, `${NAMESPACE_LABEL}=${namespace}`, `${NAME_LABEL}=${name}`];
}

export function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return slash < 0 ? ["default", key] : [key.slice(0, slash), key.slice(slash + 1)];
}
