// netem argv, exact, for every option (pure). Their effect is proven in the VM lane (docs/vm-lane.md):
// this kernel has no sch_netem.
import { describe, expect, it } from "vitest";
import { netemArgs } from "../../src/faults/netem/args.js";
import { netemInjection } from "../../src/faults/netem/injection.js";
import { ownedNames } from "../../src/faults/netns/ids.js";
import * as tc from "../../src/faults/netns/tc.js";
import { InvalidNetworkSpec } from "../../src/faults/netns/errors.js";

describe("netemArgs", () => {
  it.each([
    [{ delay: { time: "10ms" } }, ["delay", "10ms"]],
    [{ delay: { time: "10ms", jitter: "100ms" } }, ["delay", "10ms", "100ms"]],
    [{ delay: { time: "10ms", jitter: "100ms", correlation: 25 } }, ["delay", "10ms", "100ms", "25%"]],
    [
      { delay: { time: "10ms", jitter: "100ms", distribution: "normal" } },
      ["delay", "10ms", "100ms", "distribution", "normal"],
    ],
    [
      { delay: { time: "1s", jitter: "5ms", correlation: 12.5, distribution: "pareto" } },
      ["delay", "1s", "5ms", "12.5%", "distribution", "pareto"],
    ],
    [
      { delay: { time: "10ms", jitter: "1ms", distribution: "paretonormal" } },
      ["delay", "10ms", "1ms", "distribution", "paretonormal"],
    ],
    // uniform is netem's built-in jitter distribution: tc has no table named "uniform".
    [{ delay: { time: "10ms", jitter: "1ms", distribution: "uniform" } }, ["delay", "10ms", "1ms"]],
    // correlation without jitter: the positional slot gets a zero jitter.
    [{ delay: { time: "10ms", correlation: 25 } }, ["delay", "10ms", "0ms", "25%"]],
    [{ loss: { percent: 10 } }, ["loss", "10%"]],
    [{ loss: { percent: 0.5, correlation: 25 } }, ["loss", "0.5%", "25%"]],
    [{ duplicate: { percent: 1 } }, ["duplicate", "1%"]],
    [{ duplicate: { percent: 1, correlation: 5 } }, ["duplicate", "1%", "5%"]],
    [{ corrupt: { percent: 1 } }, ["corrupt", "1%"]],
    [{ corrupt: { percent: 0.0000001 } }, ["corrupt", "0%"]],
    [
      { delay: { time: "10ms" }, reorder: { percent: 25, correlation: 50 } },
      ["delay", "10ms", "reorder", "25%", "50%"],
    ],
    [{ delay: { time: "10ms" }, reorder: { percent: 25, gap: 5 } }, ["delay", "10ms", "reorder", "25%", "gap", "5"]],
    [{ rate: "1mbit" }, ["rate", "1mbit"]],
    [{ rate: "2.5kbps" }, ["rate", "2.5kbps"]],
    [
      {
        delay: { time: "10ms", jitter: "100ms", correlation: 25, distribution: "normal" },
        loss: { percent: 10, correlation: 25 },
        duplicate: { percent: 1 },
        corrupt: { percent: 1 },
        reorder: { percent: 25, correlation: 50, gap: 3 },
        rate: "1mbit",
      },
      [
        "delay",
        "10ms",
        "100ms",
        "25%",
        "distribution",
        "normal",
        "loss",
        "10%",
        "25%",
        "duplicate",
        "1%",
        "corrupt",
        "1%",
        "reorder",
        "25%",
        "50%",
        "gap",
        "3",
        "rate",
        "1mbit",
      ],
    ],
  ] as const)("%j", (spec, argv) => {
    expect(netemArgs(spec as Parameters<typeof netemArgs>[0])).toEqual(argv);
  });

  it.each([
    [{}, /at least one/],
    [{ delay: { time: "10" } }, /invalid time/],
    [{ delay: { time: "1m" } }, /invalid time/],
    [{ delay: { time: "10ms; reboot" } }, /invalid time/],
    [{ delay: { time: "10ms", distribution: "normal" } }, /needs delay.jitter/],
    [{ delay: { time: "10ms", jitter: "1ms", distribution: "gauss" } }, /unknown distribution/],
    [{ loss: { percent: 101 } }, /0..100/],
    [{ loss: { percent: Number.NaN } }, /0..100/],
    [{ reorder: { percent: 25 } }, /needs a delay/],
    [{ delay: { time: "1ms" }, reorder: { percent: 25, gap: 0 } }, /gap/],
    [{ rate: "1 mbit" }, /invalid rate/],
    [{ rate: "-1mbit" }, /invalid rate/],
    [{ rate: "0mbit" }, /invalid rate/],
  ])("rejects %j", (spec, msg) => {
    expect(() => netemArgs(spec as Parameters<typeof netemArgs>[0])).toThrow(InvalidNetworkSpec);
    expect(() => netemArgs(spec as Parameters<typeof netemArgs>[0])).toThrow(msg);
  });
});

