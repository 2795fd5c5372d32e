// Pure translation of dockerode/HTTP errors into the typed engine errors (errors.ts).
// The original error is always kept as `cause`.
import {
  ConfigInUse,
  ConfigNameConflict,
  ConfigNotFound,
  ContainerNameConflict,
  ContainerNotFound,
  ContainerStateConflict,
  EngineError,
  EngineTimeout,
  ImageMissing,
  NodeUnreachable,
  VersionConflict,
} from "./errors.js";

/** What the failed call was about, so a 404 can say what was missing. */
export type ErrorSubject = "container" | "create" | "image" | "node" | "service" | "config" | "other";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EPIPE",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
const STATE_CONFLICT =
  /is (not|already) (paused|running)|is paused|is restarting|is dead|is not running|already in progress/i;
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT"]);

function field(err: unknown, key: string): unknown {
  return err !== null && typeof err === "object" && key in err ? (err as Record<string, unknown>)[key] : undefined;
}

/** The daemon's own message ({"message": "..."}) when there is one, else the error's. */
export function daemonMessage(err: unknown): string {
  const json = field(err, "json");
  const m = field(json, "message");
  if (typeof m === "string") return m;
  if (typeof json === "string" && json.length > 0) return json;
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString("utf8");
  const msg = field(err, "message");
  return typeof msg === "string" ? msg : String(err);
}

export function mapDockerError(err: unknown, subject: ErrorSubject, what: string): EngineError {
  if (err instanceof EngineError) return err;
  const status = field(err, "statusCode");
  const statusCode = typeof status === "number" ? status : undefined;
  const code = field(err, "code");
  const msg = daemonMessage(err);
  const text = `${what}: ${msg}`;
  const opts = { cause: err };

  if (typeof code === "string" && CONNECTION_CODES.has(code)) return new NodeUnreachable(text, undefined, opts);
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) return new EngineTimeout(text, undefined, opts);
  if (/update out of sequence/i.test(msg)) return new VersionConflict(text, statusCode, opts);
  if (/no such image|pull access denied|repository does not exist/i.test(msg))
    return new ImageMissing(text, statusCode, opts);
  if (statusCode === 404 && (subject === "image" || subject === "create"))
    return new ImageMissing(text, statusCode, opts);
  if (subject === "config") {
    if (statusCode === 404) return new ConfigNotFound(text, statusCode, opts);
    if (statusCode === 409 && /in use/i.test(msg)) return new ConfigInUse(text, statusCode, opts);
    if (statusCode === 409) return new ConfigNameConflict(text, statusCode, opts);
  }
  if (statusCode === 404 && subject === "container") return new ContainerNotFound(text, statusCode, opts);
  if (statusCode === 409 && subject === "create") return new ContainerNameConflict(text, statusCode, opts);
  // Engine 20.10 answers some state conflicts with 500 (unpause of a running container).
  if (subject === "container" && STATE_CONFLICT.test(msg)) return new ContainerStateConflict(text, statusCode, opts);
  if ((statusCode === 409 || statusCode === 304) && subject === "container")
    return new ContainerStateConflict(text, statusCode, opts);
  return new EngineError(text, statusCode, opts);
}
