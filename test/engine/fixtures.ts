// Test services on their own overlay network: a Swarm task attaches to it (and docker_gwbridge)
// instead of the default bridge docker0, which other work on this machine may tear down.
import { createTestService, docker, dockerOk, type TestService, type TestServiceOptions } from "../helpers/docker.js";

export interface OverlayService extends TestService {
  network: string;
}

export async function createOverlayService(opts: TestServiceOptions = {}): Promise<OverlayService> {
  const prefix = opts.namePrefix ?? "chaosctl-test";
  const network = await dockerOk([
    "network",
    "create",
    "--driver",
    "overlay",
    "--label",
    "chaosctl-test=1",
    `${prefix}-net-${process.pid}-${Date.now()}`,
  ]);
  try {
    const svc = await createTestService({ ...opts, flags: ["--network", network, ...(opts.flags ?? [])] });
    return {
      ...svc,
      network,
      async remove() {
        await svc.remove();
        await docker(["network", "rm", network]);
      },
    };
  } catch (err) {
    await docker(["network", "rm", network]);
    throw err;
  }
}
