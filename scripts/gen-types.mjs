#!/usr/bin/env node
// Generates the runtime JSON Schema, the TypeScript types and the schema validator from the ONE
// schema in crds/chaosschedule.yaml. Output (gitignored): src/api/generated/{schema,types,validator}.ts.
// The validator is ajv's standalone code, compiled here once instead of at every CLI start
// (compiling the schema cost ~230 ms CPU per `chaosctl` run; loading the generated code ~70 ms).
//
// One transform, applied the way a Kubernetes API server reads a structural schema:
//  (a) an object schema without additionalProperties and without
//      x-kubernetes-preserve-unknown-fields gets additionalProperties: false (the API server
//      prunes unknown fields; chaosctl reports them). This includes objects with no
//      properties at all (fault.pause: {}), which an API server prunes to {} as well;
//  (b) x-kubernetes-int-or-string becomes anyOf integer|string;
//  (c) other x-kubernetes-* keys are dropped;
//  (d) metadata gets the built-in ObjectMeta schema (a CRD may only restrict metadata.name);
//  (e) titles name the types json-schema-to-typescript emits.
// Deterministic: same CRD in, same bytes out (checked by test/api/generated.test.ts).
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import { compile } from "json-schema-to-typescript";
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const crdPath = join(root, "crds", "chaosschedule.yaml");
const outDir = join(root, "src", "api", "generated");

export const SCHEMA_ID = "https://chaosctl.io/schemas/chaosschedule-v1alpha1.json";

/** Type names, by dotted property path ("" is the root; "[]" is an array's items). */
const TITLES = {
  "": "ChaosSchedule",
  metadata: "ObjectMeta",
  spec: "ChaosScheduleSpec",
  "spec.selector": "Selector",
  "spec.fault": "Fault",
  "spec.fault.kill": "KillFault",
  "spec.fault.stop": "StopFault",
  "spec.fault.restart": "RestartFault",
  "spec.fault.pause": "PauseFault",
  "spec.fault.netem": "NetemFault",
  "spec.fault.netem.delay": "NetemDelay",
  "spec.fault.netem.loss": "NetemLoss",
  "spec.fault.netem.duplicate": "NetemDuplicate",
  "spec.fault.netem.corrupt": "NetemCorrupt",
  "spec.fault.netem.reorder": "NetemReorder",
  "spec.fault.netem.to": "NetemDestinations",
  "spec.fault.network": "NetworkFault",
  "spec.fault.network.loss": "NetworkLoss",
  "spec.fault.network.partition": "NetworkPartition",
  "spec.fault.network.partition.from": "PartitionPeers",
  "spec.fault.network.bandwidth": "NetworkBandwidth",
  "spec.fault.node": "NodeFault",
  "spec.fault.stress": "StressFault",
  "spec.fault.stress.cpu": "StressCpu",
  "spec.fault.stress.memory": "StressMemory",
  "spec.fault.stress.io": "StressIo",
  "spec.fault.stress.disk": "StressDisk",
  "spec.fault.process": "ProcessFault",
  "spec.safety": "SafetySpec",
  "spec.probes[]": "Probe",
  "spec.probes[].http": "HttpProbe",
  "spec.probes[].http.expect": "HttpExpect",
  "spec.probes[].cmd": "CmdProbe",
  "spec.probes[].cmd.expect": "CmdExpect",
  "spec.probes[].prometheus": "PrometheusProbe",
  "spec.probes[].service": "ServiceProbe",
  "spec.abort": "AbortSpec",
  status: "ChaosScheduleStatus",
  "status.conditions[]": "Condition",
  "status.active[]": "ActiveInjection",
  "status.history[]": "RunRecord",
  "status.history[].probes[]": "ProbeResult",
};

const DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/** The part of Kubernetes ObjectMeta that chaosctl understands; the CRD adds to `name`. */
function objectMeta(crdMeta) {
  return {
    type: "object",
    description: crdMeta.description,
    required: ["name"],
    properties: {
      name: { ...crdMeta.properties?.name, type: "string" },
      namespace: {
        type: "string",
        description: 'DNS-1123 label; a name scope, not a Swarm object. Default "default".',
        maxLength: 63,
        pattern: DNS1123_LABEL,
        default: "default",
      },
      labels: { type: "object", additionalProperties: { type: "string" } },
      annotations: { type: "object", additionalProperties: { type: "string" } },
      generation: {
        type: "integer",
        minimum: 1,
        description: "Store-managed: raised on every spec change; status.observedGeneration follows it.",
      },
    },
  };
}

