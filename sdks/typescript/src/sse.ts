// A server-sent events parser following the WHATWG event-stream rules:
// lines end in CRLF, LF or CR (also when a CR and its LF arrive in different
// chunks), `data:` lines join with "\n", one leading space after the colon
// is dropped, comments (":") and unknown fields are ignored, and an event
// still open when the stream ends is discarded. It has no dependency and no
// runtime-specific API, so it runs wherever fetch streams do.

/** One dispatched server-sent event. */
export interface SseMessage {
  /** The event's data (its `data:` lines joined by "\n"). */
  data: string;
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The last event id seen on the stream so far (the `id:` field). */
  id: string;
  /** A `retry:` reconnection delay in milliseconds, when the event set one. */
  retry?: number;
}

/** Incremental parser: feed it text as it arrives, it calls `onMessage` per event. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private lastId = "";
  private retry: number | undefined;
  private sawCR = false;
  private started = false;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  /** Feeds the next chunk of decoded text. */
  feed(chunk: string): void {
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.sawCR && chunk.startsWith("\n")) chunk = chunk.slice(1); // the LF of a CRLF split across chunks
    this.sawCR = false;
    let text = this.buffer + chunk;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) this.sawCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    text = text.slice(start);
    this.buffer = text;
  }

  /** Ends the stream: a partly received event is dropped, as the spec says. */
  end(): void {
    this.buffer = "";
    this.data = [];
    this.event = "";
    this.retry = undefined;
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event;
    const retry = this.retry;
    this.data = [];
    this.event = "";
    this.retry = undefined;
    if (data.length === 0) return;
    const message: SseMessage = { data: data.join("\n"), event: event || "message", id: this.lastId };
    if (retry !== undefined) message.retry = retry;
    this.onMessage(message);
  }
}

/** Thrown by {@link readSse} when the stream stayed silent longer than its idle timeout. */
export class SseIdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`no data (not even a keep-alive) for ${ms} ms: the connection is presumed dead`);
    this.name = "SseIdleTimeoutError";
  }
}

/** Options of {@link readSse}. */
export interface ReadSseOptions {
  /**
   * Give up when no bytes arrive for this long (the server sends a
   * keep-alive comment every 15 s, so silence means a dead connection that
   * TCP has not noticed). 0 or absent: wait forever.
   */
  idleTimeoutMs?: number;
}

/**
 * Reads a response body as server-sent events. The iteration ends when the
 * body ends; leaving the loop early cancels the body.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  options: ReadSseOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: SseMessage[] = [];
  const parser = new SseParser((m) => queue.push(m));
  const idle = options.idleTimeoutMs ?? 0;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = idle > 0 ? await withTimeout(reader.read(), idle) : await reader.read();
      if (done) finished = true;
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
      if (done) {
        parser.end();
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SseIdleTimeoutError(ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
