// openStore: the one way the controller and the CLI verbs open a store.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, swarmScope } from "../../src/store/open.js";
import { DirectoryStore } from "../../src/store/directory/store.js";
import { SwarmConfigStore } from "../../src/store/swarm/store.js";
import { tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe("openStore", () => {
  it("opens a directory store for --dir and a Swarm config store for --store swarm", async () => {
    const d = await openStore({ kind: "dir", dir });
    expect(d).toBeInstanceOf(DirectoryStore);
    expect(d.kind).toBe("dir");
    const s = await openStore({ kind: "swarm", scope: "team-a" });
    expect(s).toBeInstanceOf(SwarmConfigStore);
    expect((s as SwarmConfigStore).scope).toBe("team-a");
    await Promise.all([d.close(), s.close()]);
  });

  it("takes the swarm scope from CHAOSCTL_SWARM_SCOPE (default: default); refuses a scope that is not a label value", async () => {
    expect(swarmScope({})).toBe("default");
    expect(swarmScope({ CHAOSCTL_SWARM_SCOPE: "ci-1" })).toBe("ci-1");
    await expect(openStore({ kind: "swarm", scope: "no spaces" })).rejects.toThrow(/invalid store scope/);
  });
});
