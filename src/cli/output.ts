// What a CLI verb needs from the outside world, injected so `run(argv, io)` is testable
// without spawning a process.

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Where "-f -" reads from. */
  stdin: AsyncIterable<Uint8Array | string>;
  /** Ends long-running verbs (get -w); processIO aborts it on SIGINT / SIGTERM. */
  signal?: AbortSignal;
}

/** Handed to every verb's register(). An action sets exitCode (0 ok, 1 failure, 2 invalid input). */
export interface CliContext {
  io: CliIO;
  exitCode: number;
}

export function processIO(): CliIO {
  const stop = new AbortController();
  // Listeners are added only when a verb asks for the signal (see untilAborted), so a short
  // verb never keeps signal handlers it does not need.
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    get signal() {
      if (!stop.signal.aborted && process.listenerCount("SIGINT") === 0) {
        process.once("SIGINT", () => stop.abort());
        process.once("SIGTERM", () => stop.abort());
      }
      return stop.signal;
    },
  };
}

/** Stable, pretty JSON with a trailing newline (for `-o json`). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** "1 file", "2 files". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
