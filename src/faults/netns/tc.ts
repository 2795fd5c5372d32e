// tc argv builders for the owned tree on one interface (pure; exact argv is unit-tested):
//
//   root  1c4a:  htb default 2
//   ├─ class 1c4a:2  the rest (shared): traffic no filter takes; leaf 2: tbf = the cap, if any
//   └─ class 1c4a:<m>  one per injection (m = minorOf(id)); classifies only (10gbit)
//        ├─ netem: leaf <m>: netem, filters at prio <m> steer its destinations (or all) here;
//        │    the netem's child <c>: is a tbf = the cap, if any (netem -> tbf)
//        └─ bandwidth: leaf <m>: tbf, no filter: carries nothing, it is the injection's record
//             (its rate, burst, latency, read back with `tc -j qdisc show`) that the cap is
//             derived from, so any process can rebuild the cap from what remains
//
// "The cap" is the lowest bandwidth present. Every path a packet can take ends in a tbf equal to
// it, so a netem fault and a bandwidth fault on the same traffic both take effect, whatever
// their order and owners. Each path is capped on its own (an htb parent class bounding their sum
// made netem's classes borrow, which stalled netem reorder on a stock kernel).
// htb rather than prio: prio is not built into every kernel (not this machine's), and an htb
// root needs no fixed band count, so any number of injections can hang classes under it.
import { ROOT_HANDLE, ROOT_MAJOR } from "./ids.js";
import type { OwnedNames } from "./ids.js";
import { InvalidNetworkSpec } from "./errors.js";
import * as v from "./validate.js";

export type Argv = string[];

/** Options after the kind, already validated (netem/args.ts, network/injection.ts). */
export type LeafQdisc = { kind: "netem"; args: string[] } | { kind: "tbf"; args: string[]; cap: Cap };

/** A bandwidth limit in the kernel's units: what the shared cap class is set to. */
export interface Cap {
  rateBytes: number;
  burstBytes: number;
  latencyUs: number;
}

export const REST_MINOR = 2;
export const REST_CLASS = `${ROOT_MAJOR}:${REST_MINOR}`;

/**
 * Destinations the leaf applies to (the whole `to` undefined: all traffic on the interface).
 * `cidrs` undefined: any address; `cidrs: []` (named services with no address now): nothing.
 * `ports` empty: any port.
 */
export interface Destinations {
  cidrs?: string[];
  ports: number[];
}

/** Most filters one injection may install (cidrs x ports); beyond it, use wider CIDRs. */
export const MAX_FILTERS = 256;

export function rootAdd(dev: string): Argv {
  return [
    "tc",
    "qdisc",
    "add",
    "dev",
    v.iface(dev),
    "root",
    "handle",
    ROOT_HANDLE,
    "htb",
    "default",
    String(REST_MINOR),
    "direct_qlen",
    "1000",
  ];
}

export function rootDel(dev: string): Argv {
  return ["tc", "qdisc", "del", "dev", v.iface(dev), "root", "handle", ROOT_HANDLE];
}

/** The class only classifies; its rate is far above any link here so the leaves alone shape. */
export function classReplace(dev: string, n: OwnedNames): Argv {
  return ["tc", "class", "replace", "dev", v.iface(dev), "parent", ROOT_HANDLE, "classid", n.classId, ...CLASSIFY_ONLY];
}

const CLASSIFY_ONLY = ["htb", "rate", "10gbit", "ceil", "10gbit", "quantum", "60000"];

/** The rest: the default class for traffic no injection's filter takes. */
export function restClassReplace(dev: string): Argv {
  return [
    "tc",
    "class",
    "replace",
    "dev",
    v.iface(dev),
    "parent",
    ROOT_HANDLE,
    "classid",
    REST_CLASS,
    ...CLASSIFY_ONLY,
  ];
}

/** tbf options of the cap in the kernel's units, exactly what a bandwidth record reads back as. */
export function capTbf(cap: Cap): string[] {
  return ["tbf", "rate", `${cap.rateBytes * 8}bit`, "burst", `${cap.burstBytes}b`, "latency", `${cap.latencyUs}us`];
}

