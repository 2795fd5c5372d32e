// The entry point of a network guard container (netem, network; faults/netns/guard-spec.ts): the
// prelude applies the fault before chaosctl's module graph loads, then the guard verb runs as in
// any guard and adopts it.
import { prelude } from "../faults/netns/prelude.js";

const argv = process.argv.slice(2);
await prelude(argv);
const { run } = await import("./main.js");
process.exitCode = await run(argv);
