// A Swarm config → one stored generation of a manifest, or the problems that keep it out
// (a config made by hand, a damaged label). Then, per key, which config is current. Pure:
// never throws on what is in a config, so a bad one never stops list().
import { loadText } from "../../api/load.js";
import type { Problem } from "../../api/problems.js";
import type { ChaosSchedule, ChaosScheduleStatus, LoadedChaosSchedule } from "../../api/types.js";
import type { ConfigInfo } from "../../engine/engine.js";
import { userPart } from "../apply-plan.js";
import { specHash, toPlainJson } from "../directory/canonical.js";
import { GENERATION_LABEL, METADATA_LABEL, NAME_LABEL, NAMESPACE_LABEL, STATUS_LABEL } from "./labels.js";
import { decodeStatus } from "./status-label.js";

export interface DecodedConfig {
  config: ConfigInfo;
  /** "<namespace>/<name>" from the labels, when they are there. */
  key?: string;
  /** From the generation label; 0 when it is missing or not a positive integer. */
  generation: number;
  /** The validated, defaulted manifest (generation and current metadata set); absent when invalid. */
  manifest?: LoadedChaosSchedule;
  /** The manifest as applied (user part, no defaults added), with the current metadata. */
  data?: ChaosSchedule;
  specHash?: string;
  status?: ChaosScheduleStatus;
  problems: Problem[];
  /** Why the status label was ignored (it is the controller's to write again). */
  statusProblem?: string;
}

/** `swarm config <name>`: where problems of a config are said to be. */
export function configFile(c: ConfigInfo): string {
  return `swarm config ${c.name}`;
}

export function decodeConfig(c: ConfigInfo): DecodedConfig {
  const file = configFile(c);
  const problems: Problem[] = [];
  const problem = (message: string, rule: string, path = ""): void => {
    problems.push({ file, line: 0, column: 0, path, message, rule });
  };
  const namespace = c.labels[NAMESPACE_LABEL];
  const name = c.labels[NAME_LABEL];
  const key = namespace && name ? `${namespace}/${name}` : undefined;
  const genText = c.labels[GENERATION_LABEL] ?? "";
  const generation = /^[1-9][0-9]{0,9}$/.test(genText) ? Number(genText) : 0;
  const out: DecodedConfig = { config: c, generation, problems };
  if (key) out.key = key;
  else problem(`labels ${NAMESPACE_LABEL} and ${NAME_LABEL} are required`, "configLabels");
  if (generation === 0)
    problem(`label ${GENERATION_LABEL} must be a positive integer, not ${JSON.stringify(genText)}`, "configLabels");

  const loaded = loadText(c.data, file);
  problems.push(...loaded.problems);
  const docs = loaded.documents;
  if (docs.length > 1) problem(`a config holds one manifest, this one holds ${docs.length} documents`, "configData");
  const doc = docs[0];
  if (doc) problems.push(...doc.problems);
  if (doc?.key && key && doc.key !== key)
    problem(`the manifest is ${doc.key} but the labels say ${key}`, "configLabels", "metadata.name");

  const meta = metadataOverride(c.labels[METADATA_LABEL]);
  if (!meta.ok) problem(meta.reason, "configLabels");
  const statusValue = c.labels[STATUS_LABEL];
  if (statusValue !== undefined) {
    const s = decodeStatus(statusValue);
    if (s.ok) out.status = s.status;
    else out.statusProblem = s.reason;
  }
  if (problems.length > 0 || !doc?.manifest || !meta.ok) return out;

  let raw: unknown;
  try {
    raw = doc.doc.toJS({ maxAliasCount: 100 });
  } catch {
    return out; // cannot happen: the loader rendered it already
  }
  const data = userPart(toPlainJson(raw) as ChaosSchedule);
  const manifest = doc.manifest;
  for (const m of [data, manifest]) {
    if (meta.value) {
      if (meta.value.labels) m.metadata.labels = { ...meta.value.labels };
      else delete m.metadata.labels;
      if (meta.value.annotations) m.metadata.annotations = { ...meta.value.annotations };
      else delete m.metadata.annotations;
    }
  }
  manifest.metadata.generation = generation;
  delete manifest.status;
  if (out.status) manifest.status = out.status;
  out.manifest = manifest;
  out.data = data;
  out.specHash = specHash(manifest.spec);
  return out;
}

type Meta = { labels?: Record<string, string>; annotations?: Record<string, string> };

function metadataOverride(value: string | undefined): { ok: true; value?: Meta } | { ok: false; reason: string } {
  if (value === undefined) return { ok: true };
  try {
    const m: unknown = JSON.parse(value);
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw new Error("not an object");
    const rec = m as Record<string, unknown>;
    const out: Meta = {};
    for (const k of ["labels", "annotations"] as const) {
      const v = rec[k];
      if (v === undefined) continue;
      if (
        v === null ||
        typeof v !== "object" ||
        Array.isArray(v) ||
        !Object.values(v).every((x) => typeof x === "string")
      )
        throw new Error(`${k} is not a map of strings`);
      out[k] = v as Record<string, string>;
    }
    return { ok: true, value: out };
  } catch (err) {
    return {
      ok: false,
      reason: `label ${METADATA_LABEL} is not valid: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** One key's configs, resolved. */
export interface KeyState {
  key: string;
  /** The highest generation, when it is valid. */
  current?: DecodedConfig;
  /** The highest generation when it is not valid (it is what the key is now: not taken). */
  invalid?: DecodedConfig;
  /** Lower generations left by an interrupted generation change: to be superseded by `current`. */
  stale: DecodedConfig[];
  /** Set when the highest generation exists twice (configs made by hand). */
  duplicate?: Problem;
}

export interface Resolved {
  keys: Map<string, KeyState>;
  /** Configs without the key labels. */
  unkeyed: DecodedConfig[];
}

/** Group decoded configs by key; the highest generation is current, the lower ones stale. */
export function resolveConfigs(configs: DecodedConfig[]): Resolved {
  const byKey = new Map<string, DecodedConfig[]>();
  const unkeyed: DecodedConfig[] = [];
  for (const d of configs) {
    if (d.key === undefined) unkeyed.push(d);
    else byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  }
  const keys = new Map<string, KeyState>();
  for (const [key, list] of byKey) {
    list.sort((a, b) => b.generation - a.generation || (a.config.createdAt < b.config.createdAt ? -1 : 1));
    const [top, ...rest] = list;
    if (!top) continue;
    const state: KeyState = { key, stale: [] };
    const twin = rest.find((d) => d.generation === top.generation);
    if (twin) {
      state.duplicate = {
        file: configFile(top.config),
        line: 0,
        column: 0,
        path: "metadata.generation",
        message: `generation ${top.generation} of ${key} is held by two configs (${top.config.name}, ${twin.config.name}); neither is used until one is removed`,
        rule: "duplicateName",
      };
      state.invalid = top;
    } else if (top.manifest) {
      state.current = top;
      state.stale = rest;
    } else state.invalid = top;
    keys.set(key, state);
  }
  return { keys, unkeyed };
}
