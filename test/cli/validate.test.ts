// chaosctl validate and schema through run(argv, io), plus the real compiled bin once.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chaosScheduleSchema } from "../../src/api/generated/schema.js";
import { run } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/output.js";

const exec = promisify(execFile);

/** Runs a command; resolves with its exit code and output whatever the code. */
async function spawnCode(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(file, args);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
const root = join(import.meta.dirname, "..", "..");
const examples = join(root, "manifests/examples");
/** One manifest per file in the examples folder (the count grows with each fault's example). */
const exampleCount = readdirSync(examples).filter((f) => /\.ya?ml$/.test(f)).length;

async function* noInput(): AsyncIterable<Uint8Array> {}

async function chaosctl(argv: string[], stdin: AsyncIterable<Uint8Array | string> = noInput()) {
  let stdout = "";
  let stderr = "";
  const io: CliIO = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stdin };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const good = (name: string) =>
  `apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata:\n  name: ${name}\nspec:\n  selector: {services: [web]}\n  fault: {kill: {}}\n`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaosctl-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chaosctl validate", () => {
  it("exits 0 and says ok for valid manifests", async () => {
    const r = await chaosctl(["validate", "-f", examples]);
    expect(r).toEqual({ code: 0, stdout: `ok: ${exampleCount} files, ${exampleCount} valid manifests\n`, stderr: "" });
  });

  it("passes on the project's own manifests/, noting the stack file it skips", async () => {
    const r = await chaosctl(["validate", "-f", join(root, "manifests")]);
    const stack = join(root, "manifests", "stack.yml");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${stack}:9: note: a Docker stack (compose) file, not a ChaosSchedule: skipped\n`);
    expect(r.stdout).toMatch(/^ok: \d+ files, \d+ valid manifests, 1 stack file skipped\n$/m);
    const json = await chaosctl(["validate", "-f", join(root, "manifests"), "-o", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, problems: [], skipped: [{ file: stack, line: 9 }] });
  });

  it("prints every problem as file:line:col: path: message [rule] with a summary, and exits 2", async () => {
    const f = join(dir, "bad.yaml");
    await writeFile(f, good("Bad_Name").replace("fault: {kill: {}}", "fault: {kill: {}, pause: {}}\n  duration: -1s"));
    const r = await chaosctl(["validate", "-f", f, "-f", join(examples, "pause.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      `${f}:4:9: metadata.name: "Bad_Name" is not a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit [dns1123Name]`,
      `${f}:7:21: spec.fault.pause: 2 faults (kill, pause) in one schedule: a ChaosSchedule injects exactly one fault; write one schedule per fault [exactlyOneFault]`,
      `${f}:8:13: spec.duration: must be positive, not "-1s" [durationsPositiveAndCapped]`,
      "3 problems in 1 file (2 files, 1 valid manifest)",
      "",
    ]);
  });

  it("-o json prints a stable object for CI tools", async () => {
    const f = join(dir, "json.yaml");
    await writeFile(f, good("one") + "---\n" + good("two") + "  surprise: true\n");
    const r = await chaosctl(["validate", "-o", "json", "-f", f]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      files: 1,
      manifests: [{ key: "default/one", file: f, line: 1 }],
      problems: [
        {
          file: f,
          line: 16,
          column: 3,
          path: "spec.surprise",
          message: `unknown field "surprise"; known fields: ${Object.keys(chaosScheduleSchema.properties.spec.properties).join(", ")}`,
          rule: "schema",
        },
      ],
    });
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(["valid", "files", "manifests", "problems"]);
    const ok = await chaosctl(["validate", "-o", "json", "-f", join(examples, "kill-random.yaml")]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, files: 1, problems: [] });
  });

  it("reads manifests from stdin with -f -", async () => {
    async function* input() {
      yield good("piped");
    }
    expect(await chaosctl(["validate", "-f", "-"], input())).toEqual({
      code: 0,
      stdout: "ok: 1 file, 1 valid manifest\n",
      stderr: "",
    });
    async function* bad() {
      yield "kind: [";
    }
    const r = await chaosctl(["validate", "-f", "-"], bad());
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^<stdin>:1:8: Flow sequence .* \[yamlSyntax\]\n/);
  });

  describe("every bad input class: a located error, exit 2, the other files unaffected", () => {
    let bad: string;
    beforeAll(async () => {
      bad = join(dir, "classes");
      await mkdir(bad);
      const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
      for (let i = 1; i < 9; i++)
        levels.push(
          `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(9)
            .fill("*" + "abcdefghij"[i - 1])
            .join(", ")}]`,
        );
      const files: Record<string, string | Buffer> = {
        "malformed.yaml": "apiVersion: chaosctl.io/v1alpha1\nkind: ChaosSchedule\nmetadata: {name: [\n",
        "wrong-types.yaml": good("wrong-types").replace("services: [web]", "services: web"),
        "unknown-field.yaml": good("unknown-field").replace("kill: {}", "kill: {sginal: SIGTERM}"),
        "two-faults.yaml": good("two-faults").replace("kill: {}", "kill: {}, stop: {}"),
        "negative-duration.yaml": good("negative-duration").replace("kill: {}", "pause: {}") + "  duration: -10s\n",
        "absurd-duration.yaml": good("absurd-duration").replace("kill: {}", "pause: {}") + "  duration: 9999h\n",
        "alias-bomb.yaml": levels.join("\n") + "\n",
        "big.yaml": Buffer.alloc(50 * 1024 * 1024, "# padding\n"),
        "deep.yaml": "spec: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n",
        "binary.yaml": Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]),
        "empty.yaml": "",
        "valid.yaml": good("still-fine"),
      };
      for (const [name, content] of Object.entries(files)) await writeFile(join(bad, name), content);
      await symlink(join(bad, "gone.yaml"), join(bad, "unreadable.yaml"));
    });

    const expected: Array<[string, RegExp]> = [
      [
        "malformed.yaml",
        /:4:1: Flow sequence in block collection must be sufficiently indented and end with a \] \[yamlSyntax\]$/,
      ],
      ["wrong-types.yaml", /:6:24: spec\.selector\.services: must be a list, not "web" \[schema\]$/],
      [
        "unknown-field.yaml",
        /:7:18: spec\.fault\.kill\.sginal: unknown field "sginal"; did you mean "signal"\? \[schema\]$/,
      ],
      ["two-faults.yaml", /:7:21: spec\.fault\.stop: 2 faults \(kill, stop\) .* \[exactlyOneFault\]$/],
      ["negative-duration.yaml", /:8:13: spec\.duration: must be positive, not "-10s" \[durationsPositiveAndCapped\]$/],
      [
        "absurd-duration.yaml",
        /:8:13: spec\.duration: "9999h" is longer than the limit of 24h \[durationsPositiveAndCapped\]$/,
      ],
      ["alias-bomb.yaml", /:2:8: aliases expand too much .* \[aliasLimit\]$/],
      ["big.yaml", /^[^:]+big\.yaml: too large: 50 MiB, the limit is 1 MiB; not read \[fileTooLarge\]$/],
      ["deep.yaml", /:1:\d+: nesting too deep to parse \(the limit is 64 levels\) \[depthLimit\]$/],
      ["binary.yaml", /:1:2: binary content: the file is not valid UTF-8; not a YAML manifest \[binary\]$/],
      ["empty.yaml", /^[^:]+empty\.yaml: no documents: the file is empty \(or only comments\) \[noDocuments\]$/],
      [
        "unreadable.yaml",
        /^[^:]+unreadable\.yaml: cannot read: no such file \(or a dangling symlink\) \[unreadable\]$/,
      ],
    ];

    it.for(expected)("%s, alone", async ([name, line]) => {
      const r = await chaosctl(["validate", "-f", join(bad, name)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("");
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toContain(join(bad, name));
      expect(lines[0]).toMatch(line);
      expect(lines.at(-1)).toMatch(/^\d+ problems? in 1 file \(1 file, 0 valid manifests\)$/);
    });

    it("all of them in one directory: each reported, the valid file still valid", async () => {
      const r = await chaosctl(["validate", "-o", "json", "-f", bad]);
      expect(r.code).toBe(2);
      const out = JSON.parse(r.stdout) as {
        files: number;
        manifests: Array<{ key: string }>;
        problems: Array<{ file: string }>;
      };
      expect(out.files).toBe(expected.length + 1);
      expect(out.manifests.map((m) => m.key)).toEqual(["default/still-fine"]);
      const filesWithProblems = new Set(out.problems.map((p) => p.file.slice(bad.length + 1)));
      expect([...filesWithProblems].sort()).toEqual(expected.map(([n]) => n).sort());
    });
  });

  it("usage errors exit 2 with a message, never a stack trace", async () => {
    for (const argv of [
      ["validate"],
      ["validate", "-o", "xml", "-f", examples],
      ["validate", "--bogus"],
      ["frobnicate"],
      [],
    ]) {
      const r = await chaosctl(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr.length, argv.join(" ")).toBeGreaterThan(0);
      expect(r.stderr, argv.join(" ")).not.toMatch(/\n\s+at /);
    }
    expect((await chaosctl(["validate"])).stderr).toBe(
      "chaosctl: validate needs at least one -f FILE|DIR|- (see chaosctl validate --help)\n",
    );
  });

  it("--help teaches with examples and exits 0; --version prints the package version", async () => {
    const help = await chaosctl(["validate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("chaosctl validate -f manifests/");
    expect(help.stdout).toContain("Exit codes: 0 all valid, 2 any problem");
    const top = await chaosctl(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/validate \[options\]/);
    const version = await chaosctl(["--version"]);
    expect(version).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
});

describe("chaosctl schema", () => {
  it("prints the draft-07 editor schema generated from the CRD", async () => {
    const r = await chaosctl(["schema"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema).toEqual(chaosScheduleSchema);
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.$id).toMatch(/^https:\/\//);
    const help = await chaosctl(["schema", "--help"]);
    expect(help.stdout).toContain("# yaml-language-server: $schema=./chaosschedule.schema.json");
  });
});

describe("the compiled bin", () => {
  const out = join(root, ".cache", "test-bin");
  const bin = join(out, "out", "src", "cli", "main.js");
  beforeAll(async () => {
    await rm(join(out, "out"), { recursive: true, force: true }); // never test a stale bin
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, "tsconfig.json"),
      JSON.stringify({
        extends: "../../tsconfig.json",
        compilerOptions: { outDir: "./out", rootDir: "../..", noEmit: false, sourceMap: false },
        files: ["../../src/cli/main.ts"],
        include: [],
      }),
    );
    // A failed compile fails here, loudly: a bin emitted despite errors is not the code under test.
    await exec(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(out, "tsconfig.json")]);
  }, 60_000);

  it("runs as `node main.js`: exit codes and no stack trace", async () => {
    expect(existsSync(bin)).toBe(true);
    const ok = await spawnCode(process.execPath, [bin, "validate", "-f", examples]);
    expect(ok).toEqual({ code: 0, stdout: `ok: ${exampleCount} files, ${exampleCount} valid manifests\n`, stderr: "" });
    const bad = join(dir, "bin-bad.yaml");
    await writeFile(bad, "\u0000\u0001binary");
    const failed = await spawnCode(process.execPath, [bin, "validate", "-f", bad, "-f", join(dir, "nope.yaml")]);
    expect(failed.code).toBe(2);
    expect(failed.stdout).toMatch(/bin-bad\.yaml:1:1: binary content/);
    expect(failed.stdout).toMatch(/nope\.yaml: cannot read/);
    expect(failed.stderr).toBe("");
    const usage = await spawnCode(process.execPath, [bin, "nope"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).not.toMatch(/\n\s+at /);
    expect(await spawnCode(process.execPath, [bin, "--version"])).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
});
