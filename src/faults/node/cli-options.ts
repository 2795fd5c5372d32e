// The controller's node-fault flags: the reboot hook comes from here (the controller's own
// configuration), never from a manifest. Reading the hook file is the CLI's edge; the rest is pure.
import { readFile } from "node:fs/promises";
import { Option } from "commander";
import { parseDuration } from "../../api/duration.js";
import { UsageError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import type { FaultDriver, FaultKind } from "../driver.js";
import { nodeDriver } from "./driver.js";
import {
  checkArgv,
  DEFAULT_REBOOT_HOOK_TIMEOUT_MS,
  InvalidRebootHook,
  parseHookArgv,
  type RebootHook,
} from "./reboot.js";

export interface RebootHookFlags {
  rebootHook?: string[];
  rebootHookFile?: string;
  rebootHookTimeout?: string;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** The controller's reboot-hook options, added one by one to its command chain. */
export const rebootHookOptions = {
  file: (): Option =>
    new Option(
      "--reboot-hook-file <path>",
      'node reboot: a JSON argv run for fault node.action reboot, e.g. ["/usr/local/bin/reboot-node"] (env CHAOSCTL_NODE_ID, CHAOSCTL_NODE_HOSTNAME, CHAOSCTL_NODE_ADDR)',
    ),
  arg: (): Option =>
    new Option(
      "--reboot-hook <arg>",
      "node reboot: the hook's argv, one --reboot-hook per element (instead of --reboot-hook-file)",
    ).argParser(collect),
  timeout: (): Option =>
    new Option("--reboot-hook-timeout <duration>", "node reboot: the hook is killed after this long").default("5m"),
};

export async function rebootHookFrom(flags: RebootHookFlags): Promise<RebootHook | undefined> {
  const inline = flags.rebootHook ?? [];
  if (inline.length && flags.rebootHookFile) throw new UsageError("give --reboot-hook or --reboot-hook-file, not both");
  let timeoutMs = DEFAULT_REBOOT_HOOK_TIMEOUT_MS;
  if (flags.rebootHookTimeout !== undefined) {
    try {
      timeoutMs = parseDuration(flags.rebootHookTimeout);
    } catch (e) {
      throw new UsageError(`--reboot-hook-timeout: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  try {
    if (flags.rebootHookFile) {
      const text = await readFile(flags.rebootHookFile, "utf8").catch((e: unknown) => {
        throw new UsageError(
          `--reboot-hook-file ${flags.rebootHookFile}: ${e instanceof Error ? e.message : String(e)}`,
        );
      });
      return { argv: parseHookArgv(text, `--reboot-hook-file ${flags.rebootHookFile}`), timeoutMs };
    }
    return inline.length ? { argv: checkArgv(inline, "--reboot-hook"), timeoutMs } : undefined;
  } catch (e) {
    if (e instanceof InvalidRebootHook) throw new UsageError(e.message);
    throw e;
  }
}

/** The registry's drivers with the node driver built from the controller's flags. */
export async function withNodeDriver(
  drivers: ReadonlyMap<FaultKind, FaultDriver<unknown>>,
  flags: RebootHookFlags & { agentPort?: string | number },
  logger: Logger,
): Promise<ReadonlyMap<FaultKind, FaultDriver>> {
  const rebootHook = await rebootHookFrom(flags);
  const port = Number(flags.agentPort);
  const node = nodeDriver({
    ...(rebootHook ? { rebootHook } : {}),
    ...(Number.isInteger(port) && port > 0 ? { keepTcpPorts: [port] } : {}),
    logger,
  });
  return new Map<FaultKind, FaultDriver>([...drivers, ["node", node]]);
}
