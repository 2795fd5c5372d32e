// The bench measures the controller with the node flags of the image's ENTRYPOINT (pure parse
// of the repository's real Dockerfile, plus the shapes it must refuse).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { entrypointNodeFlags, shippedNodeFlags } from "../../bench/shipped.js";

describe("entrypointNodeFlags", () => {
  it("the repository's Dockerfile starts node with a 4 MB young generation, and the bench reads exactly that", () => {
    expect(shippedNodeFlags()).toEqual(["--max-semi-space-size=4"]);
    expect(entrypointNodeFlags(readFileSync("Dockerfile", "utf8"))).toEqual(shippedNodeFlags());
  });

  it("takes only the flags before the script; refuses a shell-form or non-node ENTRYPOINT", () => {
    expect(
      entrypointNodeFlags('FROM x\nENTRYPOINT ["node", "--a=1", "--b", "/app/main.js", "--not-a-node-flag"]\n'),
    ).toEqual(["--a=1", "--b"]);
    expect(entrypointNodeFlags('ENTRYPOINT ["node", "/app/main.js"]')).toEqual([]);
    expect(() => entrypointNodeFlags("ENTRYPOINT node /app/main.js")).toThrow(/exec-form/);
    expect(() => entrypointNodeFlags('ENTRYPOINT ["tini", "--", "node"]')).toThrow(/does not start node/);
  });
});
