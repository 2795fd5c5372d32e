// Ownership labels carried by everything chaosctl injects (docs/controller.md, "Ownership").
export const LABEL_PREFIX = "chaosctl.io/";
export const L_SCHEDULE = "chaosctl.io/schedule"; // "<namespace>/<name>"
/** The controller instance that owns an injection (default "default"); others leave it alone. */
export const L_INSTANCE = "chaosctl.io/instance";
export const L_GENERATION = "chaosctl.io/generation";
export const L_RUN = "chaosctl.io/run";
export const L_EXPIRES = "chaosctl.io/expires"; // RFC 3339
export const L_FAULT = "chaosctl.io/fault"; // fault kind
export const L_TARGET = "chaosctl.io/target"; // target container id
export const L_SERVICE = "chaosctl.io/service"; // target service name
export const L_ROLE = "chaosctl.io/role"; // guard | helper | controller | agent
export const L_PROTECTED = "chaosctl.io/protected";
export const L_ENABLED = "chaosctl.io/enabled";
/** On nodes: the availability before a node fault, restored at revert. */
export const L_NODE_ORIGINAL_AVAILABILITY = "chaosctl.io/original-availability";
/** On nodes: the availability a node fault set (drain | pause), so a revert knows it is still ours. */
export const L_NODE_ACTION = "chaosctl.io/node-action";
// Guard containers also record enough of their target to rebuild it (faults/guard/observe.ts).
export const L_NODE = "chaosctl.io/node"; // target node id
/** Node whose engine runs a guard, when not the target's (node drain/pause guards run on a manager). */
export const L_GUARD_NODE = "chaosctl.io/guard-node";
export const L_TASK = "chaosctl.io/task"; // target task id
export const L_SERVICE_ID = "chaosctl.io/service-id"; // target service id
export const L_SPEC = "chaosctl.io/spec"; // fault spec as JSON, so a revert can be re-run from labels alone
// Provenance (git store): the commit and repository path of the manifest that caused the injection.
export const L_COMMIT = "chaosctl.io/commit";
export const L_SOURCE_PATH = "chaosctl.io/source-path";
