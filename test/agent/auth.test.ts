// The agent's request authentication, pure: every refusal has its own case.
import { describe, expect, it } from "vitest";
import {
  ANY_NODE,
  H_BODY_SHA256,
  H_NODE,
  H_NONCE,
  H_SIGNATURE,
  H_TIMESTAMP,
  keyFromToken,
  RequestVerifier,
  responseSignature,
  sha256,
  signRequest,
} from "../../src/nodes/auth.js";

const key = Buffer.from("0123456789abcdef0123456789abcdef");
const other = Buffer.from("fedcba9876543210fedcba9876543210");
const t0 = new Date("2026-11-25T12:00:00Z");
const at = (ms: number): Date => new Date(t0.getTime() + ms);
const body = Buffer.from(JSON.stringify({ id: "abc", signal: "SIGKILL" }));

const NODE = "nodeaaaaaaaaaaaaaaaaaaaaa1";

function req(headers: Record<string, string>, over: Partial<{ method: string; path: string }> = {}) {
  return { method: over.method ?? "POST", path: over.path ?? "/v1/killContainer", headers };
}

describe("RequestVerifier", () => {
  it("accepts a request signed with the shared key", () => {
    const v = new RequestVerifier(key);
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0);
    expect(v.verify(req({ ...h }), t0, NODE)).toEqual({
      ok: true,
      nonce: h[H_NONCE],
      node: ANY_NODE,
      bodySha256: sha256(body),
    });
  });

  it("refuses a request with no signature headers, or only some of them", () => {
    const v = new RequestVerifier(key);
    expect(v.verify(req({}), t0, NODE)).toMatchObject({ ok: false, reason: "MissingSignature" });
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0);
    const { [H_SIGNATURE]: _dropped, ...noSig } = h;
    expect(v.verify(req(noSig), t0, NODE)).toMatchObject({ ok: false, reason: "MissingSignature" });
    expect(v.size).toBe(0);
  });

  it("refuses malformed headers", () => {
    const v = new RequestVerifier(key);
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0);
    expect(v.verify(req({ ...h, [H_SIGNATURE]: "zz" }), t0, NODE)).toMatchObject({
      ok: false,
      reason: "MalformedSignature",
    });
    expect(v.verify(req({ ...h, [H_TIMESTAMP]: "yesterday" }), t0, NODE)).toMatchObject({
      ok: false,
      reason: "MalformedSignature",
    });
  });

  it.each([
    ["another key", () => signRequest(other, "POST", "/v1/killContainer", body, t0), {}],
    [
      "a changed body hash",
      () => ({ ...signRequest(key, "POST", "/v1/killContainer", body, t0), [H_BODY_SHA256]: sha256("{}") }),
      {},
    ],
    [
      "a changed node",
      () => ({ ...signRequest(key, "POST", "/v1/killContainer", body, t0, undefined, "othernode"), [H_NODE]: NODE }),
      {},
    ],
    ["a changed path", () => signRequest(key, "POST", "/v1/killContainer", body, t0), { path: "/v1/removeContainer" }],
    ["a changed method", () => signRequest(key, "POST", "/v1/killContainer", body, t0), { method: "PUT" }],
  ])("refuses a signature made with %s", (_what, sign, over) => {
    const v = new RequestVerifier(key);
    expect(v.verify(req({ ...sign() }, over), t0, NODE)).toMatchObject({ ok: false, reason: "BadSignature" });
    expect(v.size).toBe(0); // a forged request never takes a place in the nonce cache
  });

  it("refuses a changed timestamp (it is signed)", () => {
    const v = new RequestVerifier(key);
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0);
    expect(v.verify(req({ ...h, [H_TIMESTAMP]: String(t0.getTime() + 1) }), t0, NODE)).toMatchObject({
      ok: false,
      reason: "BadSignature",
    });
  });

  it("accepts up to 30 s of skew each way and refuses beyond", () => {
    const v = new RequestVerifier(key);
    expect(v.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, at(-30_000)) }), t0, NODE).ok).toBe(
      true,
    );
    expect(v.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, at(30_000)) }), t0, NODE).ok).toBe(
      true,
    );
    expect(
      v.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, at(-30_001)) }), t0, NODE),
    ).toMatchObject({
      ok: false,
      reason: "StaleTimestamp",
    });
    expect(
      v.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, at(30_001)) }), t0, NODE),
    ).toMatchObject({
      ok: false,
      reason: "StaleTimestamp",
    });
  });

  it("refuses a replayed nonce while its timestamp is in the window, then as stale; the cache empties", () => {
    const v = new RequestVerifier(key);
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0);
    expect(v.verify(req({ ...h }), t0, NODE).ok).toBe(true);
    expect(v.verify(req({ ...h }), at(1), NODE).ok).toBe(false);
    expect(v.verify(req({ ...h }), at(1), NODE)).toMatchObject({ reason: "ReplayedNonce" });
    expect(v.verify(req({ ...h }), at(30_000), NODE)).toMatchObject({ reason: "ReplayedNonce" });
    expect(v.size).toBe(1);
    expect(v.verify(req({ ...h }), at(30_001), NODE)).toMatchObject({ reason: "StaleTimestamp" });
    expect(v.size).toBe(0);
  });

  it("a nonce reused with a new timestamp and a valid signature is still a replay", () => {
    const v = new RequestVerifier(key);
    const h = signRequest(key, "POST", "/v1/killContainer", body, t0, "aa".repeat(16));
    expect(v.verify(req({ ...h }), t0, NODE).ok).toBe(true);
    const again = signRequest(key, "POST", "/v1/killContainer", body, at(5_000), "aa".repeat(16));
    expect(v.verify(req({ ...again }), at(5_000), NODE)).toMatchObject({ ok: false, reason: "ReplayedNonce" });
  });
});

