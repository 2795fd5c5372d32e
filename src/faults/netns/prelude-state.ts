// Whether this guard process applied its network fault in its prelude (prelude.ts), before the
// rest of chaosctl loaded: the guard's effect then only adds what is missing instead of rewriting.
let applied = false;

export function markPreludeApplied(): void {
  applied = true;
}

export function preludeApplied(): boolean {
  return applied;
}
