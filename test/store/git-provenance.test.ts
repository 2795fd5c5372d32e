// Provenance, pure: the commit and path of the manifest travel from the owner onto the guard's
// labels and back (so a restarted controller and audit read them from the cluster), and into
// status (the run's history record and the active entry).
import { describe, expect, it } from "vitest";
import { guardLabels } from "../../src/faults/guard/spec.js";
import { guardHandle } from "../../src/faults/guard/observe.js";
import { deriveStatus } from "../../src/controller/status.js";
import { L_COMMIT, L_SOURCE_PATH } from "../../src/api/labels.js";
import type { Owner, Target } from "../../src/faults/driver.js";
import { T0, guard, manifest, service, snapshot } from "../support/builders.js";

const source = { commit: "3f1c2d0e9b8a7f6e5d4c3b2a190817263544f5e6", path: "chaos/web-pause.yaml" };
const target: Target = {
  kind: "container",
  nodeId: "n1",
  serviceId: "svc-web",
  serviceName: "web",
  taskId: "web.1",
  containerId: "ctr-web.1",
};

describe("provenance", () => {
  it("is written on the guard's labels and read back into the handle's owner", () => {
    const owner: Owner = {
      schedule: "default/web-pause",
      generation: 2,
      run: "r1",
      expires: new Date(T0.getTime() + 60_000),
      source,
    };
    const labels = guardLabels(owner, target, "pause", {});
    expect(labels[L_COMMIT]).toBe(source.commit);
    expect(labels[L_SOURCE_PATH]).toBe(source.path);
    const h = guardHandle({
      id: "g1",
      names: ["/g"],
      image: "i",
      labels,
      state: "running",
      created: T0.getTime() / 1000,
    });
    expect(h?.owner.source).toEqual(source);
    // Without a source (directory store), no such labels and none read back.
    const plain = guardLabels({ ...owner, source: undefined }, target, "pause", {});
    expect(Object.keys(plain)).not.toContain(L_COMMIT);
    expect(
      guardHandle({ id: "g2", names: [], image: "i", labels: plain, state: "running", created: 0 })?.owner.source,
    ).toBeUndefined();
  });

  it("is recorded in status: the run's history entry (from the start event) and the active entry (from the guard)", () => {
    const web = service("web", 2);
    const m = manifest("web-pause", { selector: { services: ["web"] }, fault: { pause: {} }, duration: "60s" });
    const st = deriveStatus({
      now: T0,
      manifest: m.manifest,
      injections: [
        guard("default/web-pause", "r1", "web.1", {
          owner: { schedule: "default/web-pause", generation: 1, run: "r1", source },
        }),
      ],
      events: [
        {
          type: "started",
          run: "r1",
          generation: 1,
          fault: "pause",
          scheduledAt: T0,
          targets: [target],
          services: ["web"],
          source,
        },
      ],
      snapshot: snapshot([web]),
      recoveryTimeoutMs: 600_000,
    });
    expect(st.history?.[0]?.source).toEqual(source);
    expect(st.active?.[0]?.source).toEqual(source);
  });
});
