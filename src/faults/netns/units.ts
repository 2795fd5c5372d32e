// tc's units as numbers (pure), for the one place chaosctl computes with them: the shared
// bandwidth cap follows the lowest rate present (plan.ts). Same meanings as iproute2:
// rates are SI (kbit = 1000 bit, kbps = 1000 bytes/s), sizes are binary (kb = 1024 bytes).
import * as v from "./validate.js";

const RATE_BITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
};
const SIZE_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  kbit: 1024 / 8,
  mbit: 1024 ** 2 / 8,
};
const TIME_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };

/** A validated tc rate ("1mbit", "2mbps") in bytes per second, as the kernel keeps it. */
export function rateBytes(rate: string): number {
  const m = /^([0-9.]+)([a-z]+)$/.exec(v.rate(rate));
  return Math.max(1, Math.floor((Number(m?.[1]) * (RATE_BITS[m?.[2] ?? ""] ?? NaN)) / 8));
}

/** A validated tc size ("32kb", "1600b", "1600") in bytes. */
export function sizeBytes(size: string): number {
  const m = /^([0-9]+)([a-z]*)$/.exec(v.size(size));
  return Math.floor(Number(m?.[1]) * (SIZE_BYTES[m?.[2] ?? ""] ?? NaN));
}

/** A validated tc time ("400ms") in microseconds. */
export function timeUs(time: string): number {
  const m = /^([0-9.]+)([a-z]+)$/.exec(v.time(time));
  return Math.round(Number(m?.[1]) * (TIME_US[m?.[2] ?? ""] ?? NaN));
}

/** A rate as `tc class show` prints it ("1Mbit", "1500Kbit", "10Gbit", "8bit") in bits per second; undefined if unreadable. */
export function printedRateBits(s: string): number | undefined {
  const m = /^([0-9.]+)(bit|Kbit|Mbit|Gbit|Tbit)$/.exec(s);
  if (!m) return undefined;
  return (
    Number(m[1]) * ({ bit: 1, Kbit: 1e3, Mbit: 1e6, Gbit: 1e9, Tbit: 1e12 } as Record<string, number>)[m[2] ?? "bit"]!
  );
}

/** Equal within what the kernel's byte rounding and tc's printing lose (1%, or a few bytes). */
export function near(a: number, b: number, slack = 64): boolean {
  return Math.abs(a - b) <= Math.max(slack, 0.01 * Math.max(a, b));
}
