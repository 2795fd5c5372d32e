// tc argv builders for the owned tree on one interface (pure; exact argv is unit-tested):
//
//   root  1c4a:  htb default 0     unclassified traffic is dequeued directly: the bypass band
//   ├─ class 1c4a:<m>  (one per injection, m = minorOf(id))
//   │    └─ leaf <m>:  netem | tbf  (the fault itself)
//   └─ filters at prio <m>, steering the injection's destinations (or everything) into 1c4a:<m>
//
// htb rather than prio: prio is not built into every kernel (not this machine's), and an htb
// root needs no fixed band count, so any number of injections can hang classes under it.
import { ROOT_HANDLE } from "./ids.js";
import type { OwnedNames } from "./ids.js";
import { InvalidNetworkSpec } from "./errors.js";
import * as v from "./validate.js";

export type Argv = string[];

export interface LeafQdisc {
  kind: "netem" | "tbf";
  /** Options after the kind, already validated (netem/args.ts, network/bandwidth.ts). */
  args: string[];
}

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
  return ["tc", "qdisc", "add", "dev", v.iface(dev), "root", "handle", ROOT_HANDLE, "htb", "default", "0", "direct_qlen", "1000"];
}

export function rootDel(dev: string): Argv {
  return ["tc", "qdisc", "del", "dev", v.iface(dev), "root", "handle", ROOT_HANDLE];
}

/** The class only classifies; its rate is far above any link here so the leaf alone shapes. */
export function classReplace(dev: string, n: OwnedNames): Argv {
  return ["tc", "class", "replace", "dev", v.iface(dev), "parent", ROOT_HANDLE, "classid", n.classId, "htb", "rate", "10gbit", "ceil", "10gbit", "quantum", "60000"];
}

/** Deleting the class also deletes its leaf qdisc. */
export function classDel(dev: string, n: OwnedNames): Argv {
  return ["tc", "class", "del", "dev", v.iface(dev), "classid", n.classId];
}

export function leafReplace(dev: string, n: OwnedNames, leaf: LeafQdisc): Argv {
  return ["tc", "qdisc", "replace", "dev", v.iface(dev), "parent", n.classId, "handle", n.leafHandle, leaf.kind, ...leaf.args];
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
    throw new InvalidNetworkSpec(`${cidrs.length} destinations x ${ports.length} ports needs more than ${MAX_FILTERS} filters`);
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
