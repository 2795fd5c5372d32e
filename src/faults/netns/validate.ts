// Every user string is checked here before it can become an argv element of tc/iptables.
// Argv arrays already rule out shell injection; these checks also rule out option injection
// (a value that starts with "-" or smuggles a second keyword) and give clear errors early.
import { InvalidNetworkSpec } from "./errors.js";

const IFACE = /^[A-Za-z0-9_.@-]{1,15}$/;
const RATE = /^([0-9]+(?:\.[0-9]+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/;
const SIZE = /^[0-9]+(b|kb|mb|kbit|mbit)?$/;
const TIME = /^([0-9]+(?:\.[0-9]+)?)(us|ms|s)$/;

export function iface(v: string): string {
  if (!IFACE.test(v) || v.startsWith("-") || v === "." || v === "..")
    throw new InvalidNetworkSpec(`invalid interface name ${JSON.stringify(v)}`);
  return v;
}

export function rate(v: string): string {
  const m = RATE.exec(v);
  if (!m || Number(m[1]) <= 0)
    throw new InvalidNetworkSpec(`invalid rate ${JSON.stringify(v)} (e.g. 1mbit, 500kbit, 2mbps)`);
  return v;
}

export function size(v: string): string {
  if (!SIZE.test(v) || /^0+[a-z]*$/.test(v))
    throw new InvalidNetworkSpec(`invalid size ${JSON.stringify(v)} (e.g. 32kb, 1600b)`);
  return v;
}

/** A tc time ("10ms", "1.5s", "200us"); tc itself knows no minutes. */
export function time(v: string): string {
  if (!TIME.test(v)) throw new InvalidNetworkSpec(`invalid time ${JSON.stringify(v)} (e.g. 100ms, 1s, 500us)`);
  return v;
}

/** A percentage 0..100 as tc wants it: "12.5%", never exponent notation. */
export function percent(v: number, what: string): string {
  if (!Number.isFinite(v) || v < 0 || v > 100)
    throw new InvalidNetworkSpec(`${what} must be a number in 0..100, got ${v}`);
  return `${decimal(v, 6)}%`;
}

/** A probability 0..1 for the iptables statistic match. */
export function probability(v: number): string {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new InvalidNetworkSpec(`probability must be in 0..1, got ${v}`);
  return decimal(v, 8);
}

export function port(v: number): string {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new InvalidNetworkSpec(`invalid port ${v}`);
  return String(v);
}

/** Fixed-point decimal without trailing zeros (0.5 -> "0.5", 1e-7 -> "0.0000001" at 8 places). */
function decimal(v: number, places: number): string {
  const s = v.toFixed(places).replace(/\.?0+$/, "");
  return s === "" || s === "-0" ? "0" : s;
}

/**
 * An IPv4 address or CIDR, normalised to "a.b.c.d/len" with host bits cleared (what
 * iptables-save prints back, so observed and desired compare equal). IPv6 is not
 * supported: Swarm's overlay and bridge networks are IPv4 here.
 */
export function cidr(v: string): string {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:\/([0-9]{1,2}))?$/.exec(v);
  if (!m) throw new InvalidNetworkSpec(`invalid IPv4 CIDR ${JSON.stringify(v)}`);
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || len > 32) throw new InvalidNetworkSpec(`invalid IPv4 CIDR ${JSON.stringify(v)}`);
  const addr = octets.reduce((a, o) => ((a << 8) | o) >>> 0, 0);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (addr & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${len}`;
}

/** Swarm reports task addresses as "10.0.1.5/24": the host itself is what we match. */
export function hostOf(address: string): string {
  const ip = address.split("/")[0] ?? "";
  return cidr(`${ip}/32`);
}
