// Parsers of what the namespace says about itself: `tc -j qdisc show`, `tc class show`,
// `tc -j filter show`, `iptables-save`. Pure; fed with real command output in tests.
import { CHAIN_PREFIX, ROOT_HANDLE, ROOT_MAJOR } from "./ids.js";
import { printedRateBits } from "./units.js";

export interface TcQdisc {
  dev: string;
  kind: string;
  handle: string;
  root: boolean;
  parent?: string;
  /** The qdisc's options as `tc -j` prints them (tbf: rate B/s, burst B, lat us; bfifo: limit B). */
  options?: Record<string, unknown>;
}

/** Root qdiscs a container gets by default; anything else at the root belongs to someone. */
export const DEFAULT_ROOT_KINDS: ReadonlySet<string> = new Set([
  "noqueue",
  "pfifo_fast",
  "mq",
  "fq_codel",
  "pfifo",
  "fq",
  "noop",
]);

export function parseQdiscs(json: string): TcQdisc[] {
  const raw: unknown = JSON.parse(json.trim() === "" ? "[]" : json);
  if (!Array.isArray(raw)) throw new Error("tc -j qdisc show: expected a JSON array");
  return raw.flatMap((q: unknown): TcQdisc[] => {
    if (!q || typeof q !== "object") return [];
    const r = q as Record<string, unknown>;
    if (typeof r.dev !== "string" || typeof r.kind !== "string" || typeof r.handle !== "string") return [];
    const options =
      r.options && typeof r.options === "object" && !Array.isArray(r.options)
        ? { options: r.options as Record<string, unknown> }
        : {};
    return [
      {
        dev: r.dev,
        kind: r.kind,
        handle: r.handle,
        root: r.root === true,
        ...(typeof r.parent === "string" ? { parent: r.parent } : {}),
        ...options,
      },
    ];
  });
}

export type RootOwnership = "none" | "ours" | "foreign";

/** Who holds the root of `dev`: nobody (a default qdisc), chaosctl (htb 1c4a:), or someone else. */
export function rootOwnership(
  qdiscs: TcQdisc[],
  dev: string,
): { state: RootOwnership; kind?: string; handle?: string } {
  const root = qdiscs.find((q) => q.dev === dev && q.root);
  if (!root) return { state: "none" };
  if (root.handle === ROOT_HANDLE && root.kind === "htb")
    return { state: "ours", kind: root.kind, handle: root.handle };
  if (DEFAULT_ROOT_KINDS.has(root.kind) && root.handle !== ROOT_HANDLE)
    return { state: "none", kind: root.kind, handle: root.handle };
  return { state: "foreign", kind: root.kind, handle: root.handle };
}

/** Interfaces whose root is ours. */
export function devsWithOurRoot(qdiscs: TcQdisc[]): string[] {
  return qdiscs.filter((q) => q.root && q.handle === ROOT_HANDLE && q.kind === "htb").map((q) => q.dev);
}

/** Minors of the htb classes under our root, from `tc class show dev X parent 1c4a:`. */
export function parseClassMinors(text: string): number[] {
  return parseClasses(text).map((c) => c.minor);
}

/** Minors of injections' classes (the shared cap and rest classes have minors below 0x10, see ids.minorOf). */
export function injectionMinors(classes: TcClass[]): number[] {
  return classes.map((c) => c.minor).filter((m) => m >= 0x10);
}

export interface TcClass {
  minor: number;
  /** Minor of the parent class; undefined when the class hangs from the root qdisc. */
  parent?: number;
  /** Its ceil in bits per second as printed (rounded by tc). */
  ceilBits?: number;
}

/** The htb classes of our tree, from `tc class show` (text: iproute2 6.x prints no JSON for htb classes). */
export function parseClasses(text: string): TcClass[] {
  const re = new RegExp(`^class htb ${ROOT_MAJOR}:([0-9a-f]+) (?:root|parent ${ROOT_MAJOR}:([0-9a-f]+))(.*)$`, "gm");
  return [...text.matchAll(re)].map((m) => {
    const ceil = /\bceil (\S+)/.exec(m[3] ?? "")?.[1];
    const ceilBits = ceil === undefined ? undefined : printedRateBits(ceil);
    return {
      minor: parseInt(m[1] ?? "0", 16),
      ...(m[2] !== undefined ? { parent: parseInt(m[2], 16) } : {}),
      ...(ceilBits !== undefined ? { ceilBits } : {}),
    };
  });
}

/** Filter priorities under our root, from `tc -j filter show dev X parent 1c4a:`. */
export function parseFilterPrefs(json: string): number[] {
  const raw: unknown = JSON.parse(json.trim() === "" ? "[]" : json);
  if (!Array.isArray(raw)) return [];
  const prefs = new Set<number>();
  for (const f of raw)
    if (f && typeof f === "object" && typeof (f as { pref?: unknown }).pref === "number")
      prefs.add((f as { pref: number }).pref);
  return [...prefs].sort((a, b) => a - b);
}

export interface JumpRule {
  /** Built-in chain holding the jump (OUTPUT, INPUT). */
  from: string;
  /** The CHAOS-* chain it jumps to. */
  target: string;
  /** The rule's argv after `-A <from>`, as iptables-save printed it; `-D <from> ...args` deletes exactly it. */
  args: string[];
}

export interface IptablesState {
  /** Every CHAOS-* chain in the filter table. */
  chains: string[];
  /** Jumps from any chain into a CHAOS-* chain. */
  jumps: JumpRule[];
  /** Rule count per CHAOS-* chain. */
  ruleCount: Record<string, number>;
}

/** Parse the filter table of `iptables-save`; other tables are ignored. */
export function parseIptablesSave(text: string): IptablesState {
  const st: IptablesState = { chains: [], jumps: [], ruleCount: {} };
  let table = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    if (table !== "filter") continue;
    if (line.startsWith(":" + CHAIN_PREFIX)) {
      const name = line.slice(1).split(" ")[0] ?? "";
      st.chains.push(name);
      st.ruleCount[name] ??= 0;
    } else if (line.startsWith("-A ")) {
      const tok = tokenize(line);
      const from = tok[1] ?? "";
      const args = tok.slice(2);
      if (from.startsWith(CHAIN_PREFIX)) st.ruleCount[from] = (st.ruleCount[from] ?? 0) + 1;
      const j = args.indexOf("-j");
      const target = j >= 0 ? args[j + 1] : undefined;
      if (target?.startsWith(CHAIN_PREFIX)) st.jumps.push({ from, target, args });
    }
  }
  return st;
}

/** iptables-save quoting: words split on spaces, "double quoted" words with \" and \\ escapes. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === "\\" && i + 1 < line.length) cur += line[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
