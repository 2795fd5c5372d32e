// The machine the figures were taken on (they mean little without it).
import { cpus, release, totalmem, loadavg } from "node:os";
import { execFileSync } from "node:child_process";
import { docker } from "./docker-cli.js";

function commit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${head} with local changes in src/` : head;
  } catch {
    return "unknown";
  }
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  docker: string;
  node: string;
  date: string;
  loadAtStart: string;
  /** The commit measured (+ "with local changes" when src/ differs from it). */
  commit: string;
}

export async function machine(): Promise<Machine> {
  const v = await docker([
    "version",
    "-f",
    "{{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}",
  ]).catch((e: Error) => `unknown (${e.message})`);
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    docker: v,
    node: process.version,
    date: new Date().toISOString(),
    loadAtStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
    commit: commit(),
  };
}
