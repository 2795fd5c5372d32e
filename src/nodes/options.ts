// The controller's side of the agents: its two flags and the node directory they configure.
import { access, readFile } from "node:fs/promises";
import type { Engine } from "../engine/engine.js";
import { NodeDirectory } from "./directory.js";
import { UsageError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { keyFromToken } from "./auth.js";
import { DEFAULT_AGENT_PORT, DEFAULT_TOKEN_FILE } from "./protocol.js";

export interface AgentFlags {
  agentPort: string;
  agentTokenFile?: string;
}

export const AGENT_PORT_HELP = "TCP port of the node agents (host mode, at each node's address)";
export const AGENT_TOKEN_HELP = `file with the agents' shared token (default ${DEFAULT_TOKEN_FILE} when it exists; without one, only this node is reached)`;

/**
 * The directory of node engines. With no token file (none given, default absent) it still
 * answers, so targets on other nodes get AgentUnavailable with the reason.
 */
export async function nodeDirectory(flags: AgentFlags, local: Engine, logger: Logger): Promise<NodeDirectory> {
  const port = Number(flags.agentPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--agent-port must be a TCP port, not ${flags.agentPort}`);
  const file =
    flags.agentTokenFile ??
    ((await access(DEFAULT_TOKEN_FILE).then(
      () => true,
      () => false,
    ))
      ? DEFAULT_TOKEN_FILE
      : undefined);
  let key: Buffer | undefined;
  if (file) {
    try {
      key = keyFromToken(await readFile(file, "utf8"), file);
    } catch (e) {
      throw new UsageError(`--agent-token-file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  logger.info(
    { event: "agents", port, tokenFile: file ?? null },
    file ? "agents used for other nodes" : "no agent token: targets on other nodes are AgentUnavailable",
  );
  return new NodeDirectory({ local, port, logger, ...(key ? { key } : {}) });
}

export { DEFAULT_AGENT_PORT };
