// Watches the manifest folder with chokidar and calls onChange. The first event after a quiet
// spell is reported at once (leading edge: a single save reaches the controller in a few ms);
// the events that follow within debounceMs are coalesced into one more call once they stop
// (trailing edge, and at least every maxWaitMs), so a burst costs two calls. A supervisor polls
// the folder itself: when it is deleted or renamed away the watcher is closed (chokidar cannot
// follow a folder that is replaced), and when a folder appears again under the same path a new
// watcher starts. Neither case throws; both are logged and reported through onChange.
//
// chokidar drops an event for a path that follows a reported one within a short window, with no
// trailing event: "change" within 50 ms, its per-file watch within 5 ms, "unlink" within 100 ms.
// A user's save right behind our own status write would then reach the controller only at its
// resync. So every file of a flushed batch is fingerprinted when it is judged and again RECHECK_MS
// later; when the two differ, the path is noted as changed like any event (and judged again:
// our own later write is still recognised as an echo).
import { watch, type FSWatcher } from "chokidar";
import { lstat, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { relative, sep } from "node:path";
import type { Logger } from "../../util/log.js";
import { MANIFEST_FILE } from "./scan.js";

export interface DirWatcherOptions {
  dir: string;
  logger: Logger;
  debounceMs: number;
  /** Even under a steady stream of events, onChange runs at least this often. */
  maxWaitMs: number;
  /** How often the folder itself is checked (deleted, replaced, re-created). */
  rootPollMs: number;
  /** True when a file holds exactly what the store last read or wrote (our own write's echo). */
  isKnownContent: (path: string) => Promise<boolean>;
  onChange: () => void;
}

type Pending = Map<string, string>; // path -> last event

/** Past chokidar's longest per-path throttle (100 ms for unlink), with a margin for a loaded machine. */
export const RECHECK_MS = 150;

export class DirWatcher {
  private watcher: FSWatcher | undefined;
  private rootId: string | undefined;
  private broken = false;
  private pending: Pending = new Map();
  private timer: NodeJS.Timeout | undefined;
  /** The pending timer is a leading-edge flush (delay 0). */
  private leading = false;
  private firstPendingAt = 0;
  /** When the last flush started (0: never); within debounceMs of it, events wait for the trailing edge. */
  private lastFlushAt = 0;
  private poll: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  private readonly rechecks = new Set<NodeJS.Timeout>();
  /** Each file's fingerprint when a batch last judged it, by batch number, until that batch's second look. */
  private readonly judged = new Map<string, { fingerprint: string; seq: number }>();
  private judgedSeq = 0;

  constructor(private readonly opts: DirWatcherOptions) {}

  async start(): Promise<void> {
    await this.checkRoot();
    this.poll = setInterval(() => void this.checkRoot(), this.opts.rootPollMs);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.rechecks) clearTimeout(t);
    this.rechecks.clear();
    this.judged.clear();
    await this.closeWatcher();
  }

  private async checkRoot(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const st = await stat(this.opts.dir).catch(() => undefined);
      const id = st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
      if (id === undefined) {
        if (this.watcher || this.rootId !== undefined) {
          this.opts.logger.warn({ dir: this.opts.dir }, "manifest directory is gone; waiting for it to come back");
          await this.closeWatcher();
          this.rootId = undefined;
          this.note(this.opts.dir, "unlinkDir");
        }
        return;
      }
      if (!this.watcher || this.broken || id !== this.rootId) {
        const replaced = this.rootId !== undefined || this.broken;
        await this.closeWatcher();
        if (this.stopped) return;
        await this.openWatcher();
        this.rootId = id;
        if (replaced || this.poll) {
          this.opts.logger.info({ dir: this.opts.dir }, "watching manifest directory");
          this.note(this.opts.dir, "addDir");
        }
      }
    } catch (err) {
      this.opts.logger.warn({ err, dir: this.opts.dir }, "checking the manifest directory failed; will retry");
    } finally {
      this.checking = false;
    }
  }

  private async openWatcher(): Promise<void> {
    const root = this.opts.dir;
    const w = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path: string, stats?: Stats) => isIgnored(root, path, stats),
    });
    w.on("all", (event, path) => this.note(path, event));
    w.on("error", (err) => {
      this.opts.logger.warn({ err, dir: root }, "manifest directory watcher failed; restarting it");
      this.broken = true;
    });
    await new Promise<void>((resolve) => w.once("ready", () => resolve()));
    this.watcher = w;
    this.broken = false;
  }

  private async closeWatcher(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close().catch((err: unknown) => this.opts.logger.warn({ err }, "closing the watcher failed"));
  }

  private note(path: string, event: string): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.pending.size === 0) this.firstPendingAt = now;
    this.pending.set(path, event);
    if (this.timer && this.leading) return; // the leading flush is about to run and takes this event along
    if (this.timer) clearTimeout(this.timer);
    this.leading = now - this.lastFlushAt >= this.opts.debounceMs;
    const wait = this.leading
      ? 0
      : Math.max(0, Math.min(this.opts.debounceMs, this.firstPendingAt + this.opts.maxWaitMs - now));
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /**
   * Takes the batch's files' fingerprints now and looks again RECHECK_MS later (see the top). A
   * file that a later batch judged again is left to that batch's own look, and a file with an
   * event pending is left to its flush: only what chokidar did not report is noted, once.
   */
  private async recheckLater(batch: Pending): Promise<void> {
    const files = [...batch].filter(([, event]) => event !== "addDir" && event !== "unlinkDir").map(([p]) => p);
    if (files.length === 0) return;
    const seq = ++this.judgedSeq;
    const now = await Promise.all(files.map(fingerprint));
    files.forEach((path, i) => {
      const known = this.judged.get(path);
      if (!known || known.seq < seq) this.judged.set(path, { fingerprint: now[i] ?? "gone", seq });
    });
    const timer = setTimeout(() => {
      this.rechecks.delete(timer);
      const mine = files.filter((path) => this.judged.get(path)?.seq === seq);
      void Promise.all(mine.map(fingerprint)).then((later) => {
        mine.forEach((path, i) => {
          const known = this.judged.get(path);
          if (known?.seq !== seq) return; // judged again meanwhile: that batch looks again itself
          this.judged.delete(path);
          if (this.pending.has(path) || later[i] === known.fingerprint) return;
          this.note(path, later[i] === "gone" ? "unlink" : "change");
        });
      });
    }, RECHECK_MS);
    timer.unref();
    this.rechecks.add(timer);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.leading = false;
    this.lastFlushAt = Date.now();
    const batch = this.pending;
    this.pending = new Map();
    if (this.stopped || batch.size === 0) return;
    await this.recheckLater(batch);
    // Skip the echo of our own status writes: every file named now holds what we wrote. Judged by
    // the file, not the event: a status write takes the file aside and links its own in (one
    // synchronous stretch), which chokidar may report as unlink, add or change, in any split.
    let echo = true;
    for (const [path, event] of batch) {
      if (event === "addDir" || event === "unlinkDir" || !(await this.opts.isKnownContent(path).catch(() => false))) {
        echo = false;
        break;
      }
    }
    this.opts.logger.debug(
      { event: "watch", files: [...batch].map(([path, ev]) => `${ev} ${relative(this.opts.dir, path)}`), echo },
      echo ? "manifest folder: only our own status writes" : "manifest folder changed",
    );
    if (echo || this.stopped) return;
    try {
      this.opts.onChange();
    } catch (err) {
      this.opts.logger.error({ err }, "onChange failed");
    }
  }
}

/**
 * What a file is now, as far as a later look can tell it changed: inode, size and mtime, or
 * "gone". Not ctime: our own status write unlinks its temp name after linking the file in, which
 * changes the file's ctime (its link count) without changing it.
 */
async function fingerprint(path: string): Promise<string> {
  try {
    const st = await lstat(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return "gone";
  }
}

/** Dotfiles and dot-folders anywhere below the root, and files that are not YAML. */
export function isIgnored(root: string, path: string, stats?: Stats): boolean {
  const rel = relative(root, path);
  if (rel === "") return false;
  if (rel.split(sep).some((part) => part.startsWith("."))) return true;
  return stats?.isFile() === true && !MANIFEST_FILE.test(path);
}
