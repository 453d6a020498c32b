import { describe, expect, it } from "vitest";
import { SandboxAgent, type UniversalEvent, isContentPart, isEventType, isKnownEvent } from "../../src/index.js";
import { type Responder, fakeFetch, frame, json, sse } from "./fake-fetch.js";

const fast = { initialDelayMs: 1, maxDelayMs: 2 };

async function client(respond: Responder) {
  const f = fakeFetch(respond);
  return { sdk: await SandboxAgent.connect({ baseUrl: "http://x.test", fetch: f.fetch }), calls: f.calls };
}

async function take(it: AsyncIterable<UniversalEvent>, n = Infinity): Promise<UniversalEvent[]> {
  const out: UniversalEvent[] = [];
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= n) break;
  }
  return out;
}

const notFound = () =>
  json({ type: "urn:sandbox-agent:error:session_not_found", title: "Session Not Found", status: 404, detail: "session not found: s" }, 404);

describe("streamEvents", () => {
  it("resumes after a dropped connection from the last sequence, without gap or duplicate", async () => {
    const { sdk, calls } = await client((_req, call) => {
      if (call === 0) return sse([frame({ sequence: 1 }), frame({ sequence: 2 })], { fail: true });
      if (call === 1) return sse([frame({ sequence: 2 }), frame({ sequence: 3 }) + frame({ sequence: 4 })]);
      return notFound();
    });
    const seen: number[] = [];
    const err = await (async () => {
      for await (const ev of sdk.streamEvents("s", { reconnect: fast })) seen.push(ev.sequence);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(err).toMatchObject({ name: "SandboxAgentError", status: 404 });
    expect(calls.map((c) => c.url.searchParams.get("offset"))).toEqual(["0", "2", "4"]);
    expect(calls.every((c) => c.url.pathname === "/v1/sessions/s/events/sse")).toBe(true);
    expect(calls[0]!.headers.get("accept")).toBe("text/event-stream");
  });

  it("starts after the given offset and passes includeRaw", async () => {
    const { sdk, calls } = await client(() => sse([frame({ sequence: 11 })]));
    const got = await take(sdk.streamEvents("s", { offset: 10, includeRaw: true }), 1);
    expect(got.map((e) => e.sequence)).toEqual([11]);
    expect(calls[0]!.url.search).toBe("?offset=10&includeRaw=true");
  });

  it("accepts the original (sessionId, query, signal) call", async () => {
    const ac = new AbortController();
    const { sdk } = await client(() => sse([frame({ sequence: 1 }), frame({ sequence: 2 })]));
    const seen: number[] = [];
    for await (const ev of sdk.streamEvents("s", { offset: 0 }, ac.signal)) {
      seen.push(ev.sequence);
      ac.abort();
    }
    expect(seen).toEqual([1]);
  });

  it("ends quietly when the signal aborts while waiting", async () => {
    const ac = new AbortController();
    const { sdk } = await client(
      (_req, call) =>
        call === 0
          ? sse([frame({ sequence: 1 })], { fail: true })
          : new Promise<Response>(() => {}), // never answers
    );
    const seen: number[] = [];
    const done = (async () => {
      for await (const ev of sdk.streamEvents("s", { signal: ac.signal, reconnect: fast })) seen.push(ev.sequence);
    })();
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await expect(done).resolves.toBeUndefined();
    expect(seen).toEqual([1]);
  });

  it("throws a dropped connection when reconnect is off", async () => {
    const { sdk, calls } = await client(() => sse([frame({ sequence: 1 })], { fail: true }));
    await expect(take(sdk.streamEvents("s", { reconnect: false }))).rejects.toThrow("terminated");
    expect(calls).toHaveLength(1);
  });

  it("gives up after maxAttempts failed connections in a row", async () => {
    const { sdk, calls } = await client(() => {
      throw new TypeError("connect ECONNREFUSED");
    });
    await expect(take(sdk.streamEvents("s", { reconnect: { ...fast, maxAttempts: 3 } }))).rejects.toThrow("ECONNREFUSED");
    expect(calls).toHaveLength(4);
  });

  it("retries 503 answers but not 401", async () => {
    const { sdk, calls } = await client((_req, call) =>
      call === 0 ? json({ type: "x", title: "Unavailable", status: 503 }, 503) : json({ type: "x", title: "Token Invalid", status: 401 }, 401),
    );
    await expect(take(sdk.streamEvents("s", { reconnect: fast }))).rejects.toMatchObject({ status: 401 });
    expect(calls).toHaveLength(2);
  });

  it("passes unknown event types, fields and content parts through unchanged", async () => {
    const future = {
      sequence: 1,
      type: "plan.updated",
      data: { steps: ["a"] },
      new_envelope_field: 42,
    };
    const item = {
      sequence: 2,
      type: "item.completed",
      data: {
        item: {
          item_id: "i",
          native_item_id: null,
          parent_id: null,
          kind: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "text", text: "hi" }, { type: "hologram", frames: 3 }],
          added_later: true,
        },
      },
    };
    const { sdk } = await client(() => sse([frame(future), frame(item), "event: ping\ndata: {}\n\n"]));
    const got = await take(sdk.streamEvents("s", { reconnect: false }));
    expect(got).toEqual([
      future,
      { ...item },
    ]);
    expect(isKnownEvent(got[0]!)).toBe(false);
    expect(isKnownEvent(got[1]!)).toBe(true);
    const ev = got[1]!;
    if (!isEventType(ev, "item.completed")) throw new Error("narrowing failed");
    const parts = ev.data.item.content ?? [];
    expect(parts.filter((p) => isContentPart(p, "text")).map((p) => p.text)).toEqual(["hi"]);
    expect(parts[1]).toEqual({ type: "hologram", frames: 3 });
  });

  it("reconnects a connection that went silent (no keep-alive) after idleTimeoutMs", async () => {
    const { sdk, calls } = await client((_req, call) =>
      call === 0 ? sse([frame({ sequence: 1 })], { stall: true }) : sse([frame({ sequence: 2 })]),
    );
    const got = await take(sdk.streamEvents("s", { idleTimeoutMs: 30, reconnect: fast }), 2);
    expect(got.map((e) => e.sequence)).toEqual([1, 2]);
    expect(calls.map((c) => c.url.searchParams.get("offset"))).toEqual(["0", "1"]);
  });

  it("refuses data that is not JSON instead of reconnecting", async () => {
    const { sdk, calls } = await client(() => sse(["data: {oops\n\n"]));
    await expect(take(sdk.streamEvents("s"))).rejects.toMatchObject({ name: "StreamProtocolError" });
    expect(calls).toHaveLength(1);
  });
});

