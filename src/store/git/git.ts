// The one place git runs: the `git` CLI through child_process with argv arrays (never a shell
// string), a bounded time, no prompts, and every text it returns scrubbed of known secrets
// before anyone can log it.
import { execFile } from "node:child_process";

export interface GitRunOptions {
  cwd?: string;
  /** Extra environment for this call (credentials come in here, never in argv). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Strings that must never leave this module (a token's value); replaced by "***". */
  secrets?: readonly string[];
}

export class GitError extends Error {
  readonly code = "GitError";
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

/** Environment that keeps git non-interactive and independent of the machine's user config. */
const BASE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_ASKPASS: "",
  SSH_ASKPASS: "",
  GCM_INTERACTIVE: "never",
  // The user's ~/.gitconfig and /etc/gitconfig could add helpers, hooks paths or rewrites.
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  LC_ALL: "C",
};

export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  // Userinfo in URLs (https://user:secret@host) is refused up front; scrub it anyway.
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+:[^/@\s]+@/gi, "$1***@");
}

/** Runs `git ...args`; resolves to stdout, rejects with a GitError carrying scrubbed stderr. */
export function git(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
  const secrets = opts.secrets ?? [];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, ...BASE_ENV, ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        killSignal: "SIGKILL",
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = typeof err.code === "number" ? err.code : undefined;
        const why = err.killed
          ? `timed out after ${opts.timeoutMs ?? 120_000} ms`
          : code !== undefined
            ? `exit ${code}`
            : err.message;
        const detail = scrub(String(stderr).trim().split("\n").slice(-5).join(" | "), secrets);
        reject(new GitError(`git ${args[0] ?? ""} failed (${why})${detail ? `: ${detail}` : ""}`, args, code, detail));
      },
    );
  });
}
