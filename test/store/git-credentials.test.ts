// Credentials come from files and never show: not in argv, not in logs, not in status. The
// token reaches git only through its credential helper (proven with `git credential fill`,
// which asks the helper exactly as a fetch over HTTPS would after a 401).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { checkRepoUrl, gitAuth } from "../../src/store/git/credentials.js";
import { git, scrub } from "../../src/store/git/git.js";
import { GitStore } from "../../src/store/git/store.js";
import { MemoryRecords } from "../../src/store/git/records.js";
import { schedule, testRemote, type TestRemote } from "./git-helpers.js";

const TOKEN = "ghp_FAKEtoken0123456789abcdefSECRET";
let remote: TestRemote;
let secrets: string;

beforeEach(async () => {
  remote = await testRemote();
  secrets = await mkdtemp(join(tmpdir(), "chaosctl-secret-"));
});
afterEach(async () => {
  await remote.cleanup();
  await rm(secrets, { recursive: true, force: true });
});

const URL_ = "https://git.example.invalid/team/chaos.git";

function credentialFill(
  env: Record<string, string>,
  ask = "protocol=https\nhost=git.example.invalid\npath=team/chaos.git\n\n",
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      ["credential", "fill"],
      {
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_TERMINAL_PROMPT: "0",
          ...env,
        },
      },
      (err, stdout) => (err ? reject(new Error(err.message, { cause: err })) : resolve(stdout)),
    );
    child.stdin?.end(ask);
  });
}

describe("git credentials", () => {
  it("a token file feeds git's credential helper; the token is in no environment value or argv", async () => {
    const file = join(secrets, "token");
    await writeFile(file, TOKEN + "\n", { mode: 0o444 });
    const auth = await gitAuth({ url: URL_, tokenFile: file }, secrets);
    expect(Object.values(auth.env).join("\n")).not.toContain(TOKEN);
    expect(auth.secrets).toEqual([TOKEN]);
    const filled = await credentialFill(auth.env);
    expect(filled).toContain(`password=${TOKEN}\n`);
    expect(filled).toContain("username=x-access-token\n");
  });

  it("the helper answers only for the repository's host over https: not after a redirect elsewhere, not over http", async () => {
    const file = join(secrets, "token");
    await writeFile(file, TOKEN);
    const auth = await gitAuth({ url: URL_, tokenFile: file }, secrets);
    // Host names compare without case, as DNS does.
    expect(await credentialFill(auth.env, "protocol=https\nhost=GIT.Example.invalid\n\n")).toContain(TOKEN);
    for (const ask of [
      "protocol=https\nhost=evil.example.invalid\npath=team/chaos.git\n\n",
      "protocol=http\nhost=git.example.invalid\npath=team/chaos.git\n\n",
      "protocol=https\nhost=git.example.invalid:8443\n\n",
      "protocol=https\nhost=git.example.invalid.evil.example\n\n",
    ]) {
      // With no answer from the helper and no terminal, git gives up: the token never shows.
      const out = await credentialFill(auth.env, ask).catch((e: Error & { stdout?: string }) => e.stdout ?? "");
      expect(out).not.toContain(TOKEN);
    }
    // An http:// URL is refused outright; a URL that is not https (file://, ssh) offers the token to nobody.
    await expect(
      gitAuth({ url: "http://git.example.invalid/team/chaos.git", tokenFile: file }, secrets),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("https only"),
    });
    for (const url of [remote.url, "git@git.example.invalid:team/chaos.git"]) {
      const other = await gitAuth({ url, tokenFile: file }, secrets);
      expect(other.secrets).toEqual([TOKEN]);
      const out = await credentialFill(other.env).catch((e: Error & { stdout?: string }) => e.stdout ?? "");
      expect(out).not.toContain(TOKEN);
    }
  });

  it("a sync with a token never logs it, never puts it in status, never passes it as an argument", async () => {
    const file = join(secrets, "token");
    await writeFile(file, TOKEN);
    // The remote here is a file:// path; the token is configured for an https host as in use.
    const auth = await gitAuth({ url: URL_, tokenFile: file }, secrets);
    await remote.commit({ "web.yaml": schedule("web", { duration: "30s" }) });
    const lines: string[] = [];
    const logger = pino({ level: "trace" }, { write: (s: string) => void lines.push(s) });
    const records = new MemoryRecords();
    // Every git invocation's argv, through a wrapper first on PATH.
    const bin = join(secrets, "bin");
    const argvLog = join(secrets, "argv.log");
    await mkdir(bin);
    await writeFile(
      join(bin, "git"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> ${JSON.stringify(argvLog)}\nexec /usr/bin/git "$@"\n`,
      { mode: 0o755 },
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ""}`;
    const store = new GitStore({ url: remote.url, checkoutDir: join(remote.root, "work"), auth, records, logger });
    try {
      const snap = await store.list();
      expect(await store.writeStatus("default/web", 1, { phase: "Idle", history: [] })).toBe("written");
      // A failing fetch logs git's error text: still no token.
      await rm(join(remote.root, "remote.git"), { recursive: true });
      await expect(store.sync()).rejects.toThrow();
      const everything = [
        lines.join(""),
        JSON.stringify(snap),
        JSON.stringify([...records.records]),
        await readFile(join(store.dir, "web.yaml"), "utf8"),
      ].join("\n");
      expect(lines.length).toBeGreaterThan(1);
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(TOKEN.slice(4, 20));
      const argv = await readFile(argvLog, "utf8");
      expect(argv).toContain("fetch --quiet");
      expect(argv).not.toContain(TOKEN);
    } finally {
      process.env.PATH = path;
      await store.close();
    }
    // The git config of the working copy holds no credential either.
    expect(await readFile(join(remote.root, "work", ".git", "config"), "utf8")).not.toContain(TOKEN);
  });

  it("an SSH key file is used through a private 0600 copy named in GIT_SSH_COMMAND (path only)", async () => {
    const key = join(secrets, "id_ed25519");
    const body =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQy\n-----END OPENSSH PRIVATE KEY-----\n";
    await writeFile(key, body, { mode: 0o444 });
    const auth = await gitAuth({ sshKeyFile: key }, secrets);
    const copy = auth.env.CHAOSCTL_GIT_SSH_KEY ?? "";
    expect((await stat(copy)).mode & 0o777).toBe(0o600);
    expect(await readFile(copy, "utf8")).toBe(body);
    expect(auth.env.GIT_SSH_COMMAND).toContain('-i "$CHAOSCTL_GIT_SSH_KEY"');
    expect(auth.env.GIT_SSH_COMMAND).toContain("BatchMode=yes");
    expect(Object.values(auth.env).join("\n")).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ");
  });

  it("URLs carrying a password are refused; git's errors are scrubbed of secrets", async () => {
    expect(() => checkRepoUrl(`https://bot:${TOKEN}@git.example.invalid/x.git`)).toThrow(/--git-token-file/);
    expect(checkRepoUrl("ssh://git@git.example.invalid:22/x.git")).toBe("ssh://git@git.example.invalid:22/x.git");
    expect(checkRepoUrl("git@github.com:team/chaos.git")).toBe("git@github.com:team/chaos.git");
    expect(scrub(`fatal: could not read from https://bot:${TOKEN}@h/x (${TOKEN})`, [TOKEN])).toBe(
      "fatal: could not read from https://***@h/x (***)",
    );
    await expect(git(["ls-remote", join(secrets, "nope")], { secrets: [TOKEN] })).rejects.toThrow(
      /git ls-remote failed/,
    );
    await expect(gitAuth({ url: URL_, tokenFile: join(secrets, "missing") }, secrets)).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});
