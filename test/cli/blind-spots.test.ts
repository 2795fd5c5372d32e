// What a read view could not see says so: nodes whose containers no source reported are named
// (with how to see them), never shown as "none"; describe marks a status no controller keeps.
import { describe, expect, it } from "vitest";
import { unobservedNodes, unobservedNote } from "../../src/cli/active.js";
import { describeText } from "../../src/cli/commands/describe.js";
import { freshness } from "../../src/cli/freshness.js";
import type { StoredManifest } from "../../src/store/store.js";
import { manifest, node, snapshot, T0 } from "../support/builders.js";

const stored = (status: StoredManifest["status"]): StoredManifest =>
  manifest("p", { duration: "1m", selector: { services: ["web"] }, fault: { pause: {} } }, status ? { status } : {});

describe("unobserved nodes", () => {
  it("are the nodes, not down, that no source reported", () => {
    const snap = snapshot([], { nodes: [node("n1"), node("n2"), node("n3", { state: "down" })] });
    expect(unobservedNodes({ snapshot: snap, perNode: [{ nodeId: "n1", containers: [] }] })).toEqual(["host-n2"]);
    expect(unobservedNote(["demo-2", "demo-3"])).toMatch(
      /^not observed on demo-2, demo-3 \(no agent reports them\): .*--agent-token-file/,
    );
    expect(unobservedNote([])).toBe("");
  });

  it("describe: no injection seen is '<none on the nodes observed>', with the nodes not asked named", () => {
    const text = describeText(
      stored({ phase: "Active", active: [{ run: "r1", fault: "pause", node: "demo-2" }] }),
      T0,
      {
        active: [],
        unobserved: ["demo-2", "demo-3"],
      },
    );
    expect(text).toMatch(
      /^Active Injections: \(from the cluster\) \(not observed on demo-2, demo-3 .*\)\n {2}<none on the nodes observed>$/m,
    );
    expect(text).not.toMatch(/Active Injections:[^\n]*\n {2}<none>\n/);
  });

  it("describe: Phase 'as last written' and who reconciles, from the lease", () => {
    const none = freshness({ where: "file /run/x.json", instance: "default" }, T0);
    const text = describeText(stored({ phase: "Active" }), T0, { controller: none });
    expect(text).toMatch(/^Phase:\s+Active \(as last written\)$/m);
    expect(text).toMatch(/^Controller:\s+none: no controller of instance "default" has held/m);
    const held = freshness(
      {
        where: "file /run/x.json",
        instance: "default",
        record: {
          holder: "h/1/2/abc",
          renewTime: T0.getTime() - 1_000,
          leaseDurationMs: 15_000,
          acquireTime: 0,
          transitions: 0,
          lastPassTime: T0.getTime() - 3_000,
        },
      },
      T0,
    );
    expect(held).toEqual({ current: true, text: "h/1/2/abc, last pass 3s ago (lease renewed 1s ago)" });
    expect(describeText(stored({ phase: "Active" }), T0, { controller: held })).toMatch(/^Phase:\s+Active$/m);
    expect(describeText(stored(undefined), T0, {})).toMatch(
      /^Phase:\s+Pending \(no controller has written status for it yet\)$/m,
    );
  });
});

describe("describe: a held-back run", () => {
  it("says which run waits, why, and until when", () => {
    const text = describeText(
      manifest(
        "p",
        { selector: { services: ["web"] }, fault: { kill: {} } },
        {
          status: {
            phase: "Scheduled",
            waiting: {
              run: "r3",
              reason: "MaxUnavailable",
              message: "service web: 1 task(s) unavailable + 1 more would exceed maxUnavailable 1",
              retryUntil: "2026-01-01T10:01:00.000Z",
            },
          },
        },
      ),
      T0,
    );
    expect(text).toMatch(
      /^Waiting:\s+run r3 held back: MaxUnavailable: service web: 1 task\(s\) unavailable .*; tried again until 2026-01-01T10:01:00.000Z \(its starting deadline\), then skipped$/m,
    );
  });
});
