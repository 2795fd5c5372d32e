// Credentials for git, from files only (e.g. Docker secrets under /run/secrets): what git
// needs is passed in the environment of each short-lived git process and refers to the files
// by path, so no secret is ever in an argv (visible in `ps`), a log line or status.
//  - token: a credential helper (configured through GIT_CONFIG_* variables) that prints the
//    file's content as the password when git asks (HTTP 401), and only then, and only for the
//    repository's own host over https (never after a redirect elsewhere, never over http://);
//  - SSH key: GIT_SSH_COMMAND names a private copy of the key (mode 0600: ssh refuses a key
//    others can read, and Docker secrets are 0444 by default), with batch mode and a
//    known_hosts file.
import { chmod, copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../../util/errors.js";

export interface GitCredentialOptions {
  /** The repository URL: the token is given to its host, over https, and nowhere else. */
  url?: string;
  /** A file holding an HTTPS token (password); read by git's credential helper at auth time. */
  tokenFile?: string;
  /** Username sent with the token. Default "x-access-token" (GitHub; GitLab takes any name). */
  username?: string;
  /** A file holding an SSH private key. */
  sshKeyFile?: string;
  /** known_hosts for SSH. Default: one in the working folder, trusting a host's key on first use. */
  knownHostsFile?: string;
}

export interface GitAuth {
  env: Record<string, string>;
  /** Secret values to scrub from anything git prints (defence in depth). */
  secrets: string[];
}

// git asks with protocol=, host= (and path=) lines on stdin. The helper answers only when both
// are the configured repository's: a redirect to another host, or an http:// URL, gets nothing.
const HELPER =
  '!f() { test "$1" = get || exit 0; p=; h=; ' +
  'while IFS= read -r l; do case "$l" in protocol=*) p="${l#protocol=}";; host=*) h="${l#host=}";; esac; done; ' +
  'h="$(printf %s "$h" | tr A-Z a-z)"; ' +
  'test "$p" = "$CHAOSCTL_GIT_PROTOCOL" && test "$h" = "$CHAOSCTL_GIT_HOST" || exit 0; ' +
  'echo "username=$CHAOSCTL_GIT_USERNAME"; ' +
  'printf "password=%s\\n" "$(tr -d "\\r\\n" < "$CHAOSCTL_GIT_TOKEN_FILE")"; }; f';

/** Builds the environment for git from the credential files; `stateDir` is the controller's own (mode 0700). */
export async function gitAuth(opts: GitCredentialOptions, stateDir: string): Promise<GitAuth> {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  const config: Array<[string, string]> = [];
  if (opts.tokenFile) {
    const token = (await readSecret(opts.tokenFile, "--git-token-file")).trim();
    if (!token) throw new UsageError(`--git-token-file ${opts.tokenFile} is empty`);
    const host = tokenHost(opts.url ?? "");
    secrets.push(token);
    // The empty value first resets any helper list; ours is then the only one (or none at all
    // when the URL is not https: nothing may be given the token then).
    config.push(["credential.helper", ""]);
    if (host !== undefined) {
      env.CHAOSCTL_GIT_PROTOCOL = "https";
      env.CHAOSCTL_GIT_HOST = host;
      env.CHAOSCTL_GIT_TOKEN_FILE = opts.tokenFile;
      env.CHAOSCTL_GIT_USERNAME = opts.username ?? "x-access-token";
      config.push(["credential.helper", HELPER]);
    }
  }
  if (opts.sshKeyFile) {
    const key = await readSecret(opts.sshKeyFile, "--git-ssh-key-file");
    secrets.push(...key.split(/\r?\n/).filter((l) => l.length >= 16 && !l.startsWith("-----")));
    const sshDir = join(stateDir, "ssh");
    await mkdir(sshDir, { recursive: true, mode: 0o700 });
    const copy = join(sshDir, "id");
    await copyFile(opts.sshKeyFile, copy);
    await chmod(copy, 0o600);
    env.CHAOSCTL_GIT_SSH_KEY = copy;
    env.CHAOSCTL_GIT_KNOWN_HOSTS = opts.knownHostsFile ?? join(sshDir, "known_hosts");
    const strict = opts.knownHostsFile ? "yes" : "accept-new";
    env.GIT_SSH_COMMAND =
      'ssh -i "$CHAOSCTL_GIT_SSH_KEY" -o IdentitiesOnly=yes -o BatchMode=yes ' +
      `-o StrictHostKeyChecking=${strict} -o UserKnownHostsFile="$CHAOSCTL_GIT_KNOWN_HOSTS"`;
  }
  if (config.length) {
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
  }
  return { env, secrets };
}

/**
 * The host a token may be sent to: the repository URL's, over https only. An http:// URL is
 * refused (the token would cross the network in clear); other URLs (file://, ssh) never ask for
 * a token over https, so none is offered: undefined.
 */
export function tokenHost(url: string): string | undefined {
  if (/^http:\/\//i.test(url))
    throw new UsageError(
      "--git-token-file is sent over https only, and the repository URL is http:// (use https://, or --git-ssh-key-file)",
    );
  if (!/^https:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    throw new UsageError(`--git: not a valid https URL: ${JSON.stringify(url)}`);
  }
}

async function readSecret(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * A repository URL as given, or a UsageError when it carries a password or token
 * (https://user:token@host): credentials come from files, never from arguments.
 */
export function checkRepoUrl(url: string): string {
  if (!url.trim()) throw new UsageError("--git needs a repository URL");
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url)) {
    throw new UsageError(
      "--git: the URL carries a password or token; use --git-token-file (or --git-ssh-key-file) instead",
    );
  }
  return url;
}
