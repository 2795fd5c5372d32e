// What both network guard preludes read from a guard verb's argv: the Node.js prelude (prelude.ts)
// and the shell prelude's plan (shell-prelude.ts) must build the very same plan from the very same
// argv, so they share the injection builder of each kind and the option reader.
import type { BuildInjection } from "./effect.js";
import type { NetFaultKind } from "./ids.js";
import { networkInjection } from "../network/injection.js";
import { netemInjection } from "../netem/injection.js";

/** The injection builder of each network guard kind. */
export const injectionBuilders: Record<NetFaultKind, BuildInjection<never>> = {
  network: networkInjection,
  netem: netemInjection,
};

/** The value after `--<name>` in a guard verb's argv; undefined when the option is absent. */
export function guardOption(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
