// pino JSON lines to stderr for the controller and agent (docs/controller.md, "Logs").
import { pino, type DestinationStream, type Logger } from "pino";
import { redact, redactString } from "./redact.js";

export type { Logger };

export function createLogger(
  level: string = process.env.CHAOSCTL_LOG_LEVEL ?? "info",
  destination: DestinationStream = pino.destination(2),
): Logger {
  const root = pino(
    {
      level,
      base: { app: "chaosctl" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // No secret is ever logged (util/redact.ts): fields, child bindings and message text.
      formatters: {
        log: (o) => redact(o) as Record<string, unknown>,
        bindings: (b) => redact(b) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === "string" ? redactString(a) : a)) as Parameters<typeof method>;
          method.apply(this, clean);
        },
      },
    },
    destination,
  );
  // Child bindings bypass the formatters: redact them on the way in (children inherit this).
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the logger it is invoked on (children inherit it)
  const child = root.child;
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, redact(bindings) as typeof bindings, options);
  } as typeof root.child;
  return root;
}

/** A logger that drops everything, for tests and CLI verbs. */
export const silentLogger: Logger = pino({ level: "silent" });
