import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { ProbeMonitor } from "../../src/probes/monitor.js";
import { parseStopCondition, StopConditionInvalid, StopConditionWatch } from "../../src/probes/stop-condition.js";
import { silentLogger } from "../../src/util/log.js";

describe("stop-condition file", () => {
  it("one probe, mode left out: Continuous, with the probe defaults", () => {
    const p = parseStopCondition(
      "# alerts firing stop all chaos\nname: no-alerts\nprometheus: {url: 'http://127.0.0.1:9090', query: 'sum(ALERTS)', op: '==', value: 0}\n",
      "stop.yaml",
    );
    expect(p).toMatchObject({ name: "no-alerts", mode: "Continuous", interval: "2s", failureThreshold: 1 });
  });

  it("problems name the file's own line, column and field", () => {
    let err: unknown;
    try {
      parseStopCondition(
        "name: db\n\nhttp:\n  url: http://db:8080/\n  expect: {status: 2x}\ninterval: 5 s\n",
        "stop.yaml",
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StopConditionInvalid);
    const problems = (err as StopConditionInvalid).problems.map(
      (p) => `${p.file}:${p.line}:${p.column} ${p.path} [${p.rule}]`,
    );
    expect(problems.sort()).toEqual([
      "stop.yaml:5:20 http.expect.status [probeExpectations]",
      "stop.yaml:6:11 interval [probeTimings]",
    ]);
  });

  it("another mode or not a mapping is refused", () => {
    expect(() => parseStopCondition("name: x\nmode: SOT\nservice: {name: web}\n", "s.yaml")).toThrow(/leave mode out/);
    expect(() => parseStopCondition("- a\n", "s.yaml")).toThrow(/one probe/);
  });
});

describe("StopConditionWatch", () => {
  it("flips to failing after the threshold and back at the first good check", async () => {
    let up = true;
    const server = createServer((_req, res) => res.writeHead(up ? 200 : 500).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const probe = parseStopCondition(
      `name: db\nhttp: {url: '${url}'}\ninterval: 100ms\nfailureThreshold: 2\n`,
      "s.yaml",
    );
    const flips: Array<string | undefined> = [];
    const monitor = new ProbeMonitor({ engine: {} as Engine, image: "x", logger: silentLogger });
    const w = new StopConditionWatch(probe, monitor, silentLogger, (f) => flips.push(f));
    const ctl = new AbortController();
    const running = w.run(ctl.signal);
    await w.ready();
    expect(w.state()).toBeUndefined();
    up = false;
    const until = async (cond: () => boolean) => {
      const t0 = Date.now();
      while (!cond() && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => w.state() !== undefined);
    expect(w.state()).toMatch(/stop condition db fails: GET .* status 500/);
    up = true;
    await until(() => w.state() === undefined);
    expect(flips).toEqual([expect.stringMatching(/status 500/), undefined]);
    ctl.abort();
    await running;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
