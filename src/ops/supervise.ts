// Runs the reconcile loop only while this controller leads. A standby keeps its store loaded
// (for /readyz) and waits; on becoming leader it starts the loop, whose first pass adopts what
// is injected (guards are rebuilt from cluster labels). On losing the lease the loop is aborted;
// a pass already under way stops at its next action (Controller's mayAct gate).
import type { Logger } from "../util/log.js";
import type { LeaderElector } from "./lease/elector.js";

export interface SuperviseOptions {
  /** The reconcile loop (Controller.run). */
  run: (signal: AbortSignal) => Promise<void>;
  elector?: LeaderElector;
  /** A standby's store probe (readiness), retried until it succeeds. */
  loadStore?: () => Promise<void>;
  logger: Logger;
}

export async function supervise(o: SuperviseOptions, signal: AbortSignal): Promise<void> {
  const { elector } = o;
  if (!elector) return o.run(signal);
  let notify: () => void = () => {};
  const changed = (): Promise<void> => new Promise((resolve) => (notify = resolve));
  const unsubscribe = elector.onRole(() => notify());
  const electing = elector.run(signal);
  let storeLoaded = false;
  try {
    while (!signal.aborted) {
      if (!elector.mayAct()) {
        if (!storeLoaded && o.loadStore)
          storeLoaded = await o.loadStore().then(
            () => true,
            () => false,
          );
        await standbyWait(changed(), signal, 1_000);
        continue;
      }
      const term = new AbortController();
      const stop = (): void => term.abort();
      signal.addEventListener("abort", stop, { once: true });
      const watch = setInterval(() => !elector.mayAct() && term.abort(), 100);
      try {
        await o.run(term.signal);
      } finally {
        clearInterval(watch);
        signal.removeEventListener("abort", stop);
      }
      if (!signal.aborted) o.logger.warn({ event: "lease" }, "reconcile loop stopped: leader lease lost");
    }
  } finally {
    unsubscribe();
    await electing;
  }
}

/**
 * Until a role change, the abort or the poll interval. Every listener and timer it adds is
 * removed when it settles: a standby loops here once a second for as long as it waits, and a
 * listener left per turn piled up on the process signal (MaxListenersExceededWarning after 11).
 */
function standbyWait(changed: Promise<void>, signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
    void changed.then(done);
  });
}
