import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/api/duration.js";

describe("parseDuration (Go-style, strict)", () => {
  it.each([
    ["100ms", 100],
    ["10s", 10_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["2h45m30s", 9_930_000],
    ["0", 0],
    ["0s", 0],
    ["-5s", -5_000],
    ["+5s", 5_000],
    ["1500us", 1.5],
    ["1500µs", 1.5],
    ["1500μs", 1.5],
    ["1000000ns", 1],
    [".5s", 500],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(["", "10 s", "5 minutes", "1d", "1w", "1y", "s", "1h 30m", "ms", "1.s5", "--5s", "5s ", "1e3s", "abc"])(
    "rejects %j with a plain message",
    (text) => {
      expect(() => parseDuration(text)).toThrow(/^invalid duration ".*": use a number and a unit/);
    },
  );
});

describe("parseDuration of a bare number", () => {
  it.each([
    ["20", '"20s"'],
    ["1.5", '"1.5s"'],
  ])("%j suggests the number with a unit (%s) at once", (text, suggestion) => {
    expect(() => parseDuration(text)).toThrow(`invalid duration "${text}": a duration needs a unit: ${suggestion}`);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [100, "100ms"],
    [1_500, "1s500ms"],
    [60_000, "1m"],
    [5_400_000, "1h30m"],
    [86_400_000, "24h"],
    [-5_000, "-5s"],
    [1.5, "1500us"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration for every whole number of milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (ms) => parseDuration(formatDuration(ms)) === ms),
      { numRuns: 500 },
    );
  });
});
