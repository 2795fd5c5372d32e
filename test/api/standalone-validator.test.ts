// The build-time (ajv standalone) validator behaves exactly as the schema compiled at run time
// with the same options: same verdict, same errors (paths, keywords, params, parentSchema), same
// defaults filled in, over the examples and randomly broken variants of them.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Ajv, type SchemaObject, type ValidateFunction } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
// @ts-expect-error -- a plain .mjs script without type declarations
import { AJV_OPTIONS } from "../../scripts/gen-types.mjs";
import { chaosScheduleSchema } from "../../src/api/generated/schema.js";
import generated from "../../src/api/generated/validator.js";

const root = join(import.meta.dirname, "..", "..");
const standalone = generated as unknown as ValidateFunction;
const runtime = new Ajv(AJV_OPTIONS as Record<string, unknown>).compile(
  structuredClone(chaosScheduleSchema) as unknown as SchemaObject,
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

async function examples(): Promise<Json[]> {
  const dir = join(root, "manifests/examples");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
  return Promise.all(files.map(async (f) => parse(await readFile(join(dir, f), "utf8")) as Json));
}

/** Every container path (objects and arrays) in a document, root first. */
function containers(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === "object") {
    out.push(at);
    for (const [k, sub] of Object.entries(v)) containers(sub, [...at, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function at(doc: Json, path: (string | number)[]): Json {
  return path.reduce<Json>((n, k) => (n as Record<string, Json>)[k] as Json, doc);
}

/** The same validation by both validators, on copies: verdict, errors and the defaulted data. */
function both(doc: Json): { runtime: unknown; standalone: unknown } {
  const a = structuredClone(doc);
  const b = structuredClone(doc);
  const ra = runtime(a);
  const rb = standalone(b);
  return {
    runtime: { ok: ra, errors: runtime.errors ?? null, data: a },
    standalone: { ok: rb, errors: standalone.errors ?? null, data: b },
  };
}

const wrongValues: Json[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e12,
  "",
  "x".repeat(300),
  "SIGNOPE",
  "10q",
  [],
  [1, "a"],
  {},
  { nope: 1 },
];
const keys = [
  "name",
  "namespace",
  "schedule",
  "duration",
  "selector",
  "fault",
  "mode",
  "services",
  "kill",
  "signal",
  "pause",
  "netem",
  "delay",
  "loss",
  "percent",
  "network",
  "node",
  "action",
  "safety",
  "labels",
  "unknownField",
  "jitter",
  "rate",
];

describe("the generated standalone validator", () => {
  it("agrees with a runtime compilation on every example", async () => {
    const docs = await examples();
    expect(docs.length).toBeGreaterThan(4);
    for (const doc of docs) {
      const r = both(doc);
      expect(r.standalone).toEqual(r.runtime);
      expect((r.standalone as { ok: boolean }).ok).toBe(true);
    }
  });

  it("agrees with a runtime compilation on randomly broken manifests (errors, order and defaults)", async () => {
    const docs = await examples();
    let invalid = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: docs.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...keys), fc.constantFrom(...wrongValues), fc.boolean()), {
          minLength: 1,
          maxLength: 4,
        }),
        (i, edits) => {
          const doc = structuredClone(docs[i] as Json);
          for (const [pick, key, value, del] of edits) {
            const paths = containers(doc);
            const target = at(doc, paths[pick % paths.length] as (string | number)[]) as Record<string, Json> | Json[];
            // A fresh copy each time: the same [] or {} put in twice could end up inside itself.
            if (Array.isArray(target)) target[pick % (target.length + 1)] = structuredClone(value);
            else if (del && Object.keys(target).length)
              delete target[Object.keys(target)[pick % Object.keys(target).length] as string];
            else target[key] = structuredClone(value);
          }
          const r = both(doc);
          if (!(r.runtime as { ok: boolean }).ok) invalid++;
          expect(r.standalone).toEqual(r.runtime);
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    expect(invalid).toBeGreaterThan(200); // the edits really broke most documents
  });
});
