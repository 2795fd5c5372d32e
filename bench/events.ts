// Docker's own account of when things happened: every container (or node) event is kept (with the
// engine's timeNano, in ms) so a measurement ends at the moment Docker reports, not when we poll.
import type { DockerEvent } from "../src/engine/engine.js";
import { DockerEngine } from "../src/engine/docker.js";
import { sleep } from "./docker-cli.js";

export class EventLog {
  private readonly seen: DockerEvent[] = [];
  private readonly ctl = new AbortController();
  private failure?: Error;

  /** A separate engine: the controller's call counters never see the bench's stream. */
  constructor(engine = new DockerEngine(), type = "container") {
    engine.events(
      (e) => e.type === type && this.seen.push(e),
      this.ctl.signal,
      (err) => (this.failure = err),
    );
  }

  /** The first event since `sinceMs` (engine time) matching `match`, waiting up to timeoutMs. */
  async next(match: (e: DockerEvent) => boolean, sinceMs: number, timeoutMs: number): Promise<DockerEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure) throw this.failure;
      const e = this.seen.find((x) => x.time.getTime() >= sinceMs && match(x));
      if (e) return e;
      if (Date.now() > deadline) return undefined;
      await sleep(10);
    }
  }

  /** Drops what is older than `beforeMs` (keeps the list short over a long run). */
  forget(beforeMs: number): void {
    const keep = this.seen.filter((e) => e.time.getTime() >= beforeMs);
    this.seen.length = 0;
    this.seen.push(...keep);
  }

  close(): void {
    this.ctl.abort();
  }
}
