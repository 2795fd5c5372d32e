// Fault drivers by kind (one driver per kind, one target per call): adding a fault = adding its folder and one line here.
// Each driver is typed with its own spec; the controller hands it spec.fault[kind].
import type { FaultDriver, FaultKind } from "./driver.js";
import { killDriver } from "./kill/driver.js";
import { stopDriver } from "./stop/driver.js";
import { restartDriver } from "./restart/driver.js";
import { pauseDriver } from "./pause/driver.js";
import { netemDriver } from "./netem/driver.js";
import { networkDriver } from "./network/driver.js";
import { nodeDriver } from "./node/driver.js";
import { stressDriver } from "./stress/driver.js";
import { processDriver } from "./process/driver.js";

export const faultDrivers: ReadonlyMap<FaultKind, FaultDriver<unknown>> = new Map<FaultKind, FaultDriver<unknown>>([
  ["kill", killDriver],
  ["stop", stopDriver],
  ["restart", restartDriver],
  ["pause", pauseDriver],
  ["netem", netemDriver],
  ["network", networkDriver],
  // No reboot hook here: the controller CLI replaces this entry with one built from its own flags.
  ["node", nodeDriver()],
  ["stress", stressDriver()],
  ["process", processDriver],
]);
