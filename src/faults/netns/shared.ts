// The shared part of the owned tc tree (pure): the rest class 1c4a:2 with the cap's tbf, and
// the cap's tbf under every netem leaf. Nobody owns them; everybody derives them from the
// bandwidth records present (each bandwidth injection's tbf leaf, see tc.ts), so an apply, a
// revert or a concurrent guard all converge to the same state from what the namespace holds,
// with no stored state and no lock.
// Several bandwidth faults on one interface: the lowest rate applies (ties: the smaller burst).
import { capHandleOf, ROOT_MAJOR, type OwnedNames } from "./ids.js";
import { injectionMinors, type TcClass, type TcQdisc } from "./parse.js";
import * as tc from "./tc.js";
import type { Cap } from "./tc.js";
import { near } from "./units.js";

/** What the planner needs of one interface with our root. */
export interface SharedView {
  qdiscs: TcQdisc[];
  classes: TcClass[];
}

export const GONE =
  /No such file or directory|Cannot find specified filter chain|Invalid handle|No chain\/target\/match|Bad rule|does a matching rule exist|Cannot delete qdisc with handle of zero|Filter with specified priority\/protocol not found/i;

export interface Step {
  argv: string[];
  /** stderr meaning the step's goal already holds (a concurrent guard got there first). */
  tolerate?: RegExp;
}

/** The bandwidth records on `dev`: tbf leaves of injection classes, but the one of `exceptMinor`. */
export function capRecords(dev: string, view: SharedView, exceptMinor?: number): Cap[] {
  const minors = new Set(injectionMinors(view.classes).filter((m) => m !== exceptMinor));
  const out: Cap[] = [];
  for (const q of view.qdiscs) {
    if (q.dev !== dev || q.kind !== "tbf" || !q.parent?.startsWith(`${ROOT_MAJOR}:`)) continue;
    if (!minors.has(parseInt(q.parent.slice(ROOT_MAJOR.length + 1), 16))) continue;
    const o = q.options ?? {};
    if (typeof o.rate !== "number" || typeof o.burst !== "number") continue;
    out.push({ rateBytes: o.rate, burstBytes: o.burst, latencyUs: typeof o.lat === "number" ? o.lat : 0 });
  }
  return out;
}

/** The cap that applies: the lowest rate, then the smallest burst; undefined when no bandwidth fault is present. */
export function chooseCap(caps: Cap[]): Cap | undefined {
  return [...caps].sort(
    (a, b) => a.rateBytes - b.rateBytes || a.burstBytes - b.burstBytes || a.latencyUs - b.latencyUs,
  )[0];
}

/**
 * Steps that bring the shared parts of `dev` in line with `caps` (the records that are to remain):
 * the rest class and its tbf, and the tbf under every netem leaf present
 * (but `skipMinor`'s: apply handles its own netem after adding it).
 */
export function planShared(dev: string, view: SharedView | undefined, caps: Cap[], skipMinor?: number): Step[] {
  const cap = chooseCap(caps);
  const steps: Step[] = [];
  if (!view?.classes.some((c) => c.minor === tc.REST_MINOR)) steps.push({ argv: tc.restClassReplace(dev) });
  const qdiscs = view?.qdiscs ?? [];
  const restLeaf = qdiscs.find((q) => q.parent === tc.REST_CLASS);
  if (cap && !isCap(restLeaf, cap)) steps.push({ argv: tc.restLeafReplace(dev, cap) });
  if (!cap && restLeaf) steps.push({ argv: tc.restLeafDel(dev), tolerate: GONE });
  for (const minor of injectionMinors(view?.classes ?? [])) {
    if (minor === skipMinor) continue;
    const n = { minor, capHandle: capHandleOf(minor) };
    if (!qdiscs.some((q) => q.kind === "netem" && q.parent === `${ROOT_MAJOR}:${minor.toString(16)}`)) continue;
    steps.push(...planNetemChild(dev, qdiscs, n, cap));
  }
  return steps;
}

/** The cap's tbf under one netem leaf: there, equal to the cap, or gone when uncapped. */
export function planNetemChild(
  dev: string,
  qdiscs: TcQdisc[],
  n: Pick<OwnedNames, "minor" | "capHandle">,
  cap: Cap | undefined,
): Step[] {
  const child = qdiscs.find((q) => q.parent === tc.netemChildParent(n));
  if (cap && !isCap(child, cap)) return [{ argv: tc.netemChildReplace(dev, n, cap) }];
  if (!cap && child) return [{ argv: tc.netemChildDel(dev, n), tolerate: GONE }];
  return [];
}

/** A tbf equal to the cap within what the kernel rounds. */
function isCap(q: TcQdisc | undefined, cap: Cap): boolean {
  const o = q?.options ?? {};
  if (q?.kind !== "tbf" || typeof o.rate !== "number" || typeof o.burst !== "number" || typeof o.lat !== "number")
    return false;
  return near(o.rate, cap.rateBytes, 1) && near(o.burst, cap.burstBytes) && near(o.lat, cap.latencyUs, 1000);
}
