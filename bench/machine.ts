// The machine the figures were taken on (they mean little without it).
import { cpus, release, totalmem, loadavg } from "node:os";
import { docker } from "./docker-cli.js";

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  docker: string;
  node: string;
  date: string;
  loadAtStart: string;
}

export async function machine(): Promise<Machine> {
  const v = await docker(["version", "-f", "{{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}"]).catch((e: Error) => `unknown (${e.message})`);
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    docker: v,
    node: process.version,
    date: new Date().toISOString(),
    loadAtStart: loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}
