// Delivers webhook events in order, off the reconcile loop: enqueue() returns at once; one
// worker posts the oldest event, retrying with exponential backoff (a 5xx, 429, or network
// error) until it is delivered, then the next. The queue is bounded: when full, the oldest
// event not in flight is dropped and counted. A 4xx other than 408/429 is not retried (the receiver refuses
// it; retrying would block every later event).
import type { Logger } from "../../util/log.js";

export interface SenderStats {
  onDelivered?(): void;
  onFailedAttempt?(): void;
  onDropped?(why: "full" | "rejected"): void;
  onQueueLength?(n: number): void;
}

export interface SenderOptions {
  url: string;
  logger: Logger;
  stats?: SenderStats;
  /** Most events held while the receiver is down (default 1000). */
  capacity?: number;
  /** First retry delay; doubles to maxBackoffMs (defaults 500 ms, 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

export class WebhookSender {
  private readonly queue: string[] = [];
  private running = false;
  private closed = false;
  private wakeSleep?: () => void;
  private idle: Array<() => void> = [];

  constructor(private readonly o: SenderOptions) {}

  get length(): number {
    return this.queue.length;
  }

  /** Never blocks and never throws. */
  enqueue(body: string): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.capacity ?? 1000)) {
      // The oldest event not being posted right now (the head may be in flight).
      this.queue.splice(this.running && this.queue.length > 1 ? 1 : 0, 1);
      this.o.stats?.onDropped?.("full");
      this.o.logger.warn(
        { event: "webhook", capacity: this.o.capacity ?? 1000 },
        "webhook queue full: oldest event dropped",
      );
    }
    this.queue.push(body);
    this.o.stats?.onQueueLength?.(this.queue.length);
    if (!this.running) void this.work();
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops retrying; what is still queued is given up (logged). */
  close(): void {
    this.closed = true;
    if (this.queue.length)
      this.o.logger.warn({ event: "webhook", pending: this.queue.length }, "webhook events not delivered at shutdown");
    this.wakeSleep?.();
  }

  private async work(): Promise<void> {
    this.running = true;
    let backoff = this.o.backoffMs ?? 500;
    try {
      while (this.queue.length && !this.closed) {
        const body = this.queue[0] as string;
        const outcome = await this.post(body);
        if (outcome === "retry") {
          this.o.stats?.onFailedAttempt?.();
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 30_000);
          continue;
        }
        if (this.queue[0] === body) this.queue.shift();
        this.o.stats?.onQueueLength?.(this.queue.length);
        if (outcome === "ok") this.o.stats?.onDelivered?.();
        else this.o.stats?.onDropped?.("rejected");
        backoff = this.o.backoffMs ?? 500;
      }
    } finally {
      this.running = false;
      const waiting = this.idle;
      this.idle = [];
      waiting.forEach((f) => f());
    }
  }

  private async post(body: string): Promise<"ok" | "retry" | "rejected"> {
    const f = this.o.fetch ?? fetch;
    try {
      const r = await f(this.o.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "chaosctl" },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      await r.arrayBuffer().catch(() => undefined);
      if (r.ok) return "ok";
      const retry = r.status >= 500 || r.status === 408 || r.status === 429;
      // The URL is a secret: logged never, only the status.
      this.o.logger.warn({ event: "webhook", status: r.status, retry }, "webhook receiver answered an error");
      return retry ? "retry" : "rejected";
    } catch (e) {
      this.o.logger.warn(
        {
          event: "webhook",
          err: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
        },
        "webhook delivery failed; retrying",
      );
      return "retry";
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}
