// loadText / loadBytes: exact locations, defaults, multi-document streams, encodings, and
// every class of bad input rejected with a file and line, never a throw.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allProblems, loadBytes, loadText } from "../../src/api/load.js";

const HEAD = "apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\n";

function only(text: string, file = "m.yaml") {
  const r = loadText(text, file);
  return allProblems(r).map(({ line, column, path, rule, message }) => ({ line, column, path, rule, message }));
}

describe("locations", () => {
  const text = [
    "apiVersion: chaosctl.io/v1alpha1", // 1
    "kind: ChaosSchedule", // 2
    "metadata:", // 3
    "  name: web-kill", // 4
    "spec:", // 5
    '  schedule: "@every 10m"', // 6
    "  selector:", // 7
    "    services:", // 8
    "      - web", // 9
    "      - 42", // 10
    "    mode: one", // 11
    "  fault:", // 12
    "    kill:", // 13
    "      signal: SIGKILL", // 14
    "      grace: 5s", // 15
    "  safety:", // 16
    "    maxUnavailable: [1]", // 17
    "",
  ].join("\n");

  it("points at an array item, an unknown nested key and a wrong-typed value, all at once", () => {
    expect(only(text)).toEqual([
      {
        line: 10,
        column: 9,
        path: "spec.selector.services[1]",
        rule: "schema",
        message: 'must be a string, not 42; quote it: "42"',
      },
      {
        line: 15,
        column: 7,
        path: "spec.fault.kill.grace",
        rule: "schema",
        message: 'unknown field "grace"; known fields: signal',
      },
      {
        line: 17,
        column: 21,
        path: "spec.safety.maxUnavailable",
        rule: "schema",
        message: "must be an integer or a string, not a list",
      },
    ]);
  });

  it("points a missing field at the object that should hold it", () => {
    const t = HEAD + "metadata: {name: p}\nspec:\n  selector: {services: [web]}\n  fault:\n    pause: {}\n";
    expect(only(t)).toEqual([
      {
        line: 4,
        column: 1,
        path: "spec.duration",
        rule: "durationRequired",
        message: expect.stringContaining("pause stays injected"),
      },
    ]);
    expect(only(HEAD + "metadata: {name: p}\nspec:\n  selector: {services: [web]}\n")).toEqual([
      { line: 4, column: 1, path: "spec.fault", rule: "schema", message: 'missing required field "fault"' },
    ]);
  });

  it("suggests the field meant for a misspelt key, pointing at the key", () => {
    const t =
      HEAD + "metadata: {name: p}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n  sechdule: '@once'\n";
    expect(only(t)).toEqual([
      {
        line: 7,
        column: 3,
        path: "spec.sechdule",
        rule: "schema",
        message: 'unknown field "sechdule"; did you mean "schedule"?',
      },
    ]);
  });

  it("a bare number as a duration suggests the unit at once, unquoted or quoted", () => {
    const body = (d: string) =>
      HEAD + `metadata: {name: p}\nspec:\n  duration: ${d}\n  selector: {services: [web]}\n  fault: {pause: {}}\n`;
    expect(only(body("20"))).toEqual([
      {
        line: 5,
        column: 13,
        path: "spec.duration",
        rule: "schema",
        message: 'must be a string, not 20; a duration needs a unit: "20s" (or ms, m, h)',
      },
    ]);
    expect(only(body('"20"'))).toEqual([
      {
        line: 5,
        column: 13,
        path: "spec.duration",
        rule: "durationsPositiveAndCapped",
        message: 'invalid duration "20": a duration needs a unit: "20s" (or ns, us, ms, m, h)',
      },
    ]);
  });

  it("names keys that are not identifiers with brackets", () => {
    const t =
      HEAD +
      "metadata:\n  name: p\n  labels: {app.kubernetes.io/name: 3}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n";
    expect(only(t)).toEqual([
      {
        line: 5,
        column: 36,
        path: 'metadata.labels["app.kubernetes.io/name"]',
        rule: "schema",
        message: expect.stringContaining("must be a string"),
      },
    ]);
  });

  it("reports a YAML syntax error at its line", () => {
    expect(only(HEAD + "metadata:\n  name: [unclosed\nspec: {}\n")).toEqual([
      { line: 5, column: 1, path: "", rule: "yamlSyntax", message: expect.stringMatching(/flow sequence/i) },
    ]);
  });
});

