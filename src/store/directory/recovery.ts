// Crash recovery at every list(): users' files held aside by an interrupted status write are put
// back or settled (swap.ts), and temp files of crashed writes are removed once provably stale.
import { stat, unlink } from "node:fs/promises";
import type { Logger } from "../../util/log.js";
import { isStaleTemp, tempRemoved } from "./atomic.js";
import { recoverSwap } from "./swap.js";

/**
 * Users' files held aside by another process's status write (swap.ts): one whose file is
 * missing goes back at once (link(2), which cannot replace anything), stale ones are settled.
 * Ours in flight are never seen without their file (that stretch is synchronous). True when a
 * file was put back (the scan is then out of date).
 */
export async function recoverSwaps(swaps: string[], logger: Logger): Promise<boolean> {
  let restored = false;
  for (const swap of swaps) {
    const r = await recoverSwap(swap, Date.now()).catch((err: unknown) => {
      logger.warn({ err, file: swap }, "could not settle a file held aside by a status write; will retry");
      return undefined;
    });
    if (!r) continue;
    if (r.action === "restored") restored = true;
    if (r.action === "rescued")
      logger.warn(
        { file: r.target, kept: r.kept },
        "a copy of the file from an interrupted status write differs from it; kept aside",
      );
    else logger.info({ file: r.target, action: r.action }, "settled a file held aside by an interrupted status write");
  }
  return restored;
}

/** Temp files of a crashed or failed write, once provably stale (atomic.ts isStaleTemp). */
export async function sweepTemps(temps: string[], logger: Logger): Promise<void> {
  for (const temp of temps) {
    const mtime = (await stat(temp).catch(() => undefined))?.mtimeMs;
    if (mtime !== undefined && isStaleTemp(temp, mtime, Date.now())) {
      await unlink(temp).then(
        () => {
          tempRemoved(temp);
          logger.info({ file: temp }, "removed a leftover temp file of an interrupted status write");
        },
        () => undefined,
      );
    }
  }
}
