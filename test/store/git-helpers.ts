// A local bare repository serving as the remote for the git store tests, and a scratch clone
// that plays the user committing to it. Every helper runs git with argv arrays.
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test User",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test User",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

export function gitSync(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, env: ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export interface TestRemote {
  root: string;
  /** file:// URL of the bare repository. */
  url: string;
  /** The user's clone, on branch main. */
  clone: string;
  /** Write (or with null: delete) files, commit them, push; returns the new commit. */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
  /** Replace the last commit with this content and force-push it; returns the new commit. */
  amend(files: Record<string, string | null>): Promise<string>;
  cleanup(): Promise<void>;
}

export async function testRemote(): Promise<TestRemote> {
  const root = await mkdtemp(join(tmpdir(), "chaosctl-git-"));
  const bare = join(root, "remote.git");
  const clone = join(root, "user");
  gitSync(root, ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  gitSync(root, ["init", "--quiet", "--initial-branch=main", clone]);
  gitSync(clone, ["remote", "add", "origin", bare]);
  const write = async (files: Record<string, string | null>): Promise<void> => {
    for (const [name, text] of Object.entries(files)) {
      const p = join(clone, name);
      if (text === null) await unlink(p);
      else {
        await mkdir(dirname(p), { recursive: true });
        await writeFile(p, text);
      }
    }
    gitSync(clone, ["add", "--all", "."]);
  };
  return {
    root,
    url: `file://${bare}`,
    clone,
    async commit(files, message = "change") {
      await write(files);
      gitSync(clone, ["commit", "--quiet", "--allow-empty", "-m", message]);
      gitSync(clone, ["push", "--quiet", "origin", "main"]);
      return gitSync(clone, ["rev-parse", "HEAD"]).trim();
    },
    async amend(files) {
      await write(files);
      gitSync(clone, ["commit", "--quiet", "--amend", "--allow-empty", "-m", "rewritten"]);
      gitSync(clone, ["push", "--quiet", "--force", "origin", "main"]);
      return gitSync(clone, ["rev-parse", "HEAD"]).trim();
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export function schedule(name: string, spec: { duration?: string; services?: string; fault?: string } = {}): string {
  return [
    "# committed by the team",
    "apiVersion: chaosctl.io/v1alpha1",
    "kind: ChaosSchedule",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    ...(spec.duration ? [`  duration: ${spec.duration}`] : []),
    "  selector:",
    `    services: [${spec.services ?? "web"}]`,
    "  fault:",
    `    ${spec.fault ?? (spec.duration ? "pause: {}" : "kill: {}")}`,
    "",
  ].join("\n");
}
