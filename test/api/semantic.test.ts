// Every semantic rule, valid and invalid, through the real loader: an invalid case must be
// reported by exactly the rule named (no noise from other rules or the schema).
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { loadText } from "../../src/api/load.js";
import { SEMANTIC_RULES } from "../../src/api/semantic.js";

type Doc = Record<string, any>;

function base(): Doc {
  return {
    apiVersion: "chaosctl.io/v1alpha1",
    kind: "ChaosSchedule",
    metadata: { name: "t" },
    spec: { selector: { services: ["web"] }, fault: { kill: {} } },
  };
}

/** base() with spec fields merged in (a `fault` replaces the kill). */
function withSpec(spec: Doc, metadata: Doc = {}): Doc {
  const d = base();
  Object.assign(d.spec, spec);
  Object.assign(d.metadata, metadata);
  return d;
}

function problemsOf(d: Doc) {
  const r = loadText(stringify(d), "t.yaml");
  expect(r.problems).toEqual([]);
  expect(r.documents).toHaveLength(1);
  return r.documents[0]!.problems;
}

const pause = { fault: { pause: {} }, duration: "30s" };
const web = (mode: string) => ({ name: "web", mode, http: { url: "http://web:8080/" } });
const node = (action: string, extra: Doc = {}) => ({
  fault: { node: { action, ...extra } },
  selector: { nodes: ["node-2"] },
});

