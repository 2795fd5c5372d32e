// No secret is ever logged: the real pino logger, writing to a buffer.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/util/log.js";
import { isSecretKey, redact } from "../../src/util/redact.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger("debug", stream) };
}

describe("log redaction", () => {
  it("masks secret-named fields at any depth, child bindings, URL credentials in fields and messages", async () => {
    const { lines, logger } = capture();
    const secrets = [
      "s3cr3t-token",
      "hunter2",
      "Bearer abc.def",
      "k-123",
      "pw-in-url",
      "child-token",
      "cookie-v",
      "sekret",
    ];
    logger.info(
      {
        token: secrets[0],
        nested: { deeper: { password: secrets[1] } },
        headers: { Authorization: secrets[2] },
        items: [{ apiKey: secrets[3] }],
        host: `tcp://admin:${secrets[4]}@10.0.0.1:2376`,
        schedule: "web-kill",
      },
      `connecting to https://u:${secrets[4]}@example.test/x`,
    );
    logger
      .child({ agentToken: secrets[5] })
      .warn({ Cookie: secrets[6], err: new Error(`failed for tcp://u:${secrets[7]}@h`) }, "child line");
    logger.debug({ JOIN_TOKEN: "SWMTKN-1-xyz" }, "join");
    await new Promise((r) => setImmediate(r));
    const all = lines.join("\n");
    expect(lines).toHaveLength(3);
    for (const s of [...secrets, "SWMTKN-1-xyz"]) expect(all).not.toContain(s);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    // What is not a secret stays readable.
    expect(first).toMatchObject({
      schedule: "web-kill",
      token: "[REDACTED]",
      nested: { deeper: { password: "[REDACTED]" } },
      host: "tcp://[REDACTED]@10.0.0.1:2376",
    });
    expect(first.msg).toBe("connecting to https://[REDACTED]@example.test/x");
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      agentToken: "[REDACTED]",
      msg: "child line",
      err: { type: "Error", message: "failed for tcp://[REDACTED]@h" },
    });
  });

  it("classifies key names", () => {
    for (const k of [
      "token",
      "joinToken",
      "password",
      "passwd",
      "Authorization",
      "client_secret",
      "api-key",
      "privateKey",
    ])
      expect(isSecretKey(k)).toBe(true);
    for (const k of ["schedule", "service", "node", "run", "tokenFile", "passwordPath"])
      expect(isSecretKey(k)).toBe(false);
    expect(redact({ a: [1, "x"], b: null })).toEqual({ a: [1, "x"], b: null });
  });
});
