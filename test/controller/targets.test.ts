// TargetsFound (pure): a selector that matches nothing says so, with suggestions from the
// cluster's own names; one that matches says what.
import { describe, expect, it } from "vitest";
import { targetsFound } from "../../src/controller/targets.js";
import { node, service, snapshot } from "../support/builders.js";

const ncWeb = service("nc-web", 3, { stack: "nc" });
const ncDb = service("nc-db", 1, { stack: "nc" });
const snap = snapshot([ncWeb, ncDb], { nodes: [node("n1"), node("n2")] });

describe("targetsFound", () => {
  it.each([
    ["a misspelt service", { services: ["nc-wbe"] }, false, "service nc-wbe does not exist; did you mean nc-web?"],
    ["a service like nothing", { services: ["payments"] }, false, "service payments does not exist"],
    ["a misspelt stack", { stack: "ncc" }, false, "stack ncc has no service; did you mean nc?"],
    ["a misspelt node", { nodes: ["host-n3"] }, true, "node host-n3 does not exist; did you mean host-n1?"],
    ["labels no service has", { serviceLabels: { tier: "gold" } }, false, "no service matches the selector"],
    [
      "two missing services, each named",
      { services: ["nc-wbe", "nc-dbb"] },
      false,
      "service nc-wbe does not exist; did you mean nc-web?; service nc-dbb does not exist; did you mean nc-db?",
    ],
  ])("%s: False, NoMatch", (_, sel, nodeFault, message) => {
    expect(targetsFound(sel, nodeFault, snap)).toEqual({
      type: "TargetsFound",
      status: "False",
      reason: "NoMatch",
      message,
    });
  });

  it.each([
    ["a service by name", { services: ["nc-web"] }, false, "selector matches 1 service(s): nc-web"],
    ["a stack", { stack: "nc" }, false, "selector matches 2 service(s): nc-db, nc-web"],
    ["nodes by role", { nodeRoles: ["manager"] }, true, "selector matches 2 node(s)"],
  ])("%s: True, Matched", (_, sel, nodeFault, message) => {
    expect(targetsFound(sel, nodeFault, snap)).toEqual({
      type: "TargetsFound",
      status: "True",
      reason: "Matched",
      message,
    });
  });
});
