// http probe: one request, bounded in time (the check's signal) and in size (MAX_BODY_BYTES).
import { parseStatusExpectation } from "../api/probe-rules.js";
import type { CheckContext, CheckResult, ProbeRunner } from "./types.js";
import { clip, errorText } from "./types.js";
import type { DefaultedProbe } from "../api/types.js";

/** The most of a response body a check reads: more is a failure, never a memory hazard. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads at most `max` bytes; `undefined` when the body is larger. */
export async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Buffer | undefined> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return undefined;
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

/** Pure: does a response (status, body) meet the expectation? */
export function judgeResponse(
  expect: { status?: number | string; body?: string } | undefined,
  status: number,
  body: string | undefined,
): CheckResult {
  const accepts = parseStatusExpectation(expect?.status ?? "2xx");
  if (!accepts(status)) return { ok: false, message: `status ${status}, expected ${expect?.status ?? "2xx"}` };
  if (expect?.body !== undefined) {
    if (body === undefined || !new RegExp(expect.body).test(body))
      return {
        ok: false,
        message: `status ${status}, body does not match /${expect.body}/: "${clip(body ?? "", 80)}"`,
      };
  }
  return { ok: true, message: `status ${status}` };
}

export const httpRunner: ProbeRunner = {
  async check(probe: DefaultedProbe, ctx: CheckContext): Promise<CheckResult> {
    const h = probe.http;
    if (!h) return { ok: false, message: "not an http probe" };
    const what = `${h.method} ${h.url}`;
    try {
      const res = await fetch(h.url, {
        method: h.method,
        headers: Object.fromEntries(Object.entries(h.headers ?? {}).filter((e): e is [string, string] => !!e[1])),
        ...(h.body !== undefined ? { body: h.body } : {}),
        redirect: "manual",
        signal: ctx.signal,
      });
      const body = await readCapped(res.body, MAX_BODY_BYTES);
      if (body === undefined) return { ok: false, message: `${what}: response body larger than 1 MiB` };
      const judged = judgeResponse(h.expect, res.status, body.toString("utf8"));
      return { ok: judged.ok, message: `${what}: ${judged.message}` };
    } catch (err) {
      if (ctx.signal.aborted) return { ok: false, message: `${what}: no answer within ${ctx.timeoutMs} ms` };
      return { ok: false, message: `${what}: ${errorText(err)}` };
    }
  },
};
