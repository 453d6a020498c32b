import { SandboxAgentError, readProblem } from "./errors.js";
import type { SandboxAgentSpawnHandle, SandboxAgentSpawnOptions } from "./spawn.js";
import { type StreamEventsOptions, type StreamTurnOptions, eventStream, turnStream } from "./stream.js";
import type {
  AgentInstallRequest,
  AgentListResponse,
  AgentModelsResponse,
  AgentModesResponse,
  CreateSessionRequest,
  CreateSessionResponse,
  EventsQuery,
  EventsResponse,
  FsActionResponse,
  FsDeleteQuery,
  FsEntriesQuery,
  FsEntry,
  FsMoveRequest,
  FsMoveResponse,
  FsPathQuery,
  FsSessionQuery,
  FsStat,
  FsUploadBatchQuery,
  FsUploadBatchResponse,
  FsWriteResponse,
  HealthResponse,
  ListSessionsQuery,
  MessageRequest,
  PermissionReplyRequest,
  QuestionReplyRequest,
  SessionInfo,
  SessionListResponse,
  TurnStreamQuery,
  UniversalEvent,
} from "./types.js";

const api = "/v1";

/** How to reach a running server. */
export interface SandboxAgentConnectOptions {
  /** The server's address, e.g. `http://127.0.0.1:2468` (a trailing slash is ignored). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** Headers added to every request (e.g. for a proxy in front of the server). */
  headers?: HeadersLike;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** How to start an embedded server (Node, Bun and Deno only). */
export interface SandboxAgentStartOptions {
  /** Spawn options, or `true` for the defaults. */
  spawn?: SandboxAgentSpawnOptions | boolean;
  fetch?: typeof fetch;
  headers?: HeadersLike;
}

/**
 * A raw request body: bytes (a Uint8Array or Node Buffer), an ArrayBuffer,
 * a string, a Blob or a ReadableStream.
 */
export type FsBody = NonNullable<RequestInit["body"]> | Uint8Array;

/** Headers as `new Headers(...)` takes them (an object, a list of pairs or a Headers). */
export type HeadersLike = ConstructorParameters<typeof Headers>[0];

/** Options of `uploadFsBatch`. */
export interface UploadFsBatchOptions {
  /** `application/x-tar` (default) or `application/gzip` for a .tar.gz body. */
  contentType?: "application/x-tar" | "application/gzip";
  signal?: AbortSignal;
}

type QueryValue = string | number | boolean | null | undefined;

interface RequestOptions {
  query?: object;
  /** A JSON body. */
  json?: unknown;
  /** A raw body with its content type. */
  body?: FsBody;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/**
 * A client of one sandbox-agent server. Create it with
 * {@link SandboxAgent.connect} (a server that is already running) or
 * {@link SandboxAgent.start} (spawn one, Node only). Failed requests throw
 * {@link SandboxAgentError}.
 */
export class SandboxAgent {
  /** The server's address, without a trailing slash. */
  readonly baseUrl: string;
  /** The bearer token this client sends (for an embedded server: the one it generated). */
  readonly token?: string;
  private readonly fetcher: typeof fetch;
  private readonly defaultHeaders?: HeadersLike;
  private spawnHandle?: SandboxAgentSpawnHandle;

