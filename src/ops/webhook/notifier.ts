// The pass observer that turns passes into webhook events (events.ts) and hands them to the
// sender (sender.ts). Its passEnded only computes and enqueues: the loop never waits on a receiver.
import type { Logger } from "../../util/log.js";
import type { PassObserver, PassOutcome } from "../../controller/observer.js";
import { killSwitchEvent, passEvents, webhookBody, type ChaosEvent } from "./events.js";
import type { WebhookSender } from "./sender.js";

/** How many sent run events are remembered against repeats (oldest forgotten first). */
const SEEN_LIMIT = 10_000;

export interface NotifierOptions {
  sender: Pick<WebhookSender, "enqueue">;
  format: "json" | "slack";
  logger: Logger;
  /** Whether the kill switch is on now (checked after each pass). */
  killSwitch?: () => Promise<boolean>;
  onEvent?: (e: ChaosEvent) => void;
}

export class WebhookNotifier implements PassObserver {
  private readonly seen = new Set<string>();
  private killSwitchOn?: boolean;

  constructor(private readonly o: NotifierOptions) {}

  passEnded(outcome: PassOutcome): void {
    if (!outcome.result) return;
    for (const e of passEvents(outcome.result, outcome.endedAt, this.seen)) this.send(e);
    while (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as string);
    const ks = this.o.killSwitch;
    if (ks)
      void ks().then(
        (on) => {
          // The first pass only learns the state: a controller started with the switch on says so once.
          if (on !== this.killSwitchOn && (this.killSwitchOn !== undefined || on))
            this.send(killSwitchEvent(on, new Date()));
          this.killSwitchOn = on;
        },
        () => undefined,
      );
  }

  private send(e: ChaosEvent): void {
    this.o.onEvent?.(e);
    this.o.sender.enqueue(webhookBody(e, this.o.format));
  }
}
