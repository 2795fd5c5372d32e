// --agent-port / --agent-token-file for the verbs that read other nodes through their agents
// (audit, get active), as the controller has them.
import type { Command } from "commander";
import { DEFAULT_AGENT_PORT, DEFAULT_TOKEN_FILE } from "../nodes/protocol.js";

export interface AgentOpts {
  agentPort: string;
  agentTokenFile?: string;
}

export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option(
      "--agent-port <port>",
      "TCP port of the node agents (host mode, at each node's address)",
      String(DEFAULT_AGENT_PORT),
    )
    .option(
      "--agent-token-file <path>",
      `the agents' shared token (default ${DEFAULT_TOKEN_FILE} when it exists): other nodes' guards come from their agents`,
    );
}