  private constructor(options: SandboxAgentConnectOptions) {
    if (!options.baseUrl) throw new TypeError("baseUrl is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    if (!options.fetch && typeof globalThis.fetch !== "function") throw new Error("no fetch in this runtime: pass options.fetch");
    // The global fetch called as a method of another object throws "Illegal
    // invocation" in browsers: bind it.
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.defaultHeaders = options.headers;
  }

  /** Returns a client of a server that is already running. */
  static async connect(options: SandboxAgentConnectOptions): Promise<SandboxAgent> {
    return new SandboxAgent(options);
  }

  /**
   * Spawns `sandbox-agent server` on a free loopback port with a fresh
   * token, waits until it is healthy and returns a client of it.
   * `dispose()` stops the server; so does the end of this process.
   */
  static async start(options: SandboxAgentStartOptions = {}): Promise<SandboxAgent> {
    const spawn = typeof options.spawn === "object" ? options.spawn : { enabled: options.spawn ?? true };
    if (spawn.enabled === false) throw new Error("SandboxAgent.start needs spawn enabled; use SandboxAgent.connect");
    const { spawnSandboxAgent } = await import("./spawn.js");
    const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    const handle = await spawnSandboxAgent(spawn, fetcher);
    const client = new SandboxAgent({ baseUrl: handle.baseUrl, token: handle.token, fetch: options.fetch, headers: options.headers });
    client.spawnHandle = handle;
    return client;
  }

  /** The embedded server's process, when this client started one. */
  get process(): SandboxAgentSpawnHandle["child"] | undefined {
    return this.spawnHandle?.child;
  }

  /** Stops the embedded server, if this client started one. Safe to call twice. */
  async dispose(): Promise<void> {
    const handle = this.spawnHandle;
    this.spawnHandle = undefined;
    await handle?.dispose();
  }

  // ---- meta and agents

  /** `GET /v1/health` (never needs the token). */
  async getHealth(): Promise<HealthResponse> {
    return this.json("GET", "/health");
  }

  /** Lists the agents with install status, version and capabilities. */
  async listAgents(): Promise<AgentListResponse> {
    return lists(await this.json("GET", "/agents"), "agents");
  }

  /** Installs (or with `reinstall: true` reinstalls) an agent. */
  async installAgent(agent: string, request: AgentInstallRequest = {}): Promise<void> {
    await this.json("POST", `/agents/${seg(agent)}/install`, { json: request });
  }

  async getAgentModes(agent: string): Promise<AgentModesResponse> {
    return lists(await this.json("GET", `/agents/${seg(agent)}/modes`), "modes");
  }

  async getAgentModels(agent: string): Promise<AgentModelsResponse> {
    return lists(await this.json("GET", `/agents/${seg(agent)}/models`), "models");
  }

  // ---- sessions

  /** Creates a session with the id you choose. */
  async createSession(sessionId: string, request: CreateSessionRequest): Promise<CreateSessionResponse> {
    return this.json("POST", `/sessions/${seg(sessionId)}`, { json: request });
  }

  /**
   * Lists sessions, newest first (ended ones included). Optional paging and
   * filters: `limit` with `cursor` (a previous page's `nextCursor`), `agent`,
   * `status` (live, detached, ended) and `since` (updated at or after, Unix ms).
   */
  async listSessions(query: ListSessionsQuery = {}): Promise<SessionListResponse> {
    return lists(await this.json("GET", "/sessions", { query }), "sessions");
  }

  /** One session's state. */
  async getSession(sessionId: string): Promise<SessionInfo> {
    return this.json("GET", `/sessions/${seg(sessionId)}`);
  }

  /** Ends the session (its agent process stops) and forgets it with its events. */
  async deleteSession(sessionId: string): Promise<void> {
    await this.json("DELETE", `/sessions/${seg(sessionId)}`);
  }

  /** Stops the running turn; the session stays usable. */
  async interruptSession(sessionId: string): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/interrupt`);
  }

  /** Ends the session; its events stay readable. */
  async terminateSession(sessionId: string): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/terminate`);
  }

