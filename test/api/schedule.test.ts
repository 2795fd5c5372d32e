import { describe, expect, it } from "vitest";
import { nextCronTime, parseSchedule } from "../../src/api/schedule.js";

describe("parseSchedule", () => {
  it.each([
    ["@once", undefined, { kind: "once" }],
    ["@every 10m", undefined, { kind: "every", everyMs: 600_000 }],
    ["@every 1h30m", undefined, { kind: "every", everyMs: 5_400_000 }],
    ["*/5 * * * *", undefined, { kind: "cron", expr: "*/5 * * * *", timeZone: "UTC" }],
    ["0 */5 * * * *", "Europe/Berlin", { kind: "cron", expr: "0 */5 * * * *", timeZone: "Europe/Berlin" }],
    ["0 9 * * MON-FRI", "America/New_York", { kind: "cron", expr: "0 9 * * MON-FRI", timeZone: "America/New_York" }],
    ["@daily", undefined, { kind: "cron", expr: "@daily", timeZone: "UTC" }],
  ])("%j (tz %s)", (text, tz, parsed) => {
    expect(parseSchedule(text, tz)).toEqual(parsed);
  });

  it.each([
    ["@every", undefined, /unknown schedule/],
    ["@every 10 minutes", undefined, /unknown schedule/],
    ["@every 5", undefined, /invalid duration "5"/],
    ["@every 0s", undefined, /must be positive/],
    ["@every -1m", undefined, /must be positive/],
    ["@sometimes", undefined, /unknown schedule "@sometimes"/],
    ["* * * *", undefined, /has 4 fields; use 5/],
    ["0 0 0 1 1 * 2030", undefined, /has 7 fields/],
    ["61 * * * *", undefined, /invalid cron expression "61 \* \* \* \*": Invalid value for minute/],
    ["0 0 31 2 *", undefined, /never fires/],
    ["*/5 * * * *", "Mars/Olympus_Mons", /unknown time zone "Mars\/Olympus_Mons"/],
  ])("rejects %j (tz %s)", (text, tz, message) => {
    expect(() => parseSchedule(text, tz)).toThrow(message);
  });
});

describe("nextCronTime", () => {
  const after = new Date("2026-03-28T23:59:30Z");
  it.each([
    ["*/5 * * * *", "UTC", "2026-03-29T00:00:00.000Z"],
    ["30 * * * * *", "UTC", "2026-03-29T00:00:30.000Z"],
    // 03:00 Berlin on 2026-03-29 is already summer time (UTC+2).
    ["0 3 * * *", "Europe/Berlin", "2026-03-29T01:00:00.000Z"],
    ["0 0 31 2 *", "UTC", null],
  ])("%s in %s after %s", (expr, tz, next) => {
    expect(nextCronTime(expr, tz, after)?.toISOString() ?? null).toBe(next);
  });

  it("is strictly after `after`", () => {
    const at = new Date("2026-01-01T00:05:00Z");
    expect(nextCronTime("*/5 * * * *", "UTC", at)?.toISOString()).toBe("2026-01-01T00:10:00.000Z");
  });
});
