// reportInvalid on real files in temp folders: an invalid manifest gets Ready=False/InvalidSpec
// in its own status and nothing else moves; files that do not parse and duplicates are never
// written; the user's edit racing the write wins.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { racingStore } from "../support/racing-store.js";
import { invalidMessage, MAX_INVALID_MESSAGE, type StoreSnapshot } from "../../src/store/store.js";
import type { Problem } from "../../src/api/problems.js";
import { manifest } from "./fixtures.js";
import { identity, status, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const T0 = new Date("2024-05-01T10:00:00.000Z");
const T1 = new Date("2024-05-01T10:05:00.000Z");

/** Two faults (kill and pause) and an unknown field; comments, quoting, a flow map around them. */
const BROKEN = `# A schedule being edited.
apiVersion: chaosctl.io/v1alpha1   # the group
kind: "ChaosSchedule"
metadata:
  name: 'broken'
  labels: {team: web}   # flow map
spec:
  selector:
    services: [web]
  colour: blue            # not a field
  fault:
    kill: {}
    pause: {}
# trailing comment
`;

/** BROKEN made valid by its author. */
const FIXED = BROKEN.replace("  colour: blue            # not a field\n", "").replace("    pause: {}\n", "");

function messageOf(snap: StoreSnapshot, key: string): string {
  const inv = snap.invalid.find((i) => i.key === key);
  if (!inv) throw new Error(`${key} is not reported invalid`);
  return invalidMessage(inv.problems);
}

const readyBlock = (message: string, since: string): string =>
  `status:\n  conditions:\n    - type: Ready\n      status: "False"\n      reason: InvalidSpec\n      message: ${stringify(message, { lineWidth: 0 }).trimEnd()}\n      lastTransitionTime: ${since}\n`;

describe("reportInvalid", () => {
  it("writes Ready=False/InvalidSpec into the invalid document's status and changes no other byte; a second call writes nothing", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(file, BROKEN);
    let renames = 0;
    const store = new DirectoryStore({ dir, hooks: { beforeRename: () => void renames++ } });
    const snap = await store.list();
    expect(snap.manifests).toEqual([]);
    const message = messageOf(snap, "default/broken");
    // Both faults are in the message, located.
    expect(message).toMatch(/^10:3 spec\.colour: unknown field "colour"/);
    expect(message).toMatch(
      /; 13:5 spec\.fault\.pause: 2 faults \(kill, pause\) in one schedule: a ChaosSchedule injects exactly one fault; write one schedule per fault$/,
    );
    expect(message.length).toBeLessThanOrEqual(MAX_INVALID_MESSAGE);

    expect(await store.reportInvalid("default/broken", message, T0)).toBe("written");
    const got = await readFile(file, "utf8");
    // The YAML rendering of the message may differ from JSON's quoting: compare the data, then the bytes around it.
    const cut = got.indexOf("status:\n");
    expect(got.slice(0, cut)).toBe(BROKEN.replace("# trailing comment\n", ""));
    expect(got.slice(got.indexOf("# trailing comment\n"))).toBe("# trailing comment\n");
    expect(got).toBe(
      BROKEN.replace("# trailing comment\n", readyBlock(message, T0.toISOString()) + "# trailing comment\n"),
    );
    // Still invalid for the same reasons (the status it now has is valid status).
    expect(messageOf(await store.list(), "default/broken")).toBe(message);
    expect((parse(got) as { status: unknown }).status).toEqual({
      conditions: [
        { type: "Ready", status: "False", reason: "InvalidSpec", message, lastTransitionTime: T0.toISOString() },
      ],
    });
    // No generation, no spec-hash annotation: metadata is exactly the user's.
    expect(got).not.toContain("generation");
    expect(got).not.toContain("spec-hash");
    expect(renames).toBe(1);

    // Same message later: nothing to write (lastTransitionTime stays, the file is not touched).
    const before = await identity(file);
    expect(await store.reportInvalid("default/broken", message, T1)).toBe("unchanged");
    expect(await identity(file)).toBe(before);
    expect(renames).toBe(1);
    // A new message: written, but Ready did not flip, so lastTransitionTime stays T0.
    expect(await store.reportInvalid("default/broken", "5:3 spec.colour: unknown field", T1)).toBe("written");
    const again = await readFile(file, "utf8");
    expect(again).toBe(
      got.slice(0, cut) + readyBlock("5:3 spec.colour: unknown field", T0.toISOString()) + "# trailing comment\n",
    );
  });

  it("keeps every other status field and condition; Ready is replaced in place and its time moves when it flips", async () => {
    const file = join(dir, "m.yaml");
    const text =
      BROKEN.replace("# trailing comment\n", "") +
      `status:
  observedGeneration: 3
  phase: Active
  conditions:
    - {type: Healing, status: "True"}
    - type: Ready
      status: "True"
      reason: Reconciled
      lastTransitionTime: "2024-01-01T00:00:00.000Z"
  history:
    - {startedAt: "2024-01-01T00:00:00Z", result: Succeeded}
`;
    await writeFile(file, text);
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.reportInvalid("default/broken", "bad spec", T0)).toBe("written");
    const st = (parse(await readFile(file, "utf8")) as { status: unknown }).status;
    expect(st).toEqual({
      observedGeneration: 3,
      phase: "Active",
      conditions: [
        { type: "Healing", status: "True" },
        {
          type: "Ready",
          status: "False",
          reason: "InvalidSpec",
          message: "bad spec",
          lastTransitionTime: T0.toISOString(),
        },
      ],
      history: [{ startedAt: "2024-01-01T00:00:00Z", result: "Succeeded" }],
    });
    expect((await readFile(file, "utf8")).startsWith(BROKEN.replace("# trailing comment\n", ""))).toBe(true);
  });

  it("never writes a file with a YAML syntax error, in any of its documents", async () => {
    const file = join(dir, "m.yaml");
    // Document 0 is invalid but readable (its key is known), document 1 does not parse.
    const text = BROKEN + "---\n" + manifest("other").replace("services: [web]", "services: [web");
    await writeFile(file, text);
    const store = new DirectoryStore({ dir });
    const snap = await store.list();
    expect(snap.invalid.some((i) => i.key === "default/broken")).toBe(true);
    expect(await store.reportInvalid("default/broken", messageOf(snap, "default/broken"), T0)).toBe("invalid");
    expect(await readFile(file, "utf8")).toBe(text);
  });

  it("never writes a document that became unparsable after the last list, or one with a duplicate mapping key", async () => {
    const file = join(dir, "m.yaml");
    await writeFile(file, BROKEN);
    const store = new DirectoryStore({ dir });
    await store.list();
    const syntax = BROKEN.replace("services: [web]", "services: [web");
    await writeFile(file, syntax);
    expect(await store.reportInvalid("default/broken", "x", T0)).toBe("invalid");
    expect(await readFile(file, "utf8")).toBe(syntax);
    const dupKey = BROKEN.replace("spec:\n", "status: {}\nspec:\n") + "status: {phase: Idle}\n";
    await writeFile(file, dupKey);
    expect(await store.reportInvalid("default/broken", "x", T0)).toBe("invalid");
    expect(await readFile(file, "utf8")).toBe(dupKey);
  });

  it("never writes a namespace/name defined twice (two files, or twice in one file)", async () => {
    await writeFile(join(dir, "a.yaml"), BROKEN);
    await writeFile(join(dir, "b.yaml"), manifest("broken"));
    const store = new DirectoryStore({ dir });
    await store.list();
    expect(await store.reportInvalid("default/broken", "x", T0)).toBe("invalid");
    expect(await readFile(join(dir, "a.yaml"), "utf8")).toBe(BROKEN);
    expect(await readFile(join(dir, "b.yaml"), "utf8")).toBe(manifest("broken"));

    const one = join(dir, "c.yaml");
    const twice = BROKEN.replace(/broken/g, "twice") + "---\n" + manifest("twice");
    await writeFile(one, twice);
    await store.list();
    expect(await store.reportInvalid("default/twice", "x", T0)).toBe("invalid");
    expect(await readFile(one, "utf8")).toBe(twice);
    // A duplicate that appears after the last list, in the same file: also never written.
    const d = join(dir, "d.yaml");
    await writeFile(d, BROKEN.replace(/broken/g, "late"));
    await store.list();
    const late = BROKEN.replace(/broken/g, "late") + "---\n" + manifest("late");
    await writeFile(d, late);
    expect(await store.reportInvalid("default/late", "x", T0)).toBe("invalid");
    expect(await readFile(d, "utf8")).toBe(late);
  });

  it("answers conflict for a document that is valid now, gone for an unknown key, and writes nothing", async () => {
    const file = join(dir, "m.yaml");
    await writeFile(file, BROKEN);
    const store = new DirectoryStore({ dir });
    await store.list();
    await writeFile(file, FIXED);
    expect(await store.reportInvalid("default/broken", "x", T0)).toBe("conflict");
    expect(await readFile(file, "utf8")).toBe(FIXED);
    expect(await store.reportInvalid("default/nobody", "x", T0)).toBe("gone");
    expect(await readdir(dir)).toEqual(["m.yaml"]);
  });

  it("keeps a user's in-place edit that lands during the rename, with the condition re-applied on top", async () => {
    const file = join(dir, "m.yaml");
    await writeFile(file, BROKEN);
    const { store, arm } = racingStore(dir);
    await store.list();
    arm(async () => writeFile(file, "# the user's note\n" + (await readFile(file, "utf8")))); // in place: same inode
    expect(await store.reportInvalid("default/broken", "bad spec", T0)).toBe("written");
    const got = await readFile(file, "utf8");
    expect(got).toBe(
      "# the user's note\n" +
        BROKEN.replace("# trailing comment\n", readyBlock("bad spec", T0.toISOString()) + "# trailing comment\n"),
    );
  });

  it("keeps a user's fix that lands during the rename: their bytes, no InvalidSpec on a valid manifest", async () => {
    const file = join(dir, "m.yaml");
    await writeFile(file, BROKEN);
    const { store, arm } = racingStore(dir);
    await store.list();
    arm(async () => writeFile(file, FIXED));
    expect(await store.reportInvalid("default/broken", "bad spec", T0)).toBe("conflict");
    expect(await readFile(file, "utf8")).toBe(FIXED);
    // And the controller's normal write then replaces the condition.
    const snap = await store.list();
    expect(snap.manifests.map((m) => m.key)).toEqual(["default/broken"]);
    expect(await store.writeStatus("default/broken", 1, status("Idle"))).toBe("written");
  });
});

describe("invalidMessage", () => {
  const p = (line: number, path: string, message: string): Problem => ({
    file: "f.yaml",
    line,
    column: 3,
    path,
    message,
    rule: "schema",
  });

  it("shows the first three located problems on one line and counts the rest", () => {
    const msg = invalidMessage([
      p(4, "spec.a", "bad a"),
      p(5, "", "bad\n  b"),
      p(6, "spec.c", "bad c"),
      p(7, "spec.d", "bad d"),
      p(8, "spec.e", "bad e"),
    ]);
    expect(msg).toBe("4:3 spec.a: bad a; 5:3 bad b; 6:3 spec.c: bad c (2 more)");
  });

  it("stays within the bound", () => {
    const msg = invalidMessage([p(1, "spec.x", "y".repeat(5000))]);
    expect(msg.length).toBe(MAX_INVALID_MESSAGE);
    expect(msg.endsWith("…")).toBe(true);
  });
});