describe("defaults", () => {
  it("fills in every schema default of a minimal manifest", () => {
    const r = loadText(
      HEAD + "metadata: {name: k}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n",
      "m.yaml",
    );
    const m = r.documents[0]?.manifest;
    expect(m).toBeDefined();
    expect(m?.metadata).toEqual({ name: "k", namespace: "default" });
    expect(m?.spec).toEqual({
      schedule: "@once",
      suspend: false,
      concurrencyPolicy: "Forbid",
      historyLimit: 10,
      selector: { services: ["web"], mode: "one" },
      fault: { kill: { signal: "SIGKILL" } },
    });
    expect(r.documents[0]?.key).toBe("default/k");
  });

  it("fills in the defaults of nested fault objects and never overrides a given value", () => {
    const r = loadText(
      HEAD +
        "metadata: {name: n, namespace: lab}\nspec:\n  duration: 1m\n  historyLimit: 0\n  selector: {services: [web]}\n" +
        "  fault:\n    network:\n      partition: {}\n      bandwidth: {rate: 1mbit}\n",
      "m.yaml",
    );
    const m = r.documents[0]?.manifest;
    expect(allProblems(r)).toEqual([]);
    expect(m?.spec.historyLimit).toBe(0);
    expect(m?.spec.fault.network).toEqual({
      interface: "eth0",
      partition: { direction: "both" },
      bandwidth: { rate: "1mbit", burst: "32kb", latency: "400ms" },
    });
    expect(r.documents[0]?.key).toBe("lab/n");
  });
});

