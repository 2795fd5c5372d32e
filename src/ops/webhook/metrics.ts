// Webhook delivery metrics (docs/operations.md lists them).
import { Counter, Gauge, type Registry } from "../metrics/registry.js";
import type { SenderStats } from "./sender.js";

export function webhookMetrics(registry: Registry): SenderStats {
  const delivered = registry.register(
    new Counter("chaosctl_webhook_deliveries_total", "Webhook events delivered (2xx answer).", []),
  );
  const failed = registry.register(
    new Counter(
      "chaosctl_webhook_failures_total",
      "Webhook delivery attempts that failed (network error, timeout or an error status); each is retried unless the receiver refused it.",
      [],
    ),
  );
  const dropped = registry.register(
    new Counter(
      "chaosctl_webhook_dropped_total",
      "Webhook events given up, by why: full (the queue overflowed while the receiver was down), rejected (a 4xx answer).",
      ["why"],
    ),
  );
  const queue = registry.register(
    new Gauge("chaosctl_webhook_queue_length", "Webhook events waiting for delivery.", []),
  );
  // Every series from the start, so a dashboard's rate() has a zero to start from.
  delivered.inc({}, 0);
  failed.inc({}, 0);
  dropped.inc({ why: "full" }, 0);
  dropped.inc({ why: "rejected" }, 0);
  queue.set({}, 0);
  return {
    onDelivered: () => delivered.inc(),
    onFailedAttempt: () => failed.inc(),
    onDropped: (why) => dropped.inc({ why }),
    onQueueLength: (n) => queue.set({}, n),
  };
}
