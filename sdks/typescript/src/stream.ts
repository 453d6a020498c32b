// Event streams that survive dropped connections. The server numbers each
// session's events (sequence) and replays those after an offset, so a
// stream resumes after the last event it yielded: none lost, none twice.
import type { SandboxAgent } from "./client.js";
import { SandboxAgentError } from "./errors.js";
import { readSse } from "./sse.js";
import type { MessageRequest, UniversalEvent } from "./types.js";

/** How a stream reconnects after a dropped connection. */
export interface ReconnectOptions {
  /** Delay before the first retry (doubles per failed try). Default 250 ms. */
  initialDelayMs?: number;
  /** Longest delay between tries. Default 5 000 ms. */
  maxDelayMs?: number;
  /** Tries in a row without receiving an event before the error is thrown. Default 10. */
  maxAttempts?: number;
}

/** Options of `streamEvents`. */
export interface StreamEventsOptions {
  /** Start after this sequence (0, the default, replays every event). */
  offset?: number;
  /** Include each event's native payload in `raw`. */
  includeRaw?: boolean;
  /** Ends the stream. */
  signal?: AbortSignal;
  /** Reconnect after a dropped connection (default), or `false` to end instead. */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Reconnect when nothing, not even the server's 15 s keep-alive, arrived
   * for this long: a connection that died without TCP noticing. Default
   * 60 000 ms; 0 waits forever.
   */
  idleTimeoutMs?: number;
  /** Accepted for compatibility with `EventsQuery`; an event stream has no limit. */
  limit?: number;
}

/** Options of `streamTurn` beyond the original's `includeRaw`. */
export interface StreamTurnOptions {
  includeRaw?: boolean;
  /** How the turn is resumed after a dropped connection; see {@link StreamEventsOptions.reconnect}. */
  reconnect?: boolean | ReconnectOptions;
  /** See {@link StreamEventsOptions.idleTimeoutMs}. */
  idleTimeoutMs?: number;
}

const defaultIdleTimeoutMs = 60_000;

/** The event types after which the server closes a turn stream. */
export const turnStopTypes: ReadonlySet<string> = new Set([
  "turn.ended",
  "session.ended",
  "error",
  "agent.unparsed",
  "permission.requested",
  "question.requested",
]);

interface Cursor {
  /** The last sequence yielded. */
  last: number;
  /** Consecutive failed connections. */
  failures: number;
}

/** Implements SandboxAgent.streamEvents. */
export async function* eventStream(
  client: SandboxAgent,
  sessionId: string,
  options: StreamEventsOptions,
): AsyncGenerator<UniversalEvent, void, undefined> {
  const cursor: Cursor = { last: options.offset ?? 0, failures: 0 };
  yield* follow(client, sessionId, cursor, options, () => false);
}

/** Implements SandboxAgent.streamTurn. */
export async function* turnStream(
  client: SandboxAgent,
  sessionId: string,
  request: MessageRequest,
  options: StreamTurnOptions,
  signal: AbortSignal | undefined,
): AsyncGenerator<UniversalEvent, void, undefined> {
  const res = await client.postMessageStream(sessionId, request, { includeRaw: options.includeRaw }, signal);
  // The turn stream starts after the session's last event before the
  // message, a sequence the client never sees: until the first event
  // arrives there is nothing to resume from.
  const cursor: Cursor = { last: -1, failures: 0 };
  const stop = (ev: UniversalEvent) => turnStopTypes.has(ev.type);
  try {
    if (yield* relay(res, cursor, options.idleTimeoutMs, signal, stop)) return;
  } catch (err) {
    if (signal?.aborted) return;
    if (err instanceof StreamProtocolError || cursor.last < 0 || options.reconnect === false) throw err;
  }
  if (signal?.aborted || options.reconnect === false) return;
  if (cursor.last < 0) throw new Error(`the turn stream of session ${sessionId} closed before its first event`);
  yield* follow(client, sessionId, cursor, { ...options, signal }, stop);
}

