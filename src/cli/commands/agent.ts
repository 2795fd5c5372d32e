// chaosctl agent: the node agent (a Swarm global service, docker.sock mounted). It serves the
// controller's signed RPC over its node's engine and reports the guards on its node.
import type { Command } from "commander";
import { DockerEngine } from "../../engine/docker.js";
import { startAgent } from "../../agent/run.js";
import { DEFAULT_AGENT_PORT, DEFAULT_TOKEN_FILE } from "../../nodes/protocol.js";
import { DEFAULT_DOCKER_SOCKET } from "../../faults/guard/spec.js";
import { DEFAULT_STRESS_IMAGE } from "../../faults/stress/spec.js";
import { parseDuration } from "../../api/duration.js";
import { UsageError } from "../../util/errors.js";
import { createLogger } from "../../util/log.js";
import type { CliContext } from "../output.js";

const EXAMPLES = `
Examples:
  chaosctl agent                                    # as the stack's global service (manifests/stack.yml)
  chaosctl agent --port 8946 --token-file /run/secrets/chaosctl-agent-token

The token is read from --token-file only (a Docker secret), never from argv or the environment,
and never logged. Every request must carry an HMAC-SHA256 of it over this node's ID, method,
path, timestamp, nonce and body; others get 401. Helpers run only from --image with only the
node's docker.sock, and only what the controller's rules admit (docs/agent.md).`;

interface Opts {
  port: string;
  listen: string;
  tokenFile: string;
  image: string;
  stressImage: string;
  dockerSocketPath: string;
  maxDuration: string;
  requireOptIn?: boolean;
  logLevel: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("agent")
    .description("node agent: executes the controller's node-local work on this node, authenticated")
    .option("--port <port>", "TCP port (publish it in host mode: no routing mesh needed)", String(DEFAULT_AGENT_PORT))
    .option("--listen <addr>", "address to listen on", "0.0.0.0")
    .option("--token-file <path>", "file holding the shared token (a Docker secret)", DEFAULT_TOKEN_FILE)
    .option(
      "--image <image>",
      "the only image helpers may be started from",
      process.env.CHAOSCTL_IMAGE ?? "local/chaosctl:dev",
    )
    .option(
      "--stress-image <image>",
      "the image of stress faults' stressors and disk fill tools (set it as the controller's --stress-image)",
      DEFAULT_STRESS_IMAGE,
    )
    .option(
      "--docker-socket-path <path>",
      "this node's engine socket as its engine resolves bind mounts (bound into guards)",
      DEFAULT_DOCKER_SOCKET,
    )
    .option(
      "--max-duration <duration>",
      "the longest fault admitted (set it as the controller's --max-duration)",
      "24h",
    )
    .option("--require-opt-in", "admit only services/nodes labelled chaosctl.io/enabled=true (as the controller's)")
    .option("--log-level <level>", "log level", process.env.CHAOSCTL_LOG_LEVEL ?? "info")
    .addHelpText("after", EXAMPLES)
    .action(async (opts: Opts) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be a TCP port, not ${opts.port}`);
      let maxDurationMs: number;
      try {
        maxDurationMs = parseDuration(opts.maxDuration);
      } catch (e) {
        throw new UsageError(`--max-duration: ${e instanceof Error ? e.message : String(e)}`);
      }
      const logger = createLogger(opts.logLevel).child({ role: "agent" });
      const { packageVersion } = await import("../version.js");
      const agent = await startAgent({
        engine: new DockerEngine(),
        tokenFile: opts.tokenFile,
        image: opts.image,
        stressImage: opts.stressImage,
        dockerSocket: opts.dockerSocketPath,
        listen: opts.listen,
        port,
        version: packageVersion(),
        logger,
        maxDurationMs,
        requireOptIn: opts.requireOptIn === true,
      });
      await new Promise<void>((resolve) => {
        const stop = (sig: string): void => {
          logger.info(
            { event: "stop", signal: sig },
            "agent stopping; guards on this node keep enforcing their expiry",
          );
          resolve();
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      await agent.close();
      ctx.exitCode = 0;
    });
}
