// The schema, types and examples cannot drift from the one schema in crds/.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
// @ts-expect-error -- a plain .mjs script without type declarations
import { generate } from "../../scripts/gen-types.mjs";
import { chaosScheduleSchema } from "../../src/api/generated/schema.js";
import { allProblems, loadPaths } from "../../src/api/load.js";
import { SEMANTIC_RULES } from "../../src/api/semantic.js";

const root = join(import.meta.dirname, "..", "..");

interface Generated {
  schema: Record<string, unknown>;
  schemaTs: string;
  typesTs: string;
  validatorTs: string;
}

describe("generated from crds/chaosschedule.yaml", () => {
  it("src/api/generated/ is byte-identical to a fresh generation (run `npm run gen` if not)", async () => {
    const fresh = (await generate()) as Generated;
    expect(await readFile(join(root, "src/api/generated/schema.ts"), "utf8")).toBe(fresh.schemaTs);
    expect(await readFile(join(root, "src/api/generated/types.ts"), "utf8")).toBe(fresh.typesTs);
    expect(await readFile(join(root, "src/api/generated/validator.ts"), "utf8")).toBe(fresh.validatorTs);
    // Deterministic: a second run gives the same bytes.
    const again = (await generate()) as Generated;
    expect(again.typesTs).toBe(fresh.typesTs);
    expect(again.validatorTs).toBe(fresh.validatorTs);
  });

  it("keeps every field of the CRD, with unknown fields closed except where the CRD preserves them", async () => {
    const crd = parse(await readFile(join(root, "crds/chaosschedule.yaml"), "utf8"));
    const source = crd.spec.versions[0].schema.openAPIV3Schema;
    const walk = (crdNode: any, ours: any, path: string): void => {
      if (crdNode.type === "object") {
        const preserve = crdNode["x-kubernetes-preserve-unknown-fields"] === true;
        if (!("additionalProperties" in crdNode))
          expect(ours.additionalProperties, path).toBe(preserve ? undefined : false);
      }
      for (const [k, sub] of Object.entries<any>(crdNode.properties ?? {})) {
        expect(ours.properties?.[k], `${path}.${k}`).toBeDefined();
        walk(sub, ours.properties[k], `${path}.${k}`);
      }
      if (crdNode.items) walk(crdNode.items, ours.items, `${path}[]`);
      if (crdNode["x-kubernetes-int-or-string"])
        expect(ours.anyOf, path).toEqual([{ type: "integer" }, { type: "string" }]);
    };
    walk(source, chaosScheduleSchema, "$");
    expect(JSON.stringify(chaosScheduleSchema)).not.toMatch(/x-kubernetes-/);
    expect(chaosScheduleSchema.properties.metadata.properties.namespace.default).toBe("default");
  });
});

describe("manifests/examples", () => {
  it("has one example per fault of the practice, and every one validates", async () => {
    const dir = join(root, "manifests/examples");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
    expect(files).toEqual([
      "kill-random.yaml",
      "netem-delay.yaml",
      "network-loss.yaml",
      "node-drain.yaml",
      "node-partition.yaml",
      "node-reboot.yaml",
      "pause.yaml",
      "web-probed-kill.yaml",
    ]);
    const r = await loadPaths([dir]);
    expect(allProblems(r)).toEqual([]);
    const byFile = Object.fromEntries(r.documents.map((d) => [d.file.slice(dir.length + 1), d.manifest]));
    expect(byFile["kill-random.yaml"]?.spec).toMatchObject({ schedule: "@every 10m", fault: { kill: {} } });
    expect(byFile["netem-delay.yaml"]?.spec.fault.netem?.delay).toMatchObject({
      jitter: expect.any(String),
      distribution: "normal",
    });
    expect(byFile["network-loss.yaml"]?.spec.fault.network?.loss).toBeDefined();
    expect(byFile["node-drain.yaml"]?.spec.fault.node?.action).toBe("drain");
    expect(byFile["node-partition.yaml"]?.spec.fault.node?.action).toBe("partition");
    expect(byFile["node-reboot.yaml"]?.spec.fault.node?.action).toBe("reboot");
    expect(byFile["pause.yaml"]?.spec.fault.pause).toEqual({});
    expect(byFile["web-probed-kill.yaml"]?.spec.probes?.map((p) => [p.name, p.mode])).toEqual([
      ["web-answers", "Continuous"],
      ["web-steady", "EOT"],
    ]);
  });
});

describe("docs/manifest.md", () => {
  it("documents every semantic rule and every top-level spec field", async () => {
    const doc = await readFile(join(root, "docs/manifest.md"), "utf8");
    for (const rule of Object.keys(SEMANTIC_RULES)) expect(doc, rule).toContain(`\`${rule}\``);
    for (const field of Object.keys(chaosScheduleSchema.properties.spec.properties))
      expect(doc, field).toContain(`\`${field}`);
  });
});