/** An event stream carried something that is not an event; reconnecting would not help. */
export class StreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamProtocolError";
  }
}

// follow streams the session's events after cursor.last, reconnecting after
// a dropped connection, until stop(event) is true, the signal aborts, or an
// error cannot be retried.
async function* follow(
  client: SandboxAgent,
  sessionId: string,
  cursor: Cursor,
  options: StreamEventsOptions,
  stop: (ev: UniversalEvent) => boolean,
): AsyncGenerator<UniversalEvent, void, undefined> {
  const { signal } = options;
  const retry = retryPolicy(options.reconnect);
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) return;
    if (cursor.failures > 0) {
      if (!retry || cursor.failures > retry.maxAttempts) {
        throw lastError ?? new Error(`the event stream of session ${sessionId} kept closing without events`);
      }
      await sleep(Math.min(retry.initialDelayMs * 2 ** (cursor.failures - 1), retry.maxDelayMs), signal);
      if (signal?.aborted) return;
    }
    let res: Response;
    try {
      res = await client.getEventsSse(sessionId, { offset: cursor.last, includeRaw: options.includeRaw }, signal);
    } catch (err) {
      if (signal?.aborted) return;
      if (!retryable(err)) throw err;
      lastError = err;
      cursor.failures++;
      continue;
    }
    lastError = undefined;
    try {
      if (yield* relay(res, cursor, options.idleTimeoutMs, signal, stop)) return;
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof StreamProtocolError) throw err;
      lastError = err;
    }
    if (!retry) {
      if (lastError) throw lastError;
      return;
    }
    cursor.failures++;
  }
}

// relay yields the events of one connection; it returns true when the
// stream is over (a stop event was yielded, or the signal aborted) and false
// when the connection ended first.
async function* relay(
  res: Response,
  cursor: Cursor,
  idleTimeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  stop: (ev: UniversalEvent) => boolean,
): AsyncGenerator<UniversalEvent, boolean, undefined> {
  for await (const ev of events(res, cursor, idleTimeoutMs)) {
    if (signal?.aborted) return true;
    yield ev;
    if (stop(ev)) return true;
  }
  return false;
}

// events parses an SSE response into events, skipping any at or before
// cursor.last (a replay overlapping what was already yielded) and moving the
// cursor past each one it yields.
async function* events(
  res: Response,
  cursor: Cursor,
  idleTimeoutMs = defaultIdleTimeoutMs,
): AsyncGenerator<UniversalEvent, void, undefined> {
  if (!res.body) throw new StreamProtocolError("the event stream has no readable body in this runtime");
  for await (const message of readSse(res.body, { idleTimeoutMs })) {
    if (message.event !== "message") continue; // a kind of frame this SDK does not know
    let ev: UniversalEvent;
    try {
      ev = JSON.parse(message.data) as UniversalEvent;
    } catch {
      throw new StreamProtocolError(`the event stream sent data that is not JSON: ${message.data.slice(0, 200)}`);
    }
    if (typeof ev?.sequence === "number") {
      if (cursor.last >= 0 && ev.sequence <= cursor.last) continue;
      cursor.last = ev.sequence;
    }
    cursor.failures = 0;
    yield ev;
  }
}

interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

function retryPolicy(reconnect: StreamEventsOptions["reconnect"]): RetryPolicy | undefined {
  if (reconnect === false) return undefined;
  const o = typeof reconnect === "object" ? reconnect : {};
  return { initialDelayMs: o.initialDelayMs ?? 250, maxDelayMs: o.maxDelayMs ?? 5_000, maxAttempts: o.maxAttempts ?? 10 };
}

// retryable says whether a failed connection may succeed when tried again:
// network errors and server-side or throttling answers may; other answers
// (unknown session, bad token …) will not.
function retryable(err: unknown): boolean {
  if (err instanceof SandboxAgentError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