describe("multi-document files", () => {
  const text =
    "# leading comment\n" + // 1
    HEAD + // 2-3
    "metadata: {name: a}\nspec: {selector: {services: [web]}, fault: {kill: {}}}\n" + // 4-5
    "---\n" + // 6
    "---\n" + // 7: an empty document, skipped
    HEAD + // 8-9
    "metadata: {name: b}\nspec: {selector: {services: [web]}, fault: {kill: {}}, duration: 5m}\n" + // 10-11
    "---\n" + // 12
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"; // 13-15

  it("reports each document with its index, line and key; skips empty ones", () => {
    const r = loadText(text, "multi.yaml");
    expect(r.problems).toEqual([]);
    expect(
      r.documents.map((d) => ({ index: d.index, line: d.line, key: d.key, valid: d.manifest !== undefined })),
    ).toEqual([
      { index: 0, line: 2, key: "default/a", valid: true },
      { index: 2, line: 8, key: "default/b", valid: false },
      { index: 3, line: 13, key: undefined, valid: false },
    ]);
    expect(allProblems(r).map((p) => `${p.line}:${p.column} ${p.rule}`)).toEqual([
      "11:56 durationRequired",
      "14:7 notChaosSchedule",
    ]);
  });

  it("a document that is not a ChaosSchedule is reported, not taken", () => {
    const r = loadText("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "d.yaml");
    expect(allProblems(r)).toEqual([
      {
        file: "d.yaml",
        line: 2,
        column: 7,
        path: "",
        rule: "notChaosSchedule",
        message:
          'not a ChaosSchedule (apiVersion "apps/v1", kind "Deployment"): chaosctl reads only chaosctl.io/v1alpha1 ChaosSchedule',
      },
    ]);
    expect(r.documents[0]?.key).toBeUndefined();
    expect(only("- a\n- b\n")).toEqual([
      {
        line: 1,
        column: 1,
        path: "",
        rule: "notChaosSchedule",
        message: expect.stringContaining("the document is a list"),
      },
    ]);
    expect(only("just text\n")[0]?.rule).toBe("notChaosSchedule");
  });

  it("a Docker stack (compose) file is skipped with a note only where asked (folders), else reported", () => {
    const stack = 'version: "3.8"\nservices:\n  web: {image: x}\nsecrets:\n  t: {external: true}\nx-common: {a: 1}\n';
    const skipped = loadText(
      `${HEAD}metadata: {name: a}\nspec: {selector: {services: [web]}, fault: {kill: {}}}\n---\n${stack}`,
      "s.yml",
      {
        skipStackFiles: true,
      },
    );
    expect(allProblems(skipped)).toEqual([]);
    expect(skipped.documents.map((d) => d.key)).toEqual(["default/a"]);
    expect(skipped.skipped).toEqual([
      { file: "s.yml", index: 1, line: 6, reason: "a Docker stack (compose) file, not a ChaosSchedule: skipped" },
    ]);
    // Alone in a file it is not "no documents" either.
    expect(allProblems(loadText(stack, "s.yml", { skipStackFiles: true }))).toEqual([]);
    // Without the option (a Swarm config, apply's input) it is still not a ChaosSchedule.
    expect(only(stack).map((p) => p.rule)).toContain("schema");
    // A ChaosSchedule that lost apiVersion and kind is never taken for a stack file.
    const lost = "metadata: {name: a}\nservices: {web: {}}\nspec: {selector: {services: [web]}, fault: {kill: {}}}\n";
    const r = loadText(lost, "l.yaml", { skipStackFiles: true });
    expect(r.skipped).toBeUndefined();
    expect(allProblems(r).map((p) => p.path)).toEqual(expect.arrayContaining(["apiVersion", "kind"]));
    // Nor is a mapping with a `services` list, or other kinds of resource.
    expect(loadText("services: [a]\n", "x.yaml", { skipStackFiles: true }).skipped).toBeUndefined();
    const deploy = loadText("apiVersion: apps/v1\nkind: Deployment\nservices: {a: {}}\n", "d.yaml", {
      skipStackFiles: true,
    });
    expect(allProblems(deploy).map((p) => p.rule)).toEqual(["notChaosSchedule"]);
  });

  it("a wrong version of our own kind is a schema problem on apiVersion", () => {
    const t =
      "apiVersion: chaosctl.io/v1\nkind: ChaosSchedule\nmetadata: {name: a}\nspec: {selector: {services: [web]}, fault: {kill: {}}}\n";
    expect(only(t)).toEqual([
      {
        line: 1,
        column: 13,
        path: "apiVersion",
        rule: "schema",
        message: 'must be one of "chaosctl.io/v1alpha1", not "chaosctl.io/v1"',
      },
    ]);
  });
});

describe("encodings", () => {
  it("CRLF line ends and a UTF-8 BOM load, with exact positions", () => {
    const lines = [
      "apiVersion: chaosctl.io/v1alpha1",
      "kind: ChaosSchedule",
      "metadata:",
      "  name: crlf",
      "spec:",
      "  selector: {services: [web]}",
      "  fault: {kill: {}}",
      "  historyLimit: many",
      "",
    ];
    const bytes = Buffer.from("\uFEFF" + lines.join("\r\n"), "utf8");
    expect(bytes.includes("\r\n")).toBe(true);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const r = loadBytes(bytes, "crlf.yaml");
    expect(allProblems(r)).toEqual([
      {
        file: "crlf.yaml",
        line: 8,
        column: 17,
        path: "spec.historyLimit",
        rule: "schema",
        message: 'must be an integer, not "many"',
      },
    ]);
    expect(r.documents[0]?.key).toBe("default/crlf");
    const ok = loadBytes(
      Buffer.from(
        "\uFEFF" +
          HEAD.replace(/\n/g, "\r\n") +
          "metadata:\r\n  name: ok\r\nspec: {selector: {services: [web]}, fault: {kill: {}}}\r\n",
      ),
      "ok.yaml",
    );
    expect(ok.documents[0]?.manifest?.metadata.name).toBe("ok");
  });
});

describe("bad input: each a problem with file and line, never a throw", () => {
  const valid = HEAD + "metadata: {name: ok}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n";

  it("malformed YAML", () => {
    expect(only("apiVersion: chaosctl.io/v1alpha1\nkind: [ChaosSchedule\n  metadata: : :\n")[0]).toMatchObject({
      line: expect.any(Number),
      rule: "yamlSyntax",
    });
    expect(only("a: 1\na: 2\n")).toEqual([
      {
        line: 2,
        column: 1,
        path: "",
        rule: "yamlSyntax",
        message: 'Map keys must be unique: "a" is already at line 1',
      },
    ]);
    expect(only("\ta: 1\n")[0]?.rule).toBe("yamlSyntax");
  });

  it("wrong types", () => {
    const t =
      HEAD +
      "metadata: {name: ok}\nspec:\n  suspend: 'yes'\n  historyLimit: 1.5\n  selector: {services: web}\n  fault: {kill: {}}\n";
    expect(only(t).map((p) => [p.line, p.path, p.message])).toEqual([
      [5, "spec.suspend", 'must be a boolean, not "yes"'],
      [6, "spec.historyLimit", "must be an integer, not 1.5"],
      [7, "spec.selector.services", 'must be a list, not "web"'],
    ]);
  });

  it("unknown fields at the top, in metadata and deep in a fault", () => {
    const t =
      HEAD +
      "metadata: {name: ok, uid: x}\nspec:\n  selector: {services: [web]}\n  fault: {netem: {delay: {time: 1ms, jiter: 2ms}}}\n  duration: 1m\nextra: 1\n";
    expect(only(t).map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      "3:22 metadata.uid",
      "6:38 spec.fault.netem.delay.jiter",
      "8:1 extra",
    ]);
  });

  it("two faults in one manifest", () => {
    const t =
      HEAD +
      "metadata: {name: ok}\nspec:\n  selector: {services: [web]}\n  fault:\n    kill: {}\n    netem: {loss: {percent: 5}}\n";
    expect(only(t)).toEqual([
      {
        line: 8,
        column: 5,
        path: "spec.fault.netem",
        rule: "exactlyOneFault",
        message: expect.stringContaining("2 faults (kill, netem)"),
      },
    ]);
  });

  it("a negative and an absurd duration", () => {
    const t = (d: string) =>
      HEAD + `metadata: {name: ok}\nspec:\n  duration: ${d}\n  selector: {services: [web]}\n  fault: {pause: {}}\n`;
    expect(only(t("-30s"))).toEqual([
      {
        line: 5,
        column: 13,
        path: "spec.duration",
        rule: "durationsPositiveAndCapped",
        message: 'must be positive, not "-30s"',
      },
    ]);
    expect(only(t("9999h"))).toEqual([
      {
        line: 5,
        column: 13,
        path: "spec.duration",
        rule: "durationsPositiveAndCapped",
        message: '"9999h" is longer than the limit of 24h',
      },
    ]);
  });

  it("an alias bomb (billion laughs) is refused at the first alias", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(
        `${cur}: &${cur} [${Array(9)
          .fill("*" + prev)
          .join(", ")}]`,
      );
    }
    const t0 = performance.now();
    const problems = only(levels.join("\n") + "\n");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(problems).toEqual([
      { line: 2, column: 8, path: "", rule: "aliasLimit", message: expect.stringContaining("alias bomb") },
    ]);
    // A handful of aliases is fine.
    const r = loadText(
      HEAD +
        "metadata: {name: ok}\nspec:\n  selector: {services: &s [web]}\n  fault: {netem: {to: {services: *s}, loss: {percent: 1}}}\n  duration: 1m\n",
      "m.yaml",
    );
    expect(allProblems(r)).toEqual([]);
  });

  it("deep nesting: 10,000 flow levels, and 100 block levels (own depth check)", () => {
    const flow = only("spec: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n");
    expect(flow).toEqual([
      {
        line: 1,
        column: expect.any(Number),
        path: "",
        rule: "depthLimit",
        message: "nesting too deep to parse (the limit is 64 levels)",
      },
    ]);
    let block = "";
    for (let i = 0; i < 100; i++) block += " ".repeat(i) + "k:\n";
    expect(only(block)).toEqual([
      {
        line: 65,
        column: 65,
        path: "",
        rule: "depthLimit",
        message: "nesting deeper than 64 levels: not a ChaosSchedule",
      },
    ]);
  });

  it("binary content: a NUL byte or invalid UTF-8, located at the first bad byte", () => {
    expect(allProblems(loadBytes(Buffer.from("a: 1\nb: x\u0000y\n"), "nul.yaml"))).toEqual([
      {
        file: "nul.yaml",
        line: 2,
        column: 5,
        path: "",
        rule: "binary",
        message: "binary content: the file contains a NUL byte; not a YAML manifest",
      },
    ]);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(allProblems(loadBytes(png, "img.yaml"))).toEqual([
      {
        file: "img.yaml",
        line: 1,
        column: 1,
        path: "",
        rule: "binary",
        message: "binary content: the file is not valid UTF-8; not a YAML manifest",
      },
    ]);
    // "é" is two bytes: the bad byte after it is column 3 of line 2.
    const latin1 = Buffer.concat([Buffer.from("a: 1\néb"), Buffer.from([0xe9]), Buffer.from("\n")]);
    expect(allProblems(loadBytes(latin1, "l.yaml"))[0]).toMatchObject({ line: 2, column: 3, rule: "binary" });
    expect(only("a: b\u0000")[0]).toMatchObject({ line: 1, column: 5, rule: "binary" });
  });

  it("an empty file, or one with only comments, has no documents", () => {
    for (const t of ["", "\n\n", "# nothing here\n", "---\n"]) {
      expect(only(t, "e.yaml")).toEqual([
        {
          line: 0,
          column: 0,
          path: "",
          rule: "noDocuments",
          message: "no documents: the file is empty (or only comments)",
        },
      ]);
    }
    expect(allProblems(loadText("", "e.yaml", { allowEmpty: true }))).toEqual([]);
  });

  it("text over the size bound is not parsed", () => {
    expect(only("a: " + "x".repeat(2000), "big.yaml").length).toBeGreaterThan(0);
    expect(allProblems(loadText("a: " + "x".repeat(2000), "big.yaml", { maxBytes: 1000 }))).toEqual([
      {
        file: "big.yaml",
        line: 0,
        column: 0,
        path: "",
        rule: "fileTooLarge",
        message: "too large: 2 KiB, the limit is 1000 bytes; not read",
      },
    ]);
  });

  it("a bad document does not affect the good ones in the same file", () => {
    const r = loadText(valid + "---\n" + "kind: [\n" + "---\n" + valid.replace("name: ok", "name: ok2"), "mix.yaml");
    expect(r.documents.filter((d) => d.manifest).map((d) => d.key)).toEqual(["default/ok", "default/ok2"]);
    expect(allProblems(r).map((p) => p.rule)).toContain("yamlSyntax");
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        loadText(s, "f.yaml");
        loadText(valid + s, "f.yaml");
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on random edits of a valid manifest", () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string()),
      fc.dictionary(fc.string(), fc.string()),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("spec", "metadata", "selector", "fault", "safety", "status"),
        fc.string(),
        anyValue,
        (where, key, value) => {
          const text =
            valid +
            (where === "spec" || where === "metadata" ? "" : `  ${where}:\n`) +
            `    ${JSON.stringify(key)}: ${JSON.stringify(value)}\n`;
          const r = loadText(text, "f.yaml");
          for (const p of allProblems(r)) expect(p.line).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
