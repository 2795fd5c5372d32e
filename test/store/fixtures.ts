// Manifest texts for the directory store tests.

export function manifest(name: string, opts: { services?: string; namespace?: string } = {}): string {
  return [
    "apiVersion: chaosctl.io/v1alpha1",
    "kind: ChaosSchedule",
    "metadata:",
    `  name: ${name}`,
    ...(opts.namespace ? [`  namespace: ${opts.namespace}`] : []),
    "spec:",
    "  selector:",
    `    services: [${opts.services ?? "web"}]`,
    "  fault:",
    "    kill: {}",
    "",
  ].join("\n");
}

/** Comments, quoting styles, a flow map, blank lines, key order that is not alphabetical. */
export const FANCY = `# Kill one web task now and then.
apiVersion: chaosctl.io/v1alpha1   # the group
kind: "ChaosSchedule"
metadata:
  name: 'fancy'
  labels: {team: web, "tier": 'front'}   # flow map

  # a comment between metadata and spec
spec:
  schedule: "@every 10m"     # quoted on purpose
  selector:
    services:
      - web
    mode: one

  fault:
    kill:
      signal: SIGKILL        # the default
# trailing comment of the document
`;
