// The kill switch as a file (--kill-switch-file): on while the file exists. Read at every pass
// (observe.ts), checked again before every start (a pass that was already planning when the file
// appeared drops its starts: act.ts), and watched, so that creating the file wakes the loop at
// once instead of at the next resync.
import { existsSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../util/log.js";

/** Is the kill switch file there now? One stat, synchronous: cheap enough before every start. */
export function killSwitchRaised(file: string | undefined): boolean {
  return file !== undefined && existsSync(file);
}

/**
 * Calls `onChange` whenever the kill switch file may have appeared or gone (its folder is watched,
 * so the file may not exist yet). A folder that cannot be watched (missing) is retried every
 * `retryMs`; the pass still reads the file at every resync. Returns a stop function.
 */
export function watchKillSwitch(file: string, onChange: () => void, logger: Logger, retryMs = 1000): () => void {
  const dir = dirname(file);
  const name = basename(file);
  let w: FSWatcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const open = (): void => {
    if (stopped) return;
    try {
      w = watch(dir, { persistent: false }, (_event, f) => {
        // Some platforms omit the name: then any change in the folder counts.
        if (f === null || f === name) onChange();
      });
      w.on("error", (err) => {
        logger.warn({ err: err.message, file }, "kill switch watch failed; retrying");
        w?.close();
        w = undefined;
        schedule();
      });
      // It may have appeared while we were not watching.
      if (existsSync(file)) onChange();
    } catch (err) {
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), file },
        "cannot watch the kill switch's folder yet",
      );
      schedule();
    }
  };
  const schedule = (): void => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      open();
    }, retryMs);
    retry.unref();
  };
  open();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    w?.close();
  };
}
