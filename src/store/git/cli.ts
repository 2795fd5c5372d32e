// The controller's git flags (chaosctl controller --git URL ...) and the store they build.
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseDuration } from "../../api/duration.js";
import { DockerEngine } from "../../engine/docker.js";
import { UsageError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { checkRepoUrl, gitAuth } from "./credentials.js";
import { SwarmRecords } from "./records.js";
import { GitStore, normalizePath } from "./store.js";

export interface GitFlags {
  git?: string;
  branch?: string;
  path?: string;
  interval?: string;
  workdir?: string;
  gitTokenFile?: string;
  gitUsername?: string;
  gitSshKeyFile?: string;
  gitKnownHostsFile?: string;
}

export function addGitOptions(cmd: Command): Command {
  return cmd
    .option(
      "--git <url>",
      "git store: sync manifests from this repository (any URL git understands; credentials from files only)",
    )
    .option("--branch <branch>", "with --git: the branch to follow (default: the remote's default branch)")
    .option("--path <path>", "with --git: the manifests' folder inside the repository", ".")
    .option("--interval <duration>", "with --git: how often to fetch (also on SIGHUP)", "30s")
    .option(
      "--workdir <dir>",
      "with --git: the controller's own folder for the working copy (default: a folder under the temp dir)",
    )
    .option("--git-token-file <path>", "with --git: file holding an HTTPS token (e.g. a Docker secret); never logged")
    .option("--git-username <name>", "with --git-token-file: the username sent with it", "x-access-token")
    .option("--git-ssh-key-file <path>", "with --git: file holding an SSH private key (e.g. a Docker secret)")
    .option(
      "--git-known-hosts-file <path>",
      "with --git-ssh-key-file: known_hosts to check the server against (default: trust on first use)",
    )
    .addHelpText("after", GIT_EXAMPLES);
}

const GIT_EXAMPLES = `
Git store (docs/gitops.md): the controller fetches the repository itself, resets its own working
copy to each new commit and writes status there (never pushed).
  chaosctl controller --git https://git.example.com/team/chaos.git --path chaos/ \\
      --git-token-file /run/secrets/git-token --instance prod
  kill -HUP <pid>                                    # fetch now (e.g. from CI after a push)`;

/**
 * The default working folder sits in a shared temp dir under a predictable name: created here
 * with mode 0700, or taken as it is only when it is a real folder (no symlink) of this user with
 * mode 0700. Anything else may be someone else's trap (a folder they can write, or a link into
 * theirs): refused, never repaired.
 */
export async function privateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700); // mkdir's mode passes through the umask
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = await lstat(dir);
  const uid = process.getuid?.();
  const why = st.isSymbolicLink()
    ? "is a symlink"
    : !st.isDirectory()
      ? "is not a folder"
      : uid !== undefined && st.uid !== uid
        ? `belongs to uid ${st.uid}, not to this user (uid ${uid})`
        : (st.mode & 0o777) !== 0o700
          ? `has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}, not 0700`
          : undefined;
  if (why)
    throw new UsageError(
      `the git working folder ${dir} already exists and ${why}: remove it, or give --workdir a folder of your own`,
    );
}

export interface OpenedGitStore {
  store: GitStore;
  /** The manifests' folder inside the working copy. */
  dir: string;
}

/** The git store for these flags; nothing is fetched yet (the first list() syncs). */
export async function openGitStore(flags: GitFlags & { instance: string }, logger: Logger): Promise<OpenedGitStore> {
  const url = checkRepoUrl(flags.git ?? "");
  let path: string;
  try {
    path = normalizePath(flags.path ?? ".");
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  let intervalMs: number;
  try {
    intervalMs = parseDuration(flags.interval ?? "30s");
  } catch (e) {
    throw new UsageError(`--interval: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (intervalMs < 1000) throw new UsageError("--interval must be at least 1s");
  const id = createHash("sha256")
    .update(`${flags.instance}\n${url}\n${flags.branch ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  const workdir = resolve(flags.workdir ?? join(tmpdir(), `chaosctl-git-${id}`));
  if (flags.workdir) await mkdir(workdir, { recursive: true, mode: 0o700 });
  else await privateDir(workdir);
  const auth = await gitAuth(
    {
      url,
      ...(flags.gitTokenFile ? { tokenFile: flags.gitTokenFile } : {}),
      ...(flags.gitUsername ? { username: flags.gitUsername } : {}),
      ...(flags.gitSshKeyFile ? { sshKeyFile: flags.gitSshKeyFile } : {}),
      ...(flags.gitKnownHostsFile ? { knownHostsFile: flags.gitKnownHostsFile } : {}),
    },
    workdir,
  );
  const store = new GitStore({
    url,
    ...(flags.branch ? { branch: flags.branch } : {}),
    path,
    checkoutDir: join(workdir, "repo"),
    auth,
    records: new SwarmRecords(new DockerEngine(), flags.instance),
    logger,
    intervalMs,
  });
  logger.info(
    {
      event: "git",
      url,
      branch: flags.branch ?? "(remote default)",
      path,
      workdir,
      intervalMs,
      credentials: flags.gitTokenFile ? "token file" : flags.gitSshKeyFile ? "ssh key file" : "none",
    },
    "git store",
  );
  return { store, dir: store.dir };
}
