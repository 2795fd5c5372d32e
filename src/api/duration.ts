// Go-style durations ("100ms", "10s", "5m", "1h30m"), the format of every duration field.
// A strict regex decides what is a duration; parse-duration only does the arithmetic, because
// on its own it accepts nearly anything ("5 minutes", "1y", "3 weeks").
import parse from "parse-duration";

const UNIT = "(?:ns|us|µs|μs|ms|s|m|h)";
const NUMBER = "(?:\\d+(?:\\.\\d*)?|\\.\\d+)";
const GO_DURATION = new RegExp(`^[-+]?(?:0|(?:${NUMBER}${UNIT})+)$`);

export const MS = { second: 1_000, minute: 60_000, hour: 3_600_000 } as const;

/** Milliseconds for a Go-style duration; throws an Error with a plain message otherwise. */
export function parseDuration(text: string): number {
  if (!GO_DURATION.test(text)) {
    if (new RegExp(`^${NUMBER}$`).test(text.trim())) {
      throw new Error(`invalid duration "${text}": a duration needs a unit: "${text.trim()}s" (or ns, us, ms, m, h)`);
    }
    throw new Error(
      `invalid duration "${text}": use a number and a unit (ns, us, ms, s, m, h), e.g. 100ms, 30s, 5m, 1h30m`,
    );
  }
  // parse-duration only knows the micro sign U+00B5; Go also accepts the Greek mu U+03BC.
  const ms = parse(text.replace(/μ/g, "µ"), "ms");
  if (ms === null || !Number.isFinite(ms)) throw new Error(`invalid duration "${text}": out of range`);
  return ms === 0 ? 0 : ms; // no -0
}

/** The shortest Go-style text for a duration: 5400000 → "1h30m", 1500 → "1s500ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`cannot format duration ${ms}`);
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  let out = "";
  for (const [unit, size] of [
    ["h", MS.hour],
    ["m", MS.minute],
    ["s", MS.second],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  // Round to whole nanoseconds so float dust (0.1 + 0.2) never shows up.
  rest = Math.round(rest * 1e6) / 1e6;
  if (rest > 0) out += Number.isInteger(rest) ? `${rest}ms` : `${Math.round(rest * 1e3)}us`;
  return sign + out;
}
