// The lane's own proof, independent of chaosctl's code: on this VM's stock kernel, a netem
// qdisc added by hand with plain `tc` in a container's namespace delays that container's
// packets. If this fails, the lane (not the driver) is broken.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chaosLeftovers,
  createNetwork,
  inNetns,
  mean,
  ping,
  qdiscs,
  report,
  requireVmLane,
  startPeer,
  type Net,
  type Peer,
} from "./lane.js";

describe("lane baseline: tc netem by hand on a stock kernel", () => {
  let net: Net;
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    requireVmLane();
    net = await createNetwork();
    a = await startPeer(net);
    b = await startPeer(net);
  });

  afterAll(async () => {
    await a?.remove();
    await b?.remove();
    await net?.remove();
  });

  it("netem delay 100ms raises the ping round-trip time by about 100 ms, and deleting it restores it", async () => {
    const before = await ping(a.id, b.ip, 20, 0.1);
    expect(before.received).toBe(20);

    await inNetns(a.id, ["tc", "qdisc", "add", "dev", a.dev, "root", "netem", "delay", "100ms"]);
    const q = (await qdiscs(a.id)).find((x) => x.dev === a.dev && x.root);
    expect(q?.kind).toBe("netem");
    const during = await ping(a.id, b.ip, 20, 0.1);

    await inNetns(a.id, ["tc", "qdisc", "del", "dev", a.dev, "root"]);
    const after = await ping(a.id, b.ip, 20, 0.1);

    report("baseline", {
      beforeMs: mean(before.rtts),
      duringMs: mean(during.rtts),
      afterMs: mean(after.rtts),
      minDuringMs: Math.min(...during.rtts),
    });
    expect(during.received).toBe(20);
    expect(Math.min(...during.rtts)).toBeGreaterThanOrEqual(99);
    expect(mean(during.rtts) - mean(before.rtts)).toBeGreaterThan(85);
    expect(mean(during.rtts) - mean(before.rtts)).toBeLessThan(140);
    expect(mean(after.rtts)).toBeLessThan(mean(before.rtts) + 20);
    expect(await chaosLeftovers(a.id)).toEqual([]);
  });
});
