// Pure: raw Docker API objects → the engine's plain types, and error mapping.
import { describe, expect, it } from "vitest";
import {
  exitCodeFromStatus,
  hasHealthcheck,
  healthFromStatus,
  mapContainerSummary,
  mapService,
  mapTask,
  mapEvent,
  mapContainerInspect,
} from "../../src/engine/mapping.js";
import { mapDockerError } from "../../src/engine/map-error.js";
import { demuxBuffer } from "../../src/engine/demux.js";
import {
  ContainerNameConflict,
  ContainerNotFound,
  ContainerStateConflict,
  EngineError,
  ImageMissing,
  NodeUnreachable,
  VersionConflict,
} from "../../src/engine/errors.js";

describe("mapping", () => {
  it.each([
    ["Up 3 seconds (healthy)", "healthy"],
    ["Up 1 second (health: starting)", "starting"],
    ["Up 9 seconds (unhealthy)", "unhealthy"],
    ["Up 2 minutes", undefined],
    ["Exited (0) 1 second ago", undefined],
  ])("health of %j is %j", (status, health) => expect(healthFromStatus(status)).toBe(health));

  it.each([
    ["Exited (137) 2 seconds ago", 137],
    ["Exited (0) 1 second ago", 0],
    ["Up 2 seconds", undefined],
  ])("exit code of %j is %j", (status, code) => expect(exitCodeFromStatus(status)).toBe(code));

  it.each([
    [{ Test: ["CMD-SHELL", "true"] }, true],
    [{ Test: ["NONE"] }, false],
    [{ Test: [] }, false],
    [null, false],
    [undefined, false],
  ])("healthcheck %j counts: %j", (h, want) => expect(hasHealthcheck(h)).toBe(want));

  it("maps a stack service with replicas", () => {
    const s = mapService({
      ID: "s1",
      Version: { Index: 42 },
      Spec: {
        Name: "twet_app",
        Labels: { "com.docker.stack.namespace": "twet", tier: "web" },
        TaskTemplate: { ContainerSpec: { Healthcheck: { Test: ["CMD", "wget", "-q", "localhost"] } } },
        Mode: { Replicated: { Replicas: 3 } },
      },
    });
    expect(s).toEqual({
      id: "s1",
      name: "twet_app",
      labels: { "com.docker.stack.namespace": "twet", tier: "web" },
      stack: "twet",
      mode: "replicated",
      replicas: 3,
      hasHealthcheck: true,
      version: 42,
    });
    expect(mapService({ ID: "g", Spec: { Name: "agent", Mode: { Global: {} } } }).mode).toBe("global");
  });

  it("maps a task with its container and network addresses", () => {
    const t = mapTask({
      ID: "t1",
      ServiceID: "s1",
      NodeID: "n1",
      Slot: 2,
      DesiredState: "running",
      CreatedAt: "2024-01-01T00:00:00Z",
      Status: {
        Timestamp: "2024-01-01T00:00:01Z",
        State: "running",
        Message: "started",
        ContainerStatus: { ContainerID: "c1" },
      },
      NetworksAttachments: [{ Network: { ID: "net1", Spec: { Name: "ingress" } }, Addresses: ["10.0.0.5/24"] }],
    });
    expect(t).toMatchObject({ id: "t1", serviceId: "s1", nodeId: "n1", slot: 2, containerId: "c1", state: "running" });
    expect(t.networks).toEqual([{ network: "ingress", addresses: ["10.0.0.5/24"] }]);
    expect(t.err).toBeUndefined();
  });

  it("maps containers with Swarm ids, health and exit code", () => {
    const c = mapContainerSummary({
      Id: "c1",
      Names: ["/web.1.abc"],
      Image: "local/web:1",
      Labels: {
        "com.docker.swarm.task.id": "t1",
        "com.docker.swarm.service.id": "s1",
        "com.docker.swarm.node.id": "n1",
      },
      State: "running",
      Status: "Up 5 seconds (healthy)",
      Created: 100,
    });
    expect(c).toMatchObject({
      id: "c1",
      names: ["web.1.abc"],
      taskId: "t1",
      serviceId: "s1",
      nodeId: "n1",
      health: "healthy",
      state: "running",
    });
    expect(mapContainerSummary({ Id: "c2", State: "exited", Status: "Exited (3) 1 second ago" }).exitCode).toBe(3);
    const i = mapContainerInspect({
      Id: "c3",
      Name: "/g",
      Created: "1970-01-01T00:01:40Z",
      State: { Status: "exited", ExitCode: 1 },
    });
    expect(i).toMatchObject({ names: ["g"], created: 100, state: "exited", exitCode: 1 });
  });

  it("maps an event with nanosecond time", () => {
    const e = mapEvent({
      Type: "container",
      Action: "die",
      Actor: { ID: "c1", Attributes: { exitCode: "137" } },
      time: 1,
      timeNano: 1_500_000_000,
    });
    expect(e).toEqual({
      type: "container",
      action: "die",
      id: "c1",
      attributes: { exitCode: "137" },
      time: new Date(1500),
    });
  });

  it("demultiplexes Docker's framed stream", () => {
    const frame = (stream: number, text: string): Buffer => {
      const body = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(body.length, 4);
      return Buffer.concat([h, body]);
    };
    expect(demuxBuffer(Buffer.concat([frame(1, "out1 "), frame(2, "err"), frame(1, "out2")]))).toEqual({
      stdout: "out1 out2",
      stderr: "err",
    });
  });
});

describe("mapDockerError", () => {
  const http = (statusCode: number, message: string): Error =>
    Object.assign(new Error(`(HTTP code ${statusCode})`), { statusCode, json: { message } });
  it.each([
    [http(404, "No such container: x"), "container", ContainerNotFound],
    [http(409, "Container x is not paused"), "container", ContainerStateConflict],
    [http(304, ""), "container", ContainerStateConflict],
    [http(500, "Container abc is not paused"), "container", ContainerStateConflict],
    [http(404, "No such image: local/none:1"), "create", ImageMissing],
    [http(409, 'Conflict. The container name "/g" is already in use'), "create", ContainerNameConflict],
    [http(500, "rpc error: code = Unknown desc = update out of sequence"), "node", VersionConflict],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "other", NodeUnreachable],
    [Object.assign(new Error("connect ENOENT /x.sock"), { code: "ENOENT" }), "container", NodeUnreachable],
    [http(500, "boom"), "container", EngineError],
  ] as const)("%s (%s) → %o", (err, subject, cls) => {
    const mapped = mapDockerError(err, subject, "op");
    expect(mapped).toBeInstanceOf(cls);
    expect(mapped.constructor).toBe(cls);
    expect(mapped.cause).toBe(err);
  });
});