export const REST_LEAF = `${REST_MINOR}:`;

/** The cap's tbf as the rest's leaf (replaced in place when the cap changes). */
export function restLeafReplace(dev: string, cap: Cap): Argv {
  return ["tc", "qdisc", "replace", "dev", v.iface(dev), "parent", REST_CLASS, "handle", REST_LEAF, ...capTbf(cap)];
}

/** Uncapped: htb's built-in fifo takes the rest again. */
export function restLeafDel(dev: string): Argv {
  return ["tc", "qdisc", "del", "dev", v.iface(dev), "parent", REST_CLASS];
}

/** netem's one class, where its child qdisc hangs. */
type NetemNames = Pick<OwnedNames, "minor" | "capHandle">;

export const netemChildParent = (n: NetemNames): string => `${n.minor.toString(16)}:1`;

/** The cap's tbf under an injection's netem (netem -> tbf), so traffic it steers is capped exactly too. */
export function netemChildReplace(dev: string, n: NetemNames, cap: Cap): Argv {
  return [
    "tc",
    "qdisc",
    "replace",
    "dev",
    v.iface(dev),
    "parent",
    netemChildParent(n),
    "handle",
    n.capHandle,
    ...capTbf(cap),
  ];
}

export function netemChildDel(dev: string, n: NetemNames): Argv {
  return ["tc", "qdisc", "del", "dev", v.iface(dev), "parent", netemChildParent(n)];
}

/** Deleting the class also deletes its leaf qdisc. */
export function classDel(dev: string, n: OwnedNames): Argv {
  return ["tc", "class", "del", "dev", v.iface(dev), "classid", n.classId];
}

export function leafReplace(dev: string, n: OwnedNames, leaf: LeafQdisc): Argv {
  return [
    "tc",
    "qdisc",
    "replace",
    "dev",
    v.iface(dev),
    "parent",
    n.classId,
    "handle",
    n.leafHandle,
    leaf.kind,
    ...leaf.args,
  ];
}

/** One u32 filter per (cidr, port); every filter of one injection shares its priority, so one `del` removes them all. */
export function filtersAdd(dev: string, n: OwnedNames, to: Destinations | undefined): Argv[] {
  const head = ["tc", "filter", "add", "dev", v.iface(dev), "parent", ROOT_HANDLE];
  const tail = ["flowid", n.classId];
  if (!to || (to.cidrs === undefined && to.ports.length === 0)) {
    return [[...head, "protocol", "all", "prio", String(n.minor), "u32", "match", "u32", "0", "0", ...tail]];
  }
  const cidrs: (string | undefined)[] = to.cidrs === undefined ? [undefined] : to.cidrs.map(v.cidr);
  const ports: (string | undefined)[] = to.ports.length > 0 ? to.ports.map(v.port) : [undefined];
  if (cidrs.length * ports.length > MAX_FILTERS) {
    throw new InvalidNetworkSpec(
      `${cidrs.length} destinations x ${ports.length} ports needs more than ${MAX_FILTERS} filters`,
    );
  }
  const out: Argv[] = [];
  for (const c of cidrs) {
    for (const p of ports) {
      const match = [...(c ? ["match", "ip", "dst", c] : []), ...(p ? ["match", "ip", "dport", p, "0xffff"] : [])];
      out.push([...head, "protocol", "ip", "prio", String(n.minor), "u32", ...match, ...tail]);
    }
  }
  return out;
}

export function filtersDel(dev: string, n: OwnedNames): Argv {
  return ["tc", "filter", "del", "dev", v.iface(dev), "parent", ROOT_HANDLE, "prio", String(n.minor)];
}

export function qdiscShow(): Argv {
  return ["tc", "-j", "qdisc", "show"];
}

/** `tc -j class show` prints text for htb on iproute2 6.x, so classes are read as text. */
export function classShow(dev: string): Argv {
  return ["tc", "class", "show", "dev", v.iface(dev), "parent", ROOT_HANDLE];
}

export function filterShow(dev: string): Argv {
  return ["tc", "-j", "filter", "show", "dev", v.iface(dev), "parent", ROOT_HANDLE];
}
