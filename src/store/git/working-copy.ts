// The working copy the controller owns: fetched from the remote and hard-reset to the fetched
// commit, so new commits always win and nothing local (status the controller wrote, a stray
// file) can ever block a sync or conflict with one. A force-push is just another commit to
// reset to. Nothing here ever pushes: status in the working copy stays local by design.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { git, GitError } from "./git.js";
import type { GitAuth } from "./credentials.js";

export interface WorkingCopyOptions {
  url: string;
  /** Branch to follow; default: the remote's HEAD (its default branch). */
  branch?: string;
  /** The working copy's folder (created). */
  dir: string;
  auth: GitAuth;
  timeoutMs?: number;
}

export interface SyncOutcome {
  /** The commit the working copy holds now. */
  commit: string;
  /** The commit it held before (undefined on the first sync). */
  previous?: string;
  /** Whether the files were replaced (a new commit, or a first checkout). */
  changed: boolean;
}

/** Where fetched commits are kept: a private ref, so nothing depends on branch names locally. */
const FETCHED = "refs/chaosctl/fetched";

export class WorkingCopy {
  constructor(private readonly opts: WorkingCopyOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  /** Fetch the branch; returns the fetched commit. Touches no file of the working tree. */
  async fetch(): Promise<string> {
    await this.init();
    const src = this.opts.branch ? `refs/heads/${this.opts.branch}` : "HEAD";
    // Shallow: only the newest commit is needed; "+" accepts rewritten history (force-push).
    await this.run([
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-recurse-submodules",
      "--depth=1",
      "origin",
      `+${src}:${FETCHED}`,
    ]);
    return (await this.run(["rev-parse", "--verify", `${FETCHED}^{commit}`])).trim();
  }

  /** Make the files exactly `commit`'s (tracked and untracked alike), unless they already are. */
  async checkout(commit: string): Promise<SyncOutcome> {
    const previous = await this.head();
    if (previous === commit && (await this.clean())) return { commit, previous, changed: false };
    await this.run(["reset", "--quiet", "--hard", commit]);
    // Untracked and ignored files go too: the folder holds exactly what the commit holds.
    // (the controller's own lease file, a dotfile kept next to the manifests, stays).
    await this.run(["clean", "--quiet", "-ffdx", "-e", ".chaosctl-lease-*"]);
    return { commit, ...(previous ? { previous } : {}), changed: true };
  }

  /** The checked-out commit, if any. */
  async head(): Promise<string | undefined> {
    try {
      return (await this.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).trim() || undefined;
    } catch (e) {
      if (e instanceof GitError) return undefined;
      throw e;
    }
  }

  private async init(): Promise<void> {
    if (
      await stat(join(this.opts.dir, ".git")).then(
        () => true,
        () => false,
      )
    ) {
      // The URL may have changed between runs (a new --git): follow the one given now.
      await this.run(["remote", "set-url", "origin", this.opts.url]);
      return;
    }
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await this.run(["init", "--quiet"]);
    await this.run(["remote", "add", "origin", this.opts.url]);
    // No background maintenance in a folder the controller owns; shallow fetches stay small.
    await this.run(["config", "gc.autoDetach", "false"]);
  }

  /**
   * Whether the tracked files are as committed, ignoring what the controller writes itself
   * (status in manifests): only files that are missing or added by someone else count, since
   * a status-only difference is ours and is put back after every reset anyway.
   */
  private async clean(): Promise<boolean> {
    const out = await this.run(["status", "--porcelain=v1", "--untracked-files=all", "--ignored=no"]);
    return !out.split("\n").some((l) => l.length > 3 && !l.startsWith(" M ") && !isOwnTemp(l.slice(3)));
  }

  private run(args: string[]): Promise<string> {
    return git(args, {
      cwd: this.opts.dir,
      env: this.opts.auth.env,
      secrets: this.opts.auth.secrets,
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
    });
  }
}

/** The directory store's temp files during a status write. */
function isOwnTemp(path: string): boolean {
  return /(^|\/)\.chaosctl-\d+-[0-9a-f]+\.tmp$/.test(path);
}