function transform(node, path) {
  if (Array.isArray(node)) return node.map((n) => transform(n, path));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  const title = TITLES[path];
  if (title) out.title = title;
  if (node["x-kubernetes-int-or-string"] === true) out.anyOf = [{ type: "integer" }, { type: "string" }];
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("x-kubernetes-")) continue;
    if (k === "properties") {
      out.properties = {};
      for (const [name, sub] of Object.entries(v)) {
        const subPath = path ? `${path}.${name}` : name;
        out.properties[name] = transform(path === "" && name === "metadata" ? objectMeta(sub) : sub, subPath);
      }
    } else if (k === "items") {
      out.items = transform(v, `${path}[]`);
    } else if (k === "additionalProperties" && typeof v === "object") {
      out.additionalProperties = transform(v, `${path}{}`);
    } else {
      out[k] = transform(v, path);
    }
  }
  const isObject = node.type === "object";
  if (isObject && !("additionalProperties" in node) && node["x-kubernetes-preserve-unknown-fields"] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * The options src/api/validate.ts validates with: errors for every problem, schema defaults
 * filled in, parentSchema on errors (verbose: "unknown field" suggests the field meant).
 */
export const AJV_OPTIONS = Object.freeze({
  allErrors: true,
  useDefaults: true,
  verbose: true,
  strict: true,
  allowUnionTypes: true,
});

/**
 * ajv standalone ESM code for `schema`, as a TypeScript module. ajv emits CommonJS `require`s of
 * its runtime helpers (e.g. ucs2length for maxLength) even in ESM mode; they go through
 * createRequire (a default import of a CJS module means module.exports in Node but
 * exports.default in vitest: require means the same in both).
 */
export function validatorModule(schema, banner) {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  const code = standaloneCode(ajv, ajv.compile(schema))
    .replace(/^"use strict";/, "")
    .replace(/\brequire\("(ajv\/dist\/runtime\/[\w-]+)"\)/g, 'ajvRequire("$1")');
  if (/(?<!ajv)require\(/i.test(code))
    throw new Error("ajv standalone code has a require() this script does not handle");
  const head = code.includes("ajvRequire(")
    ? 'import { createRequire } from "node:module";\nconst ajvRequire = createRequire(import.meta.url);\n'
    : "";
  return `${banner}// @ts-nocheck -- ajv standalone code (plain JS); src/api/validate.ts gives it its type.\n${head}${code}\n`;
}

export async function generate() {
  const crd = parse(await readFile(crdPath, "utf8"));
  const version = crd.spec.versions[0];
  const body = transform(version.schema.openAPIV3Schema, "");
  const schema = {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: SCHEMA_ID,
    ...body,
    description: `${crd.spec.group}/${version.name} ${crd.spec.names.kind}, generated from crds/chaosschedule.yaml.`,
  };
  const banner =
    "// GENERATED by scripts/gen-types.mjs from crds/chaosschedule.yaml. Do not edit; run `npm run gen`.\n";
  const schemaTs = `${banner}export const chaosScheduleSchema = ${JSON.stringify(schema, null, 2)} as const;\n`;
  const typesTs = await compile(structuredClone(schema), "ChaosSchedule", {
    bannerComment: banner.trimEnd(),
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    unknownAny: true,
    format: true,
    style: { printWidth: 110 },
  });
  const validatorTs = validatorModule(structuredClone(schema), banner);
  return { schema, schemaTs, typesTs, validatorTs };
}

async function main() {
  const { schemaTs, typesTs, validatorTs } = await generate();
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "schema.ts"), schemaTs);
  await writeFile(join(outDir, "types.ts"), typesTs);
  await writeFile(join(outDir, "validator.ts"), validatorTs);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((err) => {
    console.error(`gen-types: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