describe("streamTurn", () => {
  const turn = (...types: string[]) => types.map((type, i) => frame({ sequence: i + 5, type }));

  it("sends the message and ends at the first stop event", async () => {
    const { sdk, calls } = await client(() =>
      sse(turn("turn.started", "item.started", "permission.requested", "item.delta")),
    );
    const got = await take(sdk.streamTurn("s", { message: "hi" }, { includeRaw: true }));
    expect(got.map((e) => e.type)).toEqual(["turn.started", "item.started", "permission.requested"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe("POST");
    expect(calls[0]!.url.pathname + calls[0]!.url.search).toBe("/v1/sessions/s/messages/stream?includeRaw=true");
    expect(JSON.parse(calls[0]!.body!)).toEqual({ message: "hi" });
  });

  it("resumes a cut turn from the events stream up to the turn's end", async () => {
    const { sdk, calls } = await client((_req, call) => {
      if (call === 0) return sse(turn("turn.started", "item.started"), { fail: true });
      return sse([frame({ sequence: 6, type: "item.started" }), frame({ sequence: 7, type: "item.completed" }), frame({ sequence: 8, type: "turn.ended" }), frame({ sequence: 9, type: "turn.started" })]);
    });
    const got = await take(sdk.streamTurn("s", { message: "hi" }));
    expect(got.map((e) => [e.sequence, e.type])).toEqual([
      [5, "turn.started"],
      [6, "item.started"],
      [7, "item.completed"],
      [8, "turn.ended"],
    ]);
    expect(calls[1]!.url.pathname + calls[1]!.url.search).toBe("/v1/sessions/s/events/sse?offset=6");
  });

  it("cannot resume a turn cut before its first event", async () => {
    const { sdk, calls } = await client(() => sse([], { fail: true }));
    await expect(take(sdk.streamTurn("s", { message: "hi" }))).rejects.toThrow("terminated");
    expect(calls).toHaveLength(1);
  });
});
