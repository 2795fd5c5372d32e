// The agent's RPC: `POST /v1/<op>` with a JSON body of arguments, answered with
// `{result}` or `{error: {code, message}}`. Shared by server and client so both agree on the
// names, the errors and how engine errors cross the wire (by code, back into typed classes).
import {
  ContainerNameConflict,
  ContainerNotFound,
  ContainerStateConflict,
  EngineError,
  EngineTimeout,
  ImageMissing,
  NodeUnreachable,
  VersionConflict,
} from "../engine/errors.js";
import type { ContainerInfo } from "../engine/engine.js";
import type { InjectionHandle } from "../faults/driver.js";

/** What is injected on a node: every guard (running or exited, with its exit code). */
export interface InjectionReport {
  nodeId: string;
  hostname: string;
  at: string;
  /** The guard containers themselves: the controller parses them as it parses its own. */
  containers: ContainerInfo[];
  /** The same guards parsed (faults/guard/observe.ts), for people and `audit`. */
  handles: InjectionHandle[];
}

export const RPC_PREFIX = "/v1/";
/** The largest request body (a helper spec is a few KiB); a larger one is closed unread. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Host-mode port of the agent (no routing mesh on kernels without IPVS); clear of Swarm's 2377, 7946, 4789. */
export const DEFAULT_AGENT_PORT = 8946;
export const DEFAULT_TOKEN_FILE = "/run/secrets/chaosctl-agent-token";

export const OPS = [
  "whoami",
  "ping",
  "injections",
  "listContainers",
  "inspectContainer",
  "killContainer",
  "stopContainer",
  "restartContainer",
  "pauseContainer",
  "unpauseContainer",
  "removeContainer",
  "startHelper",
  "runHelper",
  "containerLogs",
  "exec",
] as const;
export type Op = (typeof OPS)[number];

/**
 * Operations that change nothing: the only ones a request signed for ANY_NODE may call (a
 * client that does not know the node yet asks whoami). Every other operation must be signed
 * for the agent's own node ID, so a captured request is worthless on every other node.
 */
export const READ_ONLY_OPS: ReadonlySet<Op> = new Set<Op>([
  "whoami",
  "ping",
  "injections",
  "listContainers",
  "inspectContainer",
  "containerLogs",
]);

export interface WhoAmI {
  nodeId: string;
  hostname: string;
  image: string;
  version: string;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** The agent refused the request by policy (403): retrying will not help. */
export class AgentRefused extends EngineError {
  override readonly code = "AgentRefused";
}

/** The agent did not accept our credentials (401), or its answer was not signed with our key. */
export class AgentUnauthorized extends EngineError {
  override readonly code = "AgentUnauthorized";
}

const BY_CODE: Record<string, new (m: string, s?: number) => EngineError> = {
  ContainerNotFound,
  ContainerStateConflict,
  NodeUnreachable,
  VersionConflict,
  ContainerNameConflict,
  ImageMissing,
  EngineTimeout,
  PolicyRefused: AgentRefused,
  AgentRefused,
};

/** A typed engine error from an agent's error body (unknown codes become EngineError). */
export function errorFromWire(status: number, e: ErrorBody["error"], agent: string): EngineError {
  if (status === 401) return new AgentUnauthorized(`agent ${agent}: ${e.message}`, status);
  const Cls = BY_CODE[e.code] ?? EngineError;
  return new Cls(`agent ${agent}: ${e.message}`, status);
}

export function httpStatusOf(code: string): number {
  switch (code) {
    case "ContainerNotFound":
      return 404;
    case "ContainerStateConflict":
    case "ContainerNameConflict":
    case "VersionConflict":
      return 409;
    case "PolicyRefused":
      return 403;
    case "TooLarge":
      return 413;
    case "BadRequest":
      return 400;
    case "NodeUnreachable":
    case "EngineTimeout":
      return 502;
    default:
      return 500;
  }
}
