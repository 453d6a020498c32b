import { describe, expect, it } from "vitest";
import { SseIdleTimeoutError, type SseMessage, SseParser, readSse } from "../../src/index.js";

function parse(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const p = new SseParser((m) => out.push(m));
  for (const c of chunks) p.feed(c);
  p.end();
  return out;
}

// every way of cutting a text into two chunks
function splits(text: string): string[][] {
  const out: string[][] = [];
  for (let i = 0; i <= text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe("SseParser", () => {
  it("parses one event", () => {
    expect(parse(['data: {"a":1}\n\n'])).toEqual([{ data: '{"a":1}', event: "message", id: "" }]);
  });

  it("parses several events with ids", () => {
    const got = parse(["id: 1\ndata: one\n\nid: 2\ndata: two\n\n"]);
    expect(got.map((m) => [m.id, m.data])).toEqual([
      ["1", "one"],
      ["2", "two"],
    ]);
  });

  it("gives the same events however the stream is chunked", () => {
    const text = "id: 7\r\ndata: {\"x\": \"a:b\"}\r\n\r\n: keep-alive\n\nevent: custom\ndata:line1\ndata: line2\r\rdata: last\n\n";
    const want = parse([text]);
    expect(want).toEqual([
      { data: '{"x": "a:b"}', event: "message", id: "7" },
      { data: "line1\nline2", event: "custom", id: "7" },
      { data: "last", event: "message", id: "7" },
    ]);
    for (const chunks of splits(text)) expect(parse(chunks)).toEqual(want);
    expect(parse([...text])).toEqual(want); // one character at a time
  });

  it("treats CRLF, CR and LF alike, also when a CRLF is split across chunks", () => {
    const lf = parse(["data: a\n\ndata: b\n\n"]);
    expect(parse(["data: a\r\n\r\ndata: b\r\n\r\n"])).toEqual(lf);
    expect(parse(["data: a\r\r", "data: b\r\r"])).toEqual(lf);
    expect(parse(["data: a\r", "\n\r", "\ndata: b\r\n", "\r\n"])).toEqual(lf);
  });

  it("ignores comments, unknown fields and lines without data", () => {
    expect(parse([": keep-alive\n\nfoo: bar\nretry\n\nid: 3\n\n"])).toEqual([]);
  });

  it("keeps the last id for later events and reads retry", () => {
    const got = parse(["id: 5\ndata: a\n\nretry: 1500\ndata: b\n\nretry: soon\ndata: c\n\n"]);
    expect(got).toEqual([
      { data: "a", event: "message", id: "5" },
      { data: "b", event: "message", id: "5", retry: 1500 },
      { data: "c", event: "message", id: "5" },
    ]);
  });

  it("drops only the first space after the colon, and reads a field without a colon", () => {
    expect(parse(["data:  two spaces\ndata\n\n"])).toEqual([{ data: " two spaces\n", event: "message", id: "" }]);
  });

  it("drops an event the stream ended in the middle of", () => {
    expect(parse(["data: complete\n\ndata: partial\n"])).toEqual([{ data: "complete", event: "message", id: "" }]);
  });

  it("strips a byte order mark", () => {
    expect(parse(["\uFEFFdata: x\n\n"])).toEqual([{ data: "x", event: "message", id: "" }]);
  });

  it("handles an empty stream", () => {
    expect(parse([])).toEqual([]);
    expect(parse([""])).toEqual([]);
  });
});

describe("readSse", () => {
  const body = (chunks: Uint8Array[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });

  it("decodes UTF-8 split inside a character", async () => {
    const bytes = new TextEncoder().encode('data: {"t":"héllo ✓"}\n\n');
    const at = bytes.indexOf(0xe2) + 1; // inside the 3-byte check mark
    const got: SseMessage[] = [];
    for await (const m of readSse(body([bytes.slice(0, 8), bytes.slice(8, at), bytes.slice(at)]))) got.push(m);
    expect(got.map((m) => JSON.parse(m.data))).toEqual([{ t: "héllo ✓" }]);
  });

  it("throws SseIdleTimeoutError when the stream goes silent, but keep-alives keep it open", async () => {
    const enc = new TextEncoder();
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (n++ < 5) {
          await new Promise((r) => setTimeout(r, 10));
          c.enqueue(enc.encode(": keep-alive\n\n"));
        } else if (n === 6) {
          c.enqueue(enc.encode("data: after\n\n"));
        } else {
          await new Promise(() => {}); // silent from now on
        }
      },
    });
    const got: string[] = [];
    const err = await (async () => {
      for await (const m of readSse(stream, { idleTimeoutMs: 40 })) got.push(m.data);
    })().catch((e: unknown) => e);
    expect(got).toEqual(["after"]);
    expect(err).toBeInstanceOf(SseIdleTimeoutError);
  });

  it("yields events of the last chunk and cancels the body when left early", async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("data: 1\n\ndata: 2\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const m of readSse(stream)) {
      expect(m.data).toBe("1");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