describe("netem tc tree", () => {
  const key = { schedule: "default/web-delay", run: "r1", fault: "netem" as const };
  const n = ownedNames(key);
  const hex = n.minor.toString(16);

  it("a leaf under its own class of the owned root, on eth0 by default", () => {
    const inj = netemInjection(key, { delay: { time: "10ms", jitter: "100ms", distribution: "normal" } });
    expect(inj.dev).toBe("eth0");
    expect(tc.rootAdd(inj.dev)).toEqual([
      "tc",
      "qdisc",
      "add",
      "dev",
      "eth0",
      "root",
      "handle",
      "1c4a:",
      "htb",
      "default",
      "2",
      "direct_qlen",
      "1000",
    ]);
    expect(tc.leafReplace(inj.dev, n, inj.leaf!)).toEqual([
      "tc",
      "qdisc",
      "replace",
      "dev",
      "eth0",
      "parent",
      `1c4a:${hex}`,
      "handle",
      `${hex}:`,
      "netem",
      "delay",
      "10ms",
      "100ms",
      "distribution",
      "normal",
    ]);
    expect(tc.filtersAdd(inj.dev, n, inj.to)).toEqual([
      [
        "tc",
        "filter",
        "add",
        "dev",
        "eth0",
        "parent",
        "1c4a:",
        "protocol",
        "all",
        "prio",
        String(n.minor),
        "u32",
        "match",
        "u32",
        "0",
        "0",
        "flowid",
        `1c4a:${hex}`,
      ],
    ]);
  });

  it("to: one u32 filter per destination and port, steering into the netem class", () => {
    const inj = netemInjection(key, {
      interface: "lo",
      delay: { time: "10ms" },
      to: { cidrs: ["10.0.1.5/24", "10.0.2.7"], ports: [5432] },
    });
    expect(tc.filtersAdd(inj.dev, n, inj.to)).toEqual([
      [
        "tc",
        "filter",
        "add",
        "dev",
        "lo",
        "parent",
        "1c4a:",
        "protocol",
        "ip",
        "prio",
        String(n.minor),
        "u32",
        "match",
        "ip",
        "dst",
        "10.0.1.0/24",
        "match",
        "ip",
        "dport",
        "5432",
        "0xffff",
        "flowid",
        `1c4a:${hex}`,
      ],
      [
        "tc",
        "filter",
        "add",
        "dev",
        "lo",
        "parent",
        "1c4a:",
        "protocol",
        "ip",
        "prio",
        String(n.minor),
        "u32",
        "match",
        "ip",
        "dst",
        "10.0.2.7/32",
        "match",
        "ip",
        "dport",
        "5432",
        "0xffff",
        "flowid",
        `1c4a:${hex}`,
      ],
    ]);
  });

  it("to with ports only matches every address; services that resolved to nothing match nothing", () => {
    const ports = netemInjection(key, { loss: { percent: 5 }, to: { ports: [80, 443] } });
    expect(tc.filtersAdd("eth0", n, ports.to).map((a) => a.slice(12, -2))).toEqual([
      ["match", "ip", "dport", "80", "0xffff"],
      ["match", "ip", "dport", "443", "0xffff"],
    ]);
    const none = netemInjection(key, { loss: { percent: 5 }, to: { cidrs: [], ports: [] } });
    expect(tc.filtersAdd("eth0", n, none.to)).toEqual([]);
  });

  it("shell metacharacters never reach argv: they are refused before", () => {
    for (const bad of ["eth0;reboot", "$(id)", "eth0 lo", "-h", "`x`", "a|b"]) {
      expect(() => netemInjection(key, { interface: bad, delay: { time: "1ms" } })).toThrow(InvalidNetworkSpec);
    }
    expect(() =>
      netemInjection(key, { delay: { time: "1ms" }, to: { cidrs: ["10.0.0.0/8 match u32 0 0"], ports: [] } }),
    ).toThrow(/CIDR/);
    expect(() => netemInjection(key, { delay: { time: "1ms" }, to: { cidrs: ["10.0.0.0/33"], ports: [] } })).toThrow(
      /CIDR/,
    );
    expect(() => netemInjection(key, { delay: { time: "1ms" }, to: { ports: [0] } })).toThrow(/port/);
  });
});
