// A recording fetch for unit tests of request building and response
// handling; the integration tests use the real server.
export interface Recorded {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

export type Responder = (req: Recorded, call: number) => Response | Promise<Response>;

export function fakeFetch(respond: Responder = () => new Response(null, { status: 204 })) {
  const calls: Recorded[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const body = init?.body;
    const rec: Recorded = {
      url: new URL(String(input)),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof body === "string" ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : undefined,
    };
    calls.push(rec);
    const signal = init?.signal;
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    // Like a real fetch, an abort rejects a request still waiting for its answer.
    const aborted = new Promise<never>((_, reject) =>
      signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")), { once: true }),
    );
    return Promise.race([respond(rec, calls.length - 1), aborted]);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}

/**
 * An SSE response whose body delivers the given chunks, then ends, errors
 * (`fail`) or goes silent without closing (`stall`).
 */
export function sse(chunks: string[], opts: { fail?: boolean; stall?: boolean } = {}): Response {
  const enc = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        controller.enqueue(enc.encode(chunks[i++]!));
      } else if (opts.stall) {
        return new Promise<void>(() => {});
      } else if (opts.fail) {
        controller.error(new TypeError("terminated"));
      } else {
        controller.close();
      }
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

/** One SSE frame as the server writes it. */
export function frame(event: { sequence: number; type?: string; [k: string]: unknown }): string {
  const ev = { type: "item.delta", data: {}, ...event };
  return `id: ${ev.sequence}\ndata: ${JSON.stringify(ev)}\n\n`;
}
