// Global set-up of the "docker" test group (vitest.config.ts): once, before any real-engine
// test file runs, check that the compiled code those tests run is the checkout's own.
import { APP_IMAGE } from "./docker.js";
import { requireFreshBuild } from "./fresh.js";

export default async function setup(): Promise<void> {
  await requireFreshBuild(APP_IMAGE);
}
