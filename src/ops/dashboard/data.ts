// What the dashboard serves, read from the store: one list shared by every browser polling, at
// most once a second, and again after each reconcile pass (which may have written status).
import type { StoredManifest } from "../../store/store.js";
import { overview, type Overview, type RunView } from "../../insight/model.js";
import type { PassObserver } from "../../controller/observer.js";

export interface DashboardView {
  overview: Overview;
  runs: RunView[];
  /** Runs by schedule key and by service, oldest first. */
  bySchedule: Map<string, RunView[]>;
  byService: Map<string, RunView[]>;
}

export interface DashboardDataOptions {
  manifests: () => Promise<readonly StoredManifest[]>;
  clock?: () => Date;
  /** A view younger than this is served again without a store list. */
  maxAgeMs?: number;
}

export class DashboardData implements PassObserver {
  private cached?: { at: number; view: DashboardView };
  private inflight?: Promise<DashboardView>;
  private readonly clock: () => Date;

  constructor(private readonly o: DashboardDataOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  /** A pass ended: status may have changed, the next request reads the store again. */
  passEnded(): void {
    this.cached = undefined;
  }

  async view(): Promise<DashboardView> {
    const now = this.clock();
    if (this.cached && now.getTime() - this.cached.at < (this.o.maxAgeMs ?? 1000)) return this.cached.view;
    this.inflight ??= this.o
      .manifests()
      .then((manifests) => {
        const view = build(manifests, this.clock());
        this.cached = { at: now.getTime(), view };
        return view;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}

function build(manifests: readonly StoredManifest[], now: Date): DashboardView {
  const { overview: o, runs } = overview({ manifests, now });
  const bySchedule = new Map<string, RunView[]>();
  const byService = new Map<string, RunView[]>();
  const add = (m: Map<string, RunView[]>, k: string, r: RunView): void => {
    const xs = m.get(k);
    if (xs) xs.push(r);
    else m.set(k, [r]);
  };
  for (const r of runs) {
    add(bySchedule, r.schedule, r);
    for (const s of r.services) add(byService, s, r);
  }
  return { overview: o, runs, bySchedule, byService };
}
