// A full bench run rewrites docs/benchmarks.md above its marker and keeps the hand-written records
// of earlier runs below it (pure: the document's text).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Machine } from "../../bench/machine.js";
import { document, KEPT_MARKER, keptTail } from "../../bench/report.js";

const machine: Machine = {
  date: "2030-01-01T00:00:00.000Z",
  commit: "abc1234",
  cores: 2,
  cpuModel: "cpu",
  memoryGiB: 1,
  kernel: "k",
  docker: "d",
  node: "v20",
  loadAtStart: "0 0 0",
};

describe("the document a full run writes", () => {
  it("keeps everything from the marker on, and replaces what is above it", () => {
    const previous = `# Benchmarks\n\nold figures\n\n${KEPT_MARKER}\n\n## An A/B run\n\nits table\n`;
    const doc = document(machine, [], ["## New section", ""], 12, keptTail(previous));
    expect(doc).not.toContain("old figures");
    expect(doc).toContain("## New section");
    expect(doc.endsWith(`${KEPT_MARKER}\n\n## An A/B run\n\nits table\n`)).toBe(true);
  });

  it("without a marker nothing is kept (a document that was never split)", () => {
    expect(keptTail("# Benchmarks\n\nall generated\n")).toBe("");
    expect(document(machine, [], [], 1, "")).not.toContain(KEPT_MARKER);
  });

  it("the repository's docs/benchmarks.md has the marker, so a full run keeps its hand-written sections", () => {
    const text = readFileSync("docs/benchmarks.md", "utf8");
    expect(text.split(KEPT_MARKER)).toHaveLength(2);
    expect(keptTail(text)).toContain("## Network guards: the shell prelude");
  });
});
