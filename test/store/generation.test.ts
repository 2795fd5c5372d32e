// Pure: the store-managed generation, from what the file stores and what this process saw.
import { describe, expect, it } from "vitest";
import { currentGeneration, type GenerationMemo, type StoredGeneration } from "../../src/store/directory/generation.js";
import { specHash, canonicalJson } from "../../src/store/directory/canonical.js";

describe("currentGeneration", () => {
  const cases: Array<[string, StoredGeneration, string, GenerationMemo | undefined, number]> = [
    ["a hand-written manifest starts at 1", {}, "A", undefined, 1],
    ["the stored generation holds while the spec hash matches", { generation: 4, specHash: "A" }, "A", undefined, 4],
    ["a spec edit since the last write is one generation more", { generation: 4, specHash: "A" }, "B", undefined, 5],
    ["a generation written by hand without a hash is taken as is", { generation: 4 }, "B", undefined, 4],
    [
      "a second edit before any write raises again",
      { generation: 4, specHash: "A" },
      "C",
      { generation: 5, specHash: "B" },
      6,
    ],
    [
      "an edit back to the stored spec still raises (never a step back)",
      { generation: 4, specHash: "A" },
      "A",
      { generation: 5, specHash: "B" },
      6,
    ],
    [
      "the memo keeps what it handed out for the same spec",
      { generation: 4, specHash: "A" },
      "B",
      { generation: 5, specHash: "B" },
      5,
    ],
    ["a file without metadata edited twice in one run", {}, "B", { generation: 1, specHash: "A" }, 2],
    [
      "a file reverted in git to an older generation does not go back",
      { generation: 2, specHash: "A" },
      "A",
      { generation: 7, specHash: "C" },
      8,
    ],
  ];
  it.each(cases)("%s", (_name, stored, hash, memo, expected) => {
    expect(currentGeneration(stored, hash, memo)).toBe(expected);
  });
});

describe("canonical JSON and spec hash", () => {
  it("ignores key order and undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: undefined } })).toBe('{"a":{"d":[1,null]},"b":1}');
    expect(specHash({ a: 1, b: 2 })).toBe(specHash({ b: 2, a: 1 }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
  });
});
