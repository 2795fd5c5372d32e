// What a guard's prelude (prelude.ts) hands over to the guard verb in the same process: whether it
// applied the fault (the verb's effect then only adds what is missing instead of rewriting), and
// the SIGTERM/SIGINT handling, which is the prelude's until the verb installs its own.
let applied: Date | undefined;
let handOff: (() => Promise<void> | undefined) | undefined;

/** The prelude applied the fault at `at` (ms since the epoch; the shell prelude's own clock reading). */
export function markPreludeApplied(at: number): void {
  applied = new Date(at);
}

export function preludeApplied(): boolean {
  return applied !== undefined;
}

/** When the prelude applied the fault; undefined when it did not. */
export function preludeAppliedAt(): Date | undefined {
  return applied;
}

/** The prelude's: how to give up its signal handling; returns its revert if a signal already started one. */
export function setPreludeHandOff(f: () => Promise<void> | undefined): void {
  handOff = f;
}

/**
 * The guard verb takes over signals (call it right after installing its own handlers). Returns the
 * prelude's revert in flight, if a stop came before: the verb must then leave it to finish (it
 * ends the process) instead of applying again.
 */
export function takeOverFromPrelude(): Promise<void> | undefined {
  const f = handOff;
  handOff = undefined;
  return f?.();
}