const invalid: Array<[string, Doc, string, RegExp]> = [
  // exactlyOneFault
  ["two faults", withSpec({ fault: { kill: {}, pause: {} } }), "exactlyOneFault", /2 faults \(kill, pause\)/],
  ["no fault", withSpec({ fault: {} }), "exactlyOneFault", /no fault given/],
  [
    "netem with no impairment",
    withSpec({ fault: { netem: { interface: "eth0" } }, duration: "1m" }),
    "exactlyOneFault",
    /netem does nothing/,
  ],
  [
    "netem reorder without delay",
    withSpec({ fault: { netem: { reorder: { percent: 25 } } }, duration: "1m" }),
    "exactlyOneFault",
    /reorder needs a delay/,
  ],
  [
    "network with nothing",
    withSpec({ fault: { network: {} }, duration: "1m" }),
    "exactlyOneFault",
    /network does nothing/,
  ],
  [
    "network with only an interface",
    withSpec({ fault: { network: { interface: "eth1" } }, duration: "1m" }),
    "exactlyOneFault",
    /at least one of loss, partition, bandwidth/,
  ],
  // durationRequired
  [
    "pause without duration",
    withSpec({ fault: { pause: {} } }),
    "durationRequired",
    /pause stays injected for spec.duration/,
  ],
  [
    "netem without duration",
    withSpec({ fault: { netem: { delay: { time: "10ms" } } } }),
    "durationRequired",
    /netem stays injected/,
  ],
  ["node drain without duration", withSpec(node("drain")), "durationRequired", /node drain stays injected/],
  ["kill with duration", withSpec({ duration: "1m" }), "durationRequired", /kill happens in an instant/],
  [
    "restart with duration",
    withSpec({ fault: { restart: {} }, duration: "1m" }),
    "durationRequired",
    /restart happens in an instant/,
  ],
  [
    "node reboot with duration",
    withSpec({ ...node("reboot"), duration: "1m" }),
    "durationRequired",
    /node reboot happens in an instant/,
  ],
  // validSchedule
  ["schedule with 4 cron fields", withSpec({ schedule: "* * * *" }), "validSchedule", /has 4 fields/],
  ["cron out of range", withSpec({ schedule: "61 * * * *" }), "validSchedule", /Invalid value for minute/],
  ["cron that never fires", withSpec({ schedule: "0 0 30 2 *" }), "validSchedule", /never fires/],
  ["@every without a duration", withSpec({ schedule: "@every ten minutes" }), "validSchedule", /unknown schedule/],
  ["@every with a bad duration", withSpec({ schedule: "@every 10" }), "validSchedule", /invalid duration "10"/],
  [
    "unknown time zone",
    withSpec({ schedule: "0 * * * *", timeZone: "Europe/Atlantis" }),
    "validSchedule",
    /unknown time zone/,
  ],
  // durationsPositiveAndCapped
  [
    "negative duration",
    withSpec({ ...pause, duration: "-5s" }),
    "durationsPositiveAndCapped",
    /must be positive, not "-5s"/,
  ],
  ["zero duration", withSpec({ ...pause, duration: "0s" }), "durationsPositiveAndCapped", /must be positive/],
  [
    "absurd duration",
    withSpec({ ...pause, duration: "9999h" }),
    "durationsPositiveAndCapped",
    /"9999h" is longer than the limit of 24h/,
  ],
  [
    "unparseable duration",
    withSpec({ ...pause, duration: "5 minutes" }),
    "durationsPositiveAndCapped",
    /invalid duration "5 minutes"/,
  ],
  [
    "stop timeout over 10m",
    withSpec({ fault: { stop: { timeout: "11m" } } }),
    "durationsPositiveAndCapped",
    /limit of 10m/,
  ],
  [
    "netem jitter over 10m",
    withSpec({ fault: { netem: { delay: { time: "10ms", jitter: "1h" } } }, duration: "1m" }),
    "durationsPositiveAndCapped",
    /limit of 10m/,
  ],
  [
    "startingDeadline negative",
    withSpec({ startingDeadline: "-1m" }),
    "durationsPositiveAndCapped",
    /must be positive/,
  ],
  [
    "@every under 1s",
    withSpec({ schedule: "@every 500ms" }),
    "durationsPositiveAndCapped",
    /more often than once per 1s/,
  ],
  ["@every over a year", withSpec({ schedule: "@every 9000h" }), "durationsPositiveAndCapped", /limit of 8760h/],
  // percentInRange
  [
    "fixed-percent over 100",
    withSpec({ selector: { services: ["web"], mode: "fixed-percent", value: "150" } }),
    "percentInRange",
    /at most 100, not 150/,
  ],
  [
    "random-max-percent of 0",
    withSpec({ selector: { services: ["web"], mode: "random-max-percent", value: "0" } }),
    "percentInRange",
    /more than 0/,
  ],
  ["maxUnavailable over 100%", withSpec({ safety: { maxUnavailable: "101%" } }), "percentInRange", /at most 100%/],
  // modeValueAgree
  [
    "mode one with a value",
    withSpec({ selector: { services: ["web"], mode: "one", value: "1" } }),
    "modeValueAgree",
    /takes no value/,
  ],
  [
    "mode all with a value",
    withSpec({ selector: { services: ["web"], mode: "all", value: "3" } }),
    "modeValueAgree",
    /takes no value/,
  ],
  [
    "fixed without a value",
    withSpec({ selector: { services: ["web"], mode: "fixed" } }),
    "modeValueAgree",
    /needs selector.value/,
  ],
  [
    "fixed of 0",
    withSpec({ selector: { services: ["web"], mode: "fixed", value: "0" } }),
    "modeValueAgree",
    /whole number of targets, 1 or more/,
  ],
  [
    "fixed of 1.5",
    withSpec({ selector: { services: ["web"], mode: "fixed", value: "1.5" } }),
    "modeValueAgree",
    /whole number/,
  ],
  [
    "percent with a % sign",
    withSpec({ selector: { services: ["web"], mode: "fixed-percent", value: "50%" } }),
    "modeValueAgree",
    /plain number/,
  ],
  // dns1123Name
  ["name with capitals and _", withSpec({}, { name: "Web_Kill" }), "dns1123Name", /"Web_Kill" is not a DNS-1123 label/],
  ["name starting with -", withSpec({}, { name: "-web" }), "dns1123Name", /not a DNS-1123 label/],
  ["namespace with capitals", withSpec({}, { namespace: "Prod" }), "dns1123Name", /"Prod" is not a DNS-1123 label/],
  // maxUnavailable
  ["maxUnavailable negative", withSpec({ safety: { maxUnavailable: -1 } }), "maxUnavailable", /0 or more, not -1/],
  [
    "maxUnavailable a word",
    withSpec({ safety: { maxUnavailable: "half" } }),
    "maxUnavailable",
    /or a percent \(e.g. "50%"\), not "half"/,
  ],
  ["maxUnavailable a number as string", withSpec({ safety: { maxUnavailable: "2" } }), "maxUnavailable", /not "2"/],
  // selectorNotEmpty
  ["empty selector", withSpec({ selector: {} }), "selectorNotEmpty", /selects nothing/],
  ["selector with only a mode", withSpec({ selector: { mode: "all" } }), "selectorNotEmpty", /selects nothing/],
  [
    "selector with empty lists",
    withSpec({ selector: { services: [], serviceLabels: {} } }),
    "selectorNotEmpty",
    /selects nothing/,
  ],
  // nodeFaultSelector
  [
    "node fault selecting services",
    withSpec({ ...node("drain"), duration: "1m", selector: { nodes: ["n1"], services: ["web"] } }),
    "nodeFaultSelector",
    /use nodes, nodeLabels, nodeRoles, not services/,
  ],
  [
    "node fault selecting managers",
    withSpec({ ...node("pause"), duration: "1m", selector: { nodeRoles: ["manager"] } }),
    "nodeFaultSelector",
    /allowManagers is false/,
  ],
  [
    "node fault with a stack only",
    withSpec({ ...node("partition"), duration: "1m", selector: { stack: "twet" } }),
    "nodeFaultSelector",
    /needs at least one of nodes/,
  ],
  // probe rules
  ["probe with no kind", withSpec({ probes: [{ name: "p", mode: "EOT" }] }), "probeKind", /checks nothing/],
  [
    "probe with two kinds",
    withSpec({ probes: [{ name: "p", mode: "EOT", http: { url: "http://a" }, service: { name: "web" } }] }),
    "probeKind",
    /2 probe kinds \(http, service\)/,
  ],
  [
    "duplicate probe names",
    withSpec({ probes: [web("EOT"), web("SOT")] }),
    "uniqueProbeNames",
    /"web" is already used by spec.probes\[0\]/,
  ],
  [
    "probe name not DNS-1123",
    withSpec({ probes: [{ ...web("EOT"), name: "Web_Up" }] }),
    "uniqueProbeNames",
    /not a DNS-1123 label/,
  ],
  ["probe interval too short", withSpec({ probes: [{ ...web("EOT"), interval: "10ms" }] }), "probeTimings", /shorter/],
  [
    "probe interval not a duration",
    withSpec({ probes: [{ ...web("EOT"), interval: "1 s" }] }),
    "probeTimings",
    /invalid/,
  ],
  ["probe timeout over 5m", withSpec({ probes: [{ ...web("EOT"), timeout: "6m" }] }), "probeTimings", /limit of 5m/],
  [
    "timeout given twice",
    withSpec({ probes: [{ name: "p", mode: "EOT", timeout: "1s", http: { url: "http://a", timeout: "2s" } }] }),
    "probeTimings",
    /given twice/,
  ],
  [
    "service within zero",
    withSpec({ probes: [{ name: "p", mode: "EOT", service: { name: "web", within: "0s" } }] }),
    "probeTimings",
    /positive/,
  ],
  [
    "bad status expectation",
    withSpec({ probes: [{ name: "p", mode: "EOT", http: { url: "http://a", expect: { status: "2x" } } }] }),
    "probeExpectations",
    /not an HTTP status expectation/,
  ],
  [
    "status code out of range",
    withSpec({ probes: [{ name: "p", mode: "EOT", http: { url: "http://a", expect: { status: 700 } } }] }),
    "probeExpectations",
    /"700"/,
  ],
  [
    "bad body regex",
    withSpec({ probes: [{ name: "p", mode: "EOT", http: { url: "http://a", expect: { body: "(" } } }] }),
    "probeExpectations",
    /regular expression/,
  ],
  [
    "GET with a body",
    withSpec({ probes: [{ name: "p", mode: "EOT", http: { url: "http://a", body: "x" } }] }),
    "probeExpectations",
    /GET request carries no body/,
  ],
  [
    "bad stdout regex",
    withSpec({ probes: [{ name: "p", mode: "EOT", cmd: { command: ["true"], expect: { stdout: "[" } } }] }),
    "probeExpectations",
    /regular expression/,
  ],
  [
    "stopOnFailure on an SOT probe",
    withSpec({ probes: [{ ...web("SOT"), stopOnFailure: true }] }),
    "stopOnFailureMode",
    /nothing to stop/,
  ],
  ["resumedAt not a time", withSpec({ abort: { resumedAt: "yesterday" } }), "abortResumedAt", /RFC 3339/],
  // processMatcher
  [
    "process with name and pattern",
    withSpec({ fault: { process: { name: "worker", pattern: "work.*" } } }),
    "processMatcher",
    /name or pattern, not both/,
  ],
  ["process with neither", withSpec({ fault: { process: { signal: "SIGTERM" } } }), "processMatcher", /needs name/],
  [
    "process with a broken pattern",
    withSpec({ fault: { process: { pattern: "work(" } } }),
    "processMatcher",
    /not a regular expression/,
  ],
  // durationRequired, for stress
  [
    "stress without a duration",
    withSpec({ fault: { stress: { cpu: {} } } }),
    "durationRequired",
    /stress stays injected/,
  ],
  // knownSignal
  [
    "kill with a misspelt signal",
    withSpec({ fault: { kill: { signal: "SIGKIL" } } }),
    "knownSignal",
    /^unknown signal "SIGKIL"; did you mean "SIGKILL"\?/,
  ],
  ["kill with SIGTREM", withSpec({ fault: { kill: { signal: "SIGTREM" } } }), "knownSignal", /did you mean "SIGTERM"/],
  [
    "kill with a made-up signal",
    withSpec({ fault: { kill: { signal: "SIGFOO" } } }),
    "knownSignal",
    /^unknown signal "SIGFOO" \(e.g. SIGKILL/,
  ],
  [
    "process with a misspelt signal",
    withSpec({ fault: { process: { name: "nginx", signal: "SIGHPU" } } }),
    "knownSignal",
    /^unknown signal "SIGHPU"; did you mean "SIGHUP"\?/,
  ],
  ["kill with signal 0", withSpec({ fault: { kill: { signal: "0" } } }), "knownSignal", /signals 1 to 64/],
  ["kill with signal 65", withSpec({ fault: { kill: { signal: "65" } } }), "knownSignal", /signal 65 does not exist/],
];

const valid: Array<[string, Doc]> = [
  ["kill SIGTERM", withSpec({ fault: { kill: { signal: "SIGTERM" } } })],
  ["kill SIGUSR1", withSpec({ fault: { kill: { signal: "SIGUSR1" } } })],
  ["kill signal 9", withSpec({ fault: { kill: { signal: "9" } } })],
  ["kill signal 64", withSpec({ fault: { kill: { signal: "64" } } })],
  [
    "every probe kind and mode",
    withSpec({
      probes: [
        { ...web("Continuous"), interval: "1s", failureThreshold: 2, stopOnFailure: true },
        { name: "api", mode: "SOT", http: { url: "https://a/x", method: "POST", body: "{}", expect: { status: 204 } } },
        { name: "list", mode: "Edge", http: { url: "http://a", expect: { status: "200, 3xx", body: "^ok" } } },
        { name: "cmd", mode: "OnChaos", cmd: { command: ["wget", "-q", "-O-", "http://web"], network: "backend" } },
        { name: "prom", mode: "EOT", prometheus: { url: "http://p:9090", query: "up", op: ">=", value: 1 } },
        { name: "svc", mode: "EOT", timeout: "2s", service: { name: "web", healthy: true, within: "60s" } },
      ],
      abort: { haltSchedule: false, resumedAt: "2026-12-06T21:00:00Z" },
    }),
  ],
  ["kill, all defaults", base()],
  ["pause with a duration", withSpec(pause)],
  [
    "netem delay with jitter, distribution and reorder",
    withSpec({
      fault: { netem: { delay: { time: "10ms", jitter: "100ms", distribution: "normal" }, reorder: { percent: 25 } } },
      duration: "60s",
    }),
  ],
  ["network loss", withSpec({ fault: { network: { loss: { probability: 0.3 } } }, duration: "2m" })],
  [
    "network loss and bandwidth",
    withSpec({ fault: { network: { loss: { probability: 0.1 }, bandwidth: { rate: "1mbit" } } }, duration: "2m" }),
  ],
  ["node reboot without duration", withSpec(node("reboot"))],
  [
    "stress of every resource",
    withSpec({
      fault: {
        stress: {
          cpu: { workers: 2, load: 50 },
          memory: { size: "80%" },
          io: { workers: 1, size: "16M" },
          disk: { size: "1GiB", path: "/data" },
        },
      },
      duration: "60s",
    }),
  ],
  [
    "stress memory in bytes",
    withSpec({ fault: { stress: { memory: { size: "256MB", workers: 2 } } }, duration: "1m" }),
  ],
  ["process by name, instant", withSpec({ fault: { process: { name: "worker", signal: "SIGTERM" } } })],
  ["process by pattern", withSpec({ fault: { process: { pattern: "^sleep [0-9]+$" } } })],
  [
    "node drain of a manager, allowed",
    withSpec({ ...node("drain", { allowManagers: true }), duration: "10m", selector: { nodeRoles: ["manager"] } }),
  ],
  ["duration at the 24h cap", withSpec({ ...pause, duration: "24h" })],
  ["stop timeout at the 10m cap", withSpec({ fault: { stop: { timeout: "10m" } } })],
  ["@every 1s", withSpec({ schedule: "@every 1s" })],
  ["6-field cron in a time zone", withSpec({ schedule: "30 0 3 * * 1-5", timeZone: "Europe/Berlin" })],
  ["@hourly", withSpec({ schedule: "@hourly" })],
  ["fixed 2", withSpec({ selector: { services: ["web"], mode: "fixed", value: "2" } })],
  ["fixed-percent 100", withSpec({ selector: { services: ["web"], mode: "fixed-percent", value: "100" } })],
  ["random-max-percent 12.5", withSpec({ selector: { services: ["web"], mode: "random-max-percent", value: "12.5" } })],
  ["maxUnavailable 0", withSpec({ safety: { maxUnavailable: 0 } })],
  ["maxUnavailable 100%", withSpec({ safety: { maxUnavailable: "100%" } })],
  ["name and namespace DNS-1123", withSpec({}, { name: "a-1", namespace: "team-web" })],
  ["container fault selecting by node labels", withSpec({ selector: { nodeLabels: { zone: "a" } } })],
  ["selector by stack only", withSpec({ selector: { stack: "twet" } })],
];

describe("semantic rules", () => {
  it.for(invalid)("%s", ([, doc, rule, message]) => {
    const problems = problemsOf(doc);
    // Only the rule named speaks (it may have more than one thing to say).
    expect(new Set(problems.map((p) => p.rule))).toEqual(new Set([rule]));
    expect(problems.some((p) => message.test(p.message))).toBe(true);
  });

  it.for(valid)("%s is valid", ([, doc]) => {
    expect(problemsOf(doc)).toEqual([]);
  });

  it("the table covers every named rule", () => {
    const covered = new Set(invalid.map(([, , rule]) => rule));
    expect([...covered].sort()).toEqual(Object.keys(SEMANTIC_RULES).sort());
  });

  it("node fault with an empty selector: both selector rules speak", () => {
    const problems = problemsOf(withSpec({ ...node("drain"), duration: "1m", selector: {} }));
    expect(problems.map((p) => p.rule).sort()).toEqual(["nodeFaultSelector", "selectorNotEmpty"]);
  });
});

describe("probe problems are located", () => {
  it("names file, line and field of a duplicate probe name", () => {
    const text = [
      "apiVersion: chaosctl.io/v1alpha1",
      "kind: ChaosSchedule",
      "metadata: {name: t}",
      "spec:",
      "  selector: {services: [web]}",
      "  fault: {kill: {}}",
      "  probes:",
      "    - {name: up, mode: EOT, service: {name: web}}",
      "    - name: up",
      "      mode: SOT",
      "      http: {url: 'http://web/'}",
      "",
    ].join("\n");
    const r = loadText(text, "probes.yaml");
    const problems = r.documents[0]!.problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: "probes.yaml",
      line: 9,
      path: "spec.probes[1].name",
      rule: "uniqueProbeNames",
    });
  });
});
