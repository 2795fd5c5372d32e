// The pure parts of the Swarm config store: config names, the status label (compression,
// trimming), decoding a config, resolving a key's generations; and apply's plan.
import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { parse } from "yaml";
import type { ChaosSchedule, ChaosScheduleStatus, RunRecord } from "../../src/api/types.js";
import type { ConfigInfo } from "../../src/engine/engine.js";
import { checkManifest, planManifestApply, userPart, withoutDefaults } from "../../src/store/apply-plan.js";
import { decodeConfig, resolveConfigs } from "../../src/store/swarm/decode.js";
import {
  configName,
  GENERATION_LABEL,
  METADATA_LABEL,
  NAME_LABEL,
  NAMESPACE_LABEL,
  STATUS_LABEL,
} from "../../src/store/swarm/labels.js";
import { COMPRESS_ABOVE, decodeStatus, encodeStatus } from "../../src/store/swarm/status-label.js";
import { ManifestRejected } from "../../src/store/store.js";
import { manifest } from "./fixtures.js";

const obj = (text: string): ChaosSchedule => parse(text) as ChaosSchedule;

function config(name: string, data: string, labels: Record<string, string>, id = name): ConfigInfo {
  return { id, name, data, labels, version: 1, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z" };
}
const keyLabels = (name: string, generation: number, namespace = "default"): Record<string, string> => ({
  [NAMESPACE_LABEL]: namespace,
  [NAME_LABEL]: name,
  [GENERATION_LABEL]: String(generation),
});

describe("configName", () => {
  it("is a valid Docker config name of at most 64 characters, distinct per scope, key and generation", () => {
    const long = `${"n".repeat(63)}/${"x".repeat(63)}`;
    for (const [scope, key, gen] of [
      ["default", "default/web", 1],
      ["s", long, 12345],
      ["t-1", "a/b", 2],
    ] as const) {
      const n = configName(scope, key, gen);
      expect(n.length).toBeLessThanOrEqual(64);
      expect(n).toMatch(/^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/);
      expect(n.endsWith(`.g${gen}`)).toBe(true);
    }
    expect(configName("a", "default/web", 1)).not.toBe(configName("b", "default/web", 1));
    expect(configName("a", "default/web", 1)).not.toBe(configName("a", "default/web", 2));
    expect(configName("a", "default/web", 1).startsWith("chaosctl.default.web.")).toBe(true);
  });
});

describe("status label", () => {
  const small: ChaosScheduleStatus = { observedGeneration: 2, phase: "Active" };

  it("is plain JSON when small, gzip+base64 when large, and decodes back either way", () => {
    const a = encodeStatus(small);
    expect(a).toEqual({ ok: true, value: JSON.stringify(small), trimmed: 0 });
    const large: ChaosScheduleStatus = {
      ...small,
      history: Array.from(
        { length: 100 },
        (_, i) => ({ run: `r${i}`, result: "Succeeded", message: "same text ".repeat(30) }) as never,
      ),
    };
    const b = encodeStatus(large);
    if (!b.ok) throw new Error("not encoded");
    expect(JSON.stringify(large).length).toBeGreaterThan(COMPRESS_ABOVE);
    expect(b.value.startsWith("gzip+base64:")).toBe(true);
    expect(b.value.length).toBeLessThan(COMPRESS_ABOVE);
    for (const v of [a, b])
      if (v.ok) expect(decodeStatus(v.value)).toEqual({ ok: true, status: v === a ? small : large });
  });

  it("drops the oldest history (the most that fit are kept) with a StatusTrimmed condition whose time stays put", () => {
    const history = Array.from({ length: 100 }, (_, i) => ({
      run: `r${i}`,
      result: "Succeeded",
      message: randomBytes(200).toString("hex"),
    })) as RunRecord[];
    const status = { ...small, history } as ChaosScheduleStatus;
    const t1 = new Date("2026-01-01T00:00:00Z");
    const e = encodeStatus(status, 20_000, t1);
    if (!e.ok) throw new Error("not encoded");
    expect(e.value.length).toBeLessThanOrEqual(20_000);
    const back = decodeStatus(e.value);
    if (!back.ok) throw new Error(back.reason);
    const kept = back.status.history ?? [];
    expect(e.trimmed).toBe(100 - kept.length);
    expect(kept).toEqual(history.slice(100 - kept.length));
    // About the most that fit: two more entries would not fit even without the condition.
    const twoMore = encodeStatus({ ...status, history: history.slice(100 - kept.length - 2) }, 20_000, t1);
    expect(twoMore.ok ? twoMore.trimmed : -1).toBeGreaterThan(0);
    const cond = back.status.conditions?.find((c) => c.type === "StatusTrimmed");
    expect(cond).toMatchObject({ status: "True", reason: "TooLarge", lastTransitionTime: t1.toISOString() });
    // Written again later (the controller kept the condition): the same label, nothing to write.
    const again = encodeStatus(
      { ...status, conditions: back.status.conditions ?? [] },
      20_000,
      new Date("2026-02-01T00:00:00Z"),
    );
    expect(again.ok && again.value).toBe(e.value);
  });

  it("says so when even no history does not fit; a damaged label does not decode", () => {
    const huge = {
      ...small,
      conditions: [{ type: "Ready", status: "True", message: randomBytes(20_000).toString("hex") }],
    } as ChaosScheduleStatus;
    expect(encodeStatus(huge, 10_000)).toMatchObject({ ok: false });
    expect(decodeStatus("{not json").ok).toBe(false);
    expect(decodeStatus("gzip+base64:!!!").ok).toBe(false);
    expect(decodeStatus("[1,2]").ok).toBe(false);
  });
});

describe("decodeConfig / resolveConfigs", () => {
  it("decodes a config: defaulted manifest, generation from the label, metadata label over the data's, status", () => {
    const status = { observedGeneration: 3, phase: "Idle" };
    const d = decodeConfig(
      config("c1", manifest("web"), {
        ...keyLabels("web", 3),
        [METADATA_LABEL]: JSON.stringify({ labels: { team: "x" } }),
        [STATUS_LABEL]: JSON.stringify(status),
      }),
    );
    expect(d.problems).toEqual([]);
    expect(d.key).toBe("default/web");
    expect(d.manifest?.metadata).toMatchObject({ name: "web", generation: 3, labels: { team: "x" } });
    expect(d.manifest?.spec.schedule).toBe("@once");
    expect(d.data?.spec).toEqual({ selector: { services: ["web"] }, fault: { kill: {} } });
    expect(d.status).toEqual(status);
  });

  it("turns every kind of bad config into problems located at the config, never an exception", () => {
    const cases: Array<[ConfigInfo, RegExp]> = [
      [config("bad-yaml", "spec: [", keyLabels("a", 1)), /./],
      [config("no-labels", manifest("a"), {}), /labels .* are required/],
      [config("bad-gen", manifest("a"), { ...keyLabels("a", 1), [GENERATION_LABEL]: "zero" }), /positive integer/],
      [
        config("other-name", manifest("b"), keyLabels("a", 1)),
        /the manifest is default\/b but the labels say default\/a/,
      ],
      [config("two-docs", manifest("a") + "---\n" + manifest("a"), keyLabels("a", 1)), /one manifest/],
      [config("bad-meta", manifest("a"), { ...keyLabels("a", 1), [METADATA_LABEL]: "{labels: 1}" }), /is not valid/],
      [config("binary", "\u0000\u0001", keyLabels("a", 1)), /binary/],
      [config("invalid", manifest("a").replace("kill: {}", "kill: {}\n    pause: {}"), keyLabels("a", 1)), /./],
    ];
    for (const [c, message] of cases) {
      const d = decodeConfig(c);
      expect(d.manifest, c.name).toBeUndefined();
      expect(d.problems.length, c.name).toBeGreaterThan(0);
      expect(d.problems.map((p) => p.message).join("; "), c.name).toMatch(message);
      expect(d.problems[0]?.file).toBe(`swarm config ${c.name}`);
    }
    // A broken status label leaves the manifest usable (status is the controller's to rewrite).
    const s = decodeConfig(config("bad-status", manifest("a"), { ...keyLabels("a", 1), [STATUS_LABEL]: "{" }));
    expect(s.manifest).toBeDefined();
    expect(s.statusProblem).toMatch(/does not decode/);
  });

  it("resolves a key by its highest generation: lower valid ones are stale, an invalid top is what the key is", () => {
    const g1 = decodeConfig(config("g1", manifest("a"), keyLabels("a", 1)));
    const g2 = decodeConfig(config("g2", manifest("a", { services: "api" }), keyLabels("a", 2)));
    const g3bad = decodeConfig(config("g3", "nope: [", keyLabels("a", 3)));
    let r = resolveConfigs([g1, g2]).keys.get("default/a");
    expect(r?.current?.config.name).toBe("g2");
    expect(r?.stale.map((d) => d.config.name)).toEqual(["g1"]);
    r = resolveConfigs([g1, g2, g3bad]).keys.get("default/a");
    expect(r?.current).toBeUndefined();
    expect(r?.invalid?.config.name).toBe("g3");
    expect(r?.stale).toEqual([]); // nothing is cleaned up under an invalid top
    const twin = decodeConfig(config("g2b", manifest("a"), keyLabels("a", 2)));
    r = resolveConfigs([g2, twin]).keys.get("default/a");
    expect(r?.current).toBeUndefined();
    expect(r?.duplicate?.message).toMatch(/generation 2 of default\/a is held by two configs/);
    expect(resolveConfigs([decodeConfig(config("x", manifest("a"), {}))]).unkeyed).toHaveLength(1);
  });
});

describe("planManifestApply", () => {
  const origin = { appliedBy: "u@h" };
  const now = new Date("2026-01-01T00:00:00Z");
  const current = (text: string, generation: number) => {
    const c = checkManifest(obj(text));
    return { data: userPart(obj(text)), specHash: c.specHash, generation };
  };

  it("created / unchanged / configured (metadata only: same generation; spec: next generation)", () => {
    const m = checkManifest(obj(manifest("a")));
    expect(planManifestApply(undefined, m, origin, now)).toMatchObject({
      result: "created",
      generation: 1,
      next: {
        metadata: {
          generation: 1,
          annotations: { "chaosctl.io/applied-by": "u@h", "chaosctl.io/applied-at": now.toISOString() },
        },
      },
    });
    expect(planManifestApply(current(manifest("a"), 4), m, origin, now)).toEqual({
      result: "unchanged",
      generation: 4,
    });
    const labelled = obj(manifest("a"));
    labelled.metadata.labels = { x: "y" };
    expect(planManifestApply(current(manifest("a"), 4), checkManifest(labelled), origin, now)).toMatchObject({
      result: "configured",
      generation: 4,
    });
    expect(
      planManifestApply(current(manifest("a"), 4), checkManifest(obj(manifest("a", { services: "api" }))), origin, now),
    ).toMatchObject({ result: "configured", generation: 5 });
  });

  it("spelled-out defaults are no change, and the stored spec is kept as written", () => {
    const explicit = obj(manifest("a"));
    explicit.spec.schedule = "@once";
    explicit.metadata.labels = { x: "y" };
    const plan = planManifestApply(current(manifest("a"), 1), checkManifest(explicit), origin, now);
    expect(plan).toMatchObject({ result: "configured", generation: 1 });
    expect(plan.next?.spec).toEqual({ selector: { services: ["web"] }, fault: { kill: {} } });
  });

  it("ignores status, generation and store annotations given by the user; rejects an invalid manifest", () => {
    const m = obj(manifest("a"));
    m.status = { phase: "Failed" };
    m.metadata.generation = 99;
    m.metadata.annotations = { "chaosctl.io/applied-by": "mallory@x", "chaosctl.io/spec-hash": "sha256:0", keep: "me" };
    const c = checkManifest(m);
    expect(c.data.status).toBeUndefined();
    expect(c.data.metadata).toEqual({ name: "a", annotations: { keep: "me" } });
    expect(planManifestApply(undefined, c, origin, now).next?.metadata.annotations?.["chaosctl.io/applied-by"]).toBe(
      "u@h",
    );
    const bad = obj(manifest("a"));
    (bad.spec as unknown as Record<string, unknown>).schedule = "@every banana";
    expect(() => checkManifest(bad)).toThrow(ManifestRejected);
  });
});

describe("semanticMerge: a changed spec keeps the stored form where the meaning did not change", () => {
  const origin = { appliedBy: "u@h" };
  const now = new Date("2026-01-01T00:00:00Z");

  it("a defaulted incoming manifest adds no spelled-out defaults and removes none the file has", () => {
    const storedText = manifest("a").replace("spec:\n", "spec:\n  suspend: false\n"); // an explicit default
    const c = checkManifest(obj(storedText));
    const current = {
      data: userPart(obj(storedText)),
      specHash: c.specHash,
      generation: 1,
      defaultedSpec: c.loaded.spec,
    };
    // What a CLI passes: the loader's defaulted manifest, with one real change.
    const incoming = checkManifest(obj(manifest("a", { services: "api" })));
    const defaulted = checkManifest(incoming.loaded);
    const plan = planManifestApply(current, defaulted, origin, now);
    expect(plan).toMatchObject({ result: "configured", generation: 2 });
    expect(plan.next?.spec).toEqual({ suspend: false, selector: { services: ["api"] }, fault: { kill: {} } });
  });

  it("a changed fault replaces the old one whole; a non-default value is written", () => {
    const c = checkManifest(obj(manifest("a")));
    const current = {
      data: userPart(obj(manifest("a"))),
      specHash: c.specHash,
      generation: 3,
      defaultedSpec: c.loaded.spec,
    };
    const next = obj(manifest("a"));
    next.spec.fault = { pause: {} };
    next.spec.duration = "30s";
    next.spec.historyLimit = 3;
    const plan = planManifestApply(current, checkManifest(checkManifest(next).loaded), origin, now);
    expect(plan.next?.spec).toEqual({
      selector: { services: ["web"] },
      fault: { pause: {} },
      duration: "30s",
      historyLimit: 3,
    });
  });
});

describe("withoutDefaults", () => {
  it("drops exactly what the schema fills in again, keeping key order and the meaning", () => {
    const raw = obj(manifest("a"));
    raw.spec.historyLimit = 3; // not the default: kept
    const defaulted = checkManifest(raw).loaded.spec;
    expect(Object.keys(defaulted).length).toBeGreaterThan(Object.keys(raw.spec).length);
    const t = performance.now();
    const minimal = withoutDefaults(defaulted);
    const ms = performance.now() - t;
    expect(minimal).toEqual({ selector: { services: ["web"] }, fault: { kill: {} }, historyLimit: 3 });
    expect(checkManifest({ ...raw, spec: minimal }).specHash).toBe(checkManifest(raw).specHash);
    expect(ms).toBeLessThan(500);
  });
});