describe("requests bound to their node, and a bounded nonce cache", () => {
  it("accepts a request signed for this node or for any node, and refuses one for another node", () => {
    const v = new RequestVerifier(key);
    const mine = signRequest(key, "POST", "/v1/killContainer", body, t0, undefined, NODE);
    expect(v.verify(req({ ...mine }), t0, NODE)).toMatchObject({ ok: true, node: NODE });
    const theirs = signRequest(key, "POST", "/v1/killContainer", body, t0, undefined, "nodebbbbbbbbbbbbbbbbbbbbb2");
    expect(v.verify(req({ ...theirs }), t0, NODE)).toMatchObject({
      ok: false,
      reason: "WrongNode",
      message: `request is for node nodebbbbbbbbbbbbbbbbbbbbb2, this is node ${NODE}`,
    });
    // The same request at the node it names is fine: refused elsewhere, not consumed there.
    expect(new RequestVerifier(key).verify(req({ ...theirs }), t0, "nodebbbbbbbbbbbbbbbbbbbbb2").ok).toBe(true);
    // An agent that does not know its node ID yet takes only requests for any node.
    const early = new RequestVerifier(key);
    expect(
      early.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, t0, undefined, NODE) }), t0, undefined),
    ).toMatchObject({
      reason: "WrongNode",
    });
    expect(early.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, t0) }), t0, undefined).ok).toBe(
      true,
    );
  });

  it("remembers at most maxNonces: past that, valid requests are refused (never let through) until the window moves", () => {
    const v = new RequestVerifier(key, { maxNonces: 3 });
    for (let i = 0; i < 3; i++)
      expect(v.verify(req({ ...signRequest(key, "POST", "/v1/killContainer", body, t0) }), t0, NODE).ok).toBe(true);
    const fourth = signRequest(key, "POST", "/v1/killContainer", body, t0);
    expect(v.verify(req({ ...fourth }), t0, NODE)).toMatchObject({ ok: false, reason: "ReplayCacheFull" });
    expect(v.size).toBe(3);
    const later = signRequest(key, "POST", "/v1/killContainer", body, at(30_001));
    expect(v.verify(req({ ...later }), at(30_001), NODE).ok).toBe(true);
    expect(v.size).toBe(1);
  });
});

describe("tokens and answers", () => {
  it("refuses a token shorter than 16 bytes without echoing it", () => {
    expect(() => keyFromToken("short-secret\n", "/run/secrets/t")).toThrow(/shorter than 16 bytes/);
    expect(() => keyFromToken("short-secret\n", "/run/secrets/t")).not.toThrow(/short-secret/);
    expect(keyFromToken("  0123456789abcdef0123\n", "f").toString()).toBe("0123456789abcdef0123");
  });

  it("binds an answer's signature to the request's nonce, status and body", () => {
    const s = responseSignature(key, "ab".repeat(16), 200, "{}");
    expect(responseSignature(key, "cd".repeat(16), 200, "{}")).not.toBe(s);
    expect(responseSignature(key, "ab".repeat(16), 404, "{}")).not.toBe(s);
    expect(responseSignature(key, "ab".repeat(16), 200, "{ }")).not.toBe(s);
    expect(responseSignature(other, "ab".repeat(16), 200, "{}")).not.toBe(s);
  });
});
