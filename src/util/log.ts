// pino JSON lines to stderr for the controller and agent (design.md: Logs).
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string = process.env.CHAOSCTL_LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { app: "chaosctl" }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** A logger that drops everything, for tests and CLI verbs. */
export const silentLogger: Logger = pino({ level: "silent" });
