// Parsing an RPC's JSON arguments into typed values; anything malformed is a BadRequest (400).
import type { HelperSpec } from "../engine/engine.js";

export class BadRequest extends Error {
  readonly code = "BadRequest";
}

export type Json = Record<string, unknown>;

export function obj(v: unknown, what = "arguments"): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new BadRequest(`${what} must be an object`);
  return v as Json;
}

export function str(o: Json, k: string): string {
  const v = o[k];
  if (typeof v !== "string" || v.length === 0 || v.length > 4096)
    throw new BadRequest(`${k} must be a non-empty string`);
  return v;
}

export function num(o: Json, k: string, min: number, max: number, dflt?: number): number {
  const v = o[k] ?? dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
    throw new BadRequest(`${k} must be a number in [${min}, ${max}]`);
  return v;
}

export function strArr(o: Json, k: string, optional = false): string[] | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (!Array.isArray(v) || v.length > 256 || !v.every((x) => typeof x === "string"))
    throw new BadRequest(`${k} must be an array of strings`);
  return v;
}

function strRecord(o: Json, k: string): Record<string, string> {
  const v = obj(o[k], k);
  for (const x of Object.values(v)) if (typeof x !== "string") throw new BadRequest(`${k} values must be strings`);
  return v as Record<string, string>;
}

export function helperSpec(v: unknown): HelperSpec {
  const o = obj(v, "spec");
  const cmd = strArr(o, "cmd") ?? [];
  const spec: HelperSpec = { image: str(o, "image"), cmd, labels: strRecord(o, "labels") };
  if (o.name !== undefined) spec.name = str(o, "name");
  if (o.networkMode !== undefined) spec.networkMode = str(o, "networkMode");
  if (o.pidMode !== undefined) spec.pidMode = str(o, "pidMode");
  const capAdd = strArr(o, "capAdd", true);
  if (capAdd) spec.capAdd = capAdd;
  const binds = strArr(o, "binds", true);
  if (binds) spec.binds = binds;
  const env = strArr(o, "env", true);
  if (env) spec.env = env;
  const entrypoint = strArr(o, "entrypoint", true);
  if (entrypoint) spec.entrypoint = entrypoint;
  if (o.restartOnFailure !== undefined) {
    if (typeof o.restartOnFailure !== "boolean") throw new BadRequest("restartOnFailure must be a boolean");
    spec.restartOnFailure = o.restartOnFailure;
  }
  if (o.maxRestarts !== undefined) spec.maxRestarts = num(o, "maxRestarts", 0, 10);
  if (o.init !== undefined) {
    if (typeof o.init !== "boolean") throw new BadRequest("init must be a boolean");
    spec.init = o.init;
  }
  return spec;
}
