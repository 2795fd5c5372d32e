// Pure: status spliced into text at node ranges. Expected outputs are written out in full, so
// any byte that moves outside the status block and the store-managed metadata lines fails.
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { loadText } from "../../src/api/load.js";
import { spliceStatus, type StatusUpdate } from "../../src/store/directory/splice.js";
import { FANCY, manifest } from "./fixtures.js";

const update: StatusUpdate = {
  status: { observedGeneration: 1, phase: "Active", conditions: [{ type: "Ready", status: "True" }] },
  generation: 2,
  specHash: "sha256:abc",
};

function splice(text: string, index = 0, u: StatusUpdate = update): string {
  const loaded = loadText(text, "f.yaml");
  expect(loaded.problems).toEqual([]);
  const doc = loaded.documents.find((d) => d.index === index);
  if (!doc) throw new Error(`no document ${index}`);
  const out = spliceStatus(text, doc.doc, u);
  if (!out.ok) throw new Error(out.reason);
  return out.text;
}

const STATUS_BLOCK = `status:
  observedGeneration: 1
  phase: Active
  conditions:
    - type: Ready
      status: "True"
`;

describe("spliceStatus", () => {
  it("adds metadata lines and appends status, leaving comments, quoting, flow maps and blank lines alone", () => {
    const expected = FANCY.replace(
      `  labels: {team: web, "tier": 'front'}   # flow map\n`,
      `  labels: {team: web, "tier": 'front'}   # flow map\n  generation: 2\n  annotations:\n    chaosctl.io/spec-hash: sha256:abc\n`,
    ).replace("# trailing comment of the document\n", STATUS_BLOCK + "# trailing comment of the document\n");
    expect(splice(FANCY)).toBe(expected);
  });

  it("replaces an existing status block and metadata values in place, keeping their comments", () => {
    const before =
      manifest("a").replace(
        "  name: a\n",
        "  name: a\n  annotations:\n    x: y   # keep\n    chaosctl.io/spec-hash: sha256:old # hash\n  generation: 7 # mine\n",
      ) + "status:\n  phase: Idle   # gone with the block\n  old: 1\n# after status\n";
    const expected =
      manifest("a").replace(
        "  name: a\n",
        "  name: a\n  annotations:\n    x: y   # keep\n    chaosctl.io/spec-hash: sha256:abc # hash\n  generation: 2 # mine\n",
      ) +
      STATUS_BLOCK +
      "# after status\n";
    expect(splice(before)).toBe(expected);
  });

  it("replaces a flow status and an empty status", () => {
    const base = manifest("a");
    expect(splice(base + "status: {phase: Idle}   # c\n")).toBe(splice(base));
    expect(splice(base + "status:\n")).toBe(splice(base));
  });

  it("extends flow-style metadata inside its braces", () => {
    const before = manifest("a").replace("metadata:\n  name: a\n", "metadata: {name: a, namespace: n}   # flow\n");
    const out = splice(before);
    expect(out.split("\n")[2]).toBe(
      `metadata: {name: a, namespace: n, generation: 2, annotations: {"chaosctl.io/spec-hash":"sha256:abc"}}   # flow`,
    );
    expect(out).toBe(
      before.replace(
        "metadata: {name: a, namespace: n}",
        `metadata: {name: a, namespace: n, generation: 2, annotations: {"chaosctl.io/spec-hash":"sha256:abc"}}`,
      ) + STATUS_BLOCK,
    );
  });

  it("touches only the target document of a multi-document file", () => {
    const a = manifest("a");
    const b = manifest("b");
    const c = manifest("c") + "status: {phase: Idle}\n";
    const out = splice(`${a}---\n${b}---\n${c}`, 1);
    const withStatus =
      b.replace("  name: b\n", "  name: b\n  generation: 2\n  annotations:\n    chaosctl.io/spec-hash: sha256:abc\n") +
      STATUS_BLOCK;
    expect(out).toBe(`${a}---\n${withStatus}---\n${c}`);
  });

  it("keeps CRLF line ends and a missing final line break", () => {
    const crlf = manifest("a").replace(/\n/g, "\r\n");
    expect(splice(crlf)).toBe(splice(manifest("a")).replace(/\n/g, "\r\n"));
    const noFinalBreak = manifest("a").trimEnd();
    expect(splice(noFinalBreak)).toBe(splice(manifest("a")).trimEnd());
  });

  it("writes a value that must be quoted so that it reads back as the same string", () => {
    const out = splice(manifest("a"), 0, {
      ...update,
      status: {
        phase: "Active",
        conditions: [{ type: "Ready", status: "True", message: "a: b # not a comment\nsecond line" }],
      },
    });
    expect(parseDocument(out).toJS().status.conditions[0].message).toBe("a: b # not a comment\nsecond line");
  });

  it("refuses what it cannot place without guessing", () => {
    const seq = loadText("- a\n- b\n", "f.yaml").documents[0];
    if (!seq) throw new Error("no doc");
    expect(spliceStatus("- a\n- b\n", seq.doc, update)).toMatchObject({ ok: false });
    const bom = "\uFEFF" + manifest("a");
    const doc = loadText(bom, "f.yaml").documents[0];
    if (!doc) throw new Error("no doc");
    expect(spliceStatus(bom, doc.doc, update)).toMatchObject({ ok: false });
  });
});
