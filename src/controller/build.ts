// The one assembly of a controller: the CLI, the tests and the bench all build it here, so what
// they run is what ships. Parts left out get the shipped ones: the Docker engine of DOCKER_HOST,
// every fault driver, guards read back from their containers, the chaosctl image.
import { DockerEngine } from "../engine/docker.js";
import { faultDrivers } from "../faults/registry.js";
import { observeGuards } from "../faults/guard/observe.js";
import { Controller, type ControllerOptions } from "./controller.js";

/** The image of guard and helper containers unless --image says otherwise (never pulled). */
export const DEFAULT_IMAGE = process.env.CHAOSCTL_IMAGE ?? "local/chaosctl:dev";

export type ControllerConfig = Omit<ControllerOptions, "engine" | "drivers" | "observeInjections" | "image"> &
  Partial<Pick<ControllerOptions, "engine" | "drivers" | "observeInjections" | "image">>;

export function buildController(config: ControllerConfig): Controller {
  return new Controller({
    ...config,
    engine: config.engine ?? new DockerEngine(),
    drivers: config.drivers ?? faultDrivers,
    observeInjections: config.observeInjections ?? observeGuards,
    image: config.image ?? DEFAULT_IMAGE,
  });
}
