// Docker events of type config → onChange, debounced. The stream reconnects with exponential
// backoff when it fails or ends, and reports a change after every reconnect (events may have
// been missed while it was down; the caller's list() is the truth).
import type { DockerEvent, Engine } from "../../engine/engine.js";
import type { Logger } from "../../util/log.js";
import { NAME_PREFIX } from "./labels.js";

export interface ConfigWatchOptions {
  engine: Pick<Engine, "events">;
  logger: Logger;
  debounceMs: number;
  /** First and largest wait before reconnecting. */
  backoffMs?: { min: number; max: number };
  onChange: () => void;
}

export class ConfigWatcher {
  private readonly abort = new AbortController();
  private stream?: AbortController;
  private timer?: NodeJS.Timeout;
  private firstPendingAt = 0;
  private retry?: NodeJS.Timeout;
  private delay: number;
  private readonly backoff: { min: number; max: number };

  constructor(private readonly opts: ConfigWatchOptions) {
    this.backoff = opts.backoffMs ?? { min: 250, max: 10_000 };
    this.delay = this.backoff.min;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.abort.abort();
    this.stream?.abort();
    if (this.timer) clearTimeout(this.timer);
    if (this.retry) clearTimeout(this.retry);
  }

  private connect(): void {
    if (this.abort.signal.aborted) return;
    const stream = new AbortController();
    this.stream = stream;
    let failed = false;
    this.opts.engine.events(
      (e) => this.onEvent(e),
      stream.signal,
      (err) => {
        if (failed || stream.signal.aborted || this.abort.signal.aborted) return;
        failed = true;
        stream.abort();
        this.opts.logger.warn({ err: err.message, retryInMs: this.delay }, "config event stream failed; reconnecting");
        this.retry = setTimeout(() => {
          this.connect();
          this.note(); // whatever happened meanwhile was not seen
        }, this.delay);
        this.retry.unref();
        this.delay = Math.min(this.delay * 2, this.backoff.max);
      },
    );
  }

  private onEvent(e: DockerEvent): void {
    this.delay = this.backoff.min; // the stream works again
    if (e.type !== "config") return;
    const name = e.attributes.name;
    if (name !== undefined && !name.startsWith(NAME_PREFIX)) return;
    this.note();
  }

  private note(): void {
    if (this.abort.signal.aborted) return;
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.firstPendingAt = now;
    // Under a steady stream of events onChange still runs at least every 10 debounce periods.
    const wait = Math.max(0, Math.min(this.opts.debounceMs, this.firstPendingAt + this.opts.debounceMs * 10 - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.abort.signal.aborted) return;
      try {
        this.opts.onChange();
      } catch (err) {
        this.opts.logger.error({ err }, "onChange failed");
      }
    }, wait);
  }
}