  /** Sends a message; returns once the agent accepted it (the turn runs on). */
  async postMessage(sessionId: string, request: MessageRequest): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/messages`, { json: request });
  }

  /**
   * Sends a message and returns the raw SSE response of its turn. Most
   * callers want {@link streamTurn}, which parses it and survives a dropped
   * connection.
   */
  async postMessageStream(
    sessionId: string,
    request: MessageRequest,
    query?: TurnStreamQuery,
    signal?: AbortSignal,
  ): Promise<Response> {
    return this.raw("POST", `/sessions/${seg(sessionId)}/messages/stream`, {
      query: { includeRaw: query?.includeRaw },
      json: request,
      accept: "text/event-stream",
      signal,
    });
  }

  /** A page of a session's events: those after `offset`, at most `limit`. */
  async getEvents(sessionId: string, query?: EventsQuery): Promise<EventsResponse> {
    return lists(await this.json("GET", `/sessions/${seg(sessionId)}/events`, { query }), "events");
  }

  /**
   * The raw SSE response of a session's events after `offset` (replay, then
   * live). Most callers want {@link streamEvents}.
   */
  async getEventsSse(
    sessionId: string,
    query?: EventsQuery,
    signal?: AbortSignal,
  ): Promise<Response> {
    return this.raw("GET", `/sessions/${seg(sessionId)}/events/sse`, {
      query: { offset: query?.offset, includeRaw: query?.includeRaw },
      accept: "text/event-stream",
      signal,
    });
  }

  /**
   * A session's events after `offset`, replayed then live, as an async
   * iterator that never ends by itself. After a dropped connection it
   * reconnects and resumes after the last event it yielded: no event is
   * lost or repeated. It ends when `signal` aborts or the loop is left, and
   * throws when the server answers with an error (e.g. the session is gone)
   * or cannot be reached after `reconnect.maxAttempts` tries.
   */
  streamEvents(
    sessionId: string,
    options: StreamEventsOptions = {},
    signal?: AbortSignal,
  ): AsyncGenerator<UniversalEvent, void, undefined> {
    return eventStream(this, sessionId, { ...options, signal: signal ?? options.signal });
  }

  /**
   * Sends a message and yields the events of the turn it starts, up to and
   * including the first `turn.ended`, `session.ended`, `error`,
   * `agent.unparsed`, `permission.requested` or `question.requested` (after
   * answering a request, follow the turn with {@link streamEvents}). A
   * message queued behind a running turn yields nothing of that turn. A
   * dropped connection is resumed without loss once the first event arrived.
   */
  streamTurn(
    sessionId: string,
    request: MessageRequest,
    options?: TurnStreamQuery & StreamTurnOptions,
    signal?: AbortSignal,
  ): AsyncGenerator<UniversalEvent, void, undefined> {
    return turnStream(this, sessionId, request, options ?? {}, signal);
  }

  // ---- human in the loop

  /** Answers a question: one array of chosen labels per question asked. */
  async replyQuestion(sessionId: string, questionId: string, request: QuestionReplyRequest): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/questions/${seg(questionId)}/reply`, { json: request });
  }

  /** Declines to answer a question. */
  async rejectQuestion(sessionId: string, questionId: string): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/questions/${seg(questionId)}/reject`);
  }

  /** Answers a permission request: `once`, `always` (for this session) or `reject`. */
  async replyPermission(sessionId: string, permissionId: string, request: PermissionReplyRequest): Promise<void> {
    await this.json("POST", `/sessions/${seg(sessionId)}/permissions/${seg(permissionId)}/reply`, { json: request });
  }

  // ---- file system

  /** Lists a directory (default: the session's, or the server's home). */
  async listFsEntries(query: FsEntriesQuery = {}): Promise<FsEntry[]> {
    return (await this.json<FsEntry[] | null>("GET", "/fs/entries", { query })) ?? [];
  }

  /** Reads a file's bytes (decode text with `new TextDecoder().decode(bytes)`). */
  async readFsFile(query: FsPathQuery): Promise<Uint8Array> {
    const res = await this.raw("GET", "/fs/file", { query, accept: "application/octet-stream" });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Writes a file (parents are created, an existing file is replaced). */
  async writeFsFile(query: FsPathQuery, body: FsBody): Promise<FsWriteResponse> {
    return this.json("PUT", "/fs/file", { query, body, contentType: "application/octet-stream" });
  }

  /** Deletes a file, an empty directory, or with `recursive` any directory. */
  async deleteFsEntry(query: FsDeleteQuery): Promise<FsActionResponse> {
    return this.json("DELETE", "/fs/entry", { query });
  }

  /** Creates a directory and its parents. */
  async mkdirFs(query: FsPathQuery): Promise<FsActionResponse> {
    return this.json("POST", "/fs/mkdir", { query });
  }

  /** Moves or renames; `overwrite` replaces an existing destination. */
  async moveFs(request: FsMoveRequest, query?: FsSessionQuery): Promise<FsMoveResponse> {
    return this.json("POST", "/fs/move", { query, json: request });
  }

  async statFs(query: FsPathQuery): Promise<FsStat> {
    return this.json("GET", "/fs/stat", { query });
  }

  /** Unpacks a tar (or with `contentType: "application/gzip"` a .tar.gz) archive into a directory. */
  async uploadFsBatch(
    body: FsBody,
    query?: FsUploadBatchQuery,
    options: UploadFsBatchOptions = {},
  ): Promise<FsUploadBatchResponse> {
    const res = await this.json<FsUploadBatchResponse>("POST", "/fs/upload-batch", {
      query,
      body,
      contentType: options.contentType ?? "application/x-tar",
      signal: options.signal,
    });
    return lists(res, "paths");
  }

  // ---- transport

  // url builds the URL of an API path with its query (unset values are left out).
  private url(path: string, query?: object): string {
    const url = new URL(`${this.baseUrl}${api}${path}`);
    for (const [key, value] of Object.entries(query ?? {}) as [string, QueryValue][]) {
      if (value === undefined || value === null) continue;
      url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  // raw sends a request and throws SandboxAgentError on a non-2xx answer.
  private async raw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers = new Headers(this.defaultHeaders);
    if (this.token) headers.set("Authorization", `Bearer ${this.token}`);
    headers.set("Accept", options.accept ?? "application/json");
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: options.signal };
    if (options.json !== undefined) {
      headers.set("Content-Type", "application/json");
      init.body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers.set("Content-Type", options.contentType ?? "application/octet-stream");
      init.body = options.body as RequestInit["body"];
      // A ReadableStream body needs half duplex in Node's fetch.
      if (typeof ReadableStream !== "undefined" && options.body instanceof ReadableStream) init.duplex = "half";
    }
    const res = await this.fetcher(this.url(path, options.query), init);
    if (!res.ok) {
      const { problem, body } = await readProblem(res);
      throw new SandboxAgentError(res.status, problem, res, body);
    }
    return res;
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, options);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

// lists turns the named list fields of an answer from null (or absent)
// into [], so callers can iterate them without a check.
function lists<T extends object, K extends keyof T>(value: T, ...keys: K[]): T {
  if (value && typeof value === "object") for (const key of keys) value[key] ??= [] as T[K];
  return value;
}

// seg escapes one path segment.
function seg(value: string): string {
  return encodeURIComponent(value);
}
