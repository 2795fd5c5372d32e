// The docker CLI as separate processes (argv, never a shell string): the bench's own set-up and
// clean-up, and the practice's shell pipeline it is compared with.
import { execFile } from "node:child_process";

export function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`docker ${args.slice(0, 3).join(" ")}: ${(stderr || err.message).trim()}`))
        : resolve(stdout.trim()),
    ),
  );
}

/**
 * What a user runs by hand to change a container's network namespace: a throw-away helper that
 * shares it (`docker run --rm --network container:TARGET --cap-add NET_ADMIN`), `argv[0]` its
 * entry point, from `image`.
 */
export function helperInNetns(target: string, image: string, argv: readonly string[]): Promise<string> {
  return docker([
    "run",
    "--rm",
    "--network",
    `container:${target}`,
    "--cap-add",
    "NET_ADMIN",
    "--entrypoint",
    argv[0] ?? "",
    image,
    ...argv.slice(1),
  ]);
}

export const lines = (s: string): string[] =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` returns a value (not undefined/false), or throws after timeoutMs. */
export async function waitUntil<T>(
  cond: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
