import { describe, expect, it } from "vitest";
import { haltInForce } from "../../src/probes/halt.js";

const halted = {
  conditions: [{ type: "Halted", status: "True" as const, lastTransitionTime: "2026-01-01T10:00:00.000Z" }],
};

describe("haltInForce", () => {
  const cases: Array<[string, Parameters<typeof haltInForce>[0], Parameters<typeof haltInForce>[1], boolean]> = [
    ["no status", {}, undefined, false],
    ["Halted True", {}, halted, true],
    ["Halted False", {}, { conditions: [{ type: "Halted", status: "False" }] }, false],
    ["resumed after the halt", { abort: { resumedAt: "2026-01-01T10:00:01Z" } }, halted, false],
    ["resumed before the halt (an older resume)", { abort: { resumedAt: "2026-01-01T09:00:00Z" } }, halted, true],
    ["haltSchedule: false", { abort: { haltSchedule: false } }, halted, false],
  ];
  it.for(cases)("%s", ([, spec, status, want]) => {
    expect(haltInForce(spec, status) !== undefined).toBe(want);
  });
});
