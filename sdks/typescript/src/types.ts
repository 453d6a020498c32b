// The SDK's public types. Wire shapes come from the generated spec types
// (src/generated/openapi.ts); this file names them and makes the event and
// content unions open: a newer server may send event types, content part
// types and fields this SDK does not know yet, and they must pass through.
import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];

export type AgentCapabilities = Schemas["AgentCapabilities"];
export type AgentError = Schemas["AgentError"];
export type AgentInfo = Schemas["AgentInfo"];
export type AgentInstallRequest = Schemas["AgentInstallRequest"];
// The spec marks list fields nullable (how the Go side describes slices);
// the server sends [] and the client turns a null into [] all the same, so
// these are plain arrays.
type Lists<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };

export type AgentListResponse = Lists<Schemas["AgentListResponse"], "agents">;
export type AgentModeInfo = Schemas["AgentModeInfo"];
export type AgentModelInfo = Schemas["AgentModelInfo"];
export type AgentModelsResponse = Lists<Schemas["AgentModelsResponse"], "models">;
export type AgentModesResponse = Lists<Schemas["AgentModesResponse"], "modes">;
export type CreateSessionRequest = Schemas["CreateSessionRequest"];
export type CreateSessionResponse = Schemas["CreateSessionResponse"];
export type FsActionResponse = Schemas["FsActionResponse"];
export type FsEntry = Schemas["FsEntry"];
export type FsMoveRequest = Schemas["FsMoveRequest"];
export type FsMoveResponse = Schemas["FsMoveResponse"];
export type FsStat = Schemas["FsStat"];
export type FsUploadBatchResponse = Lists<Schemas["FsUploadBatchResponse"], "paths">;
export type FsWriteResponse = Schemas["FsWriteResponse"];
export type HealthResponse = Schemas["HealthResponse"];
export type McpServerConfig = Schemas["McpServerConfig"];
export type MessageAttachment = Schemas["MessageAttachment"];
export type MessageRequest = Schemas["MessageRequest"];
export type PermissionReplyRequest = Schemas["PermissionReplyRequest"];
export type PermissionReply = PermissionReplyRequest["reply"];
export type ProblemDetails = Schemas["ProblemDetails"];
export type QuestionReplyRequest = Schemas["QuestionReplyRequest"];
export type ServerStatusInfo = Schemas["ServerStatusInfo"];
export type SessionInfo = Schemas["SessionInfo"];
export type SessionListResponse = Lists<Schemas["SessionListResponse"], "sessions">;
export type SkillSource = Schemas["SkillSource"];
export type SkillsConfig = Schemas["SkillsConfig"];
export type StderrOutput = Schemas["StderrOutput"];

// Event data shapes, one per event type.
export type SessionStartedData = Schemas["SessionStartedData"];
export type SessionEndedData = Schemas["SessionEndedData"];
export type TurnEventData = Schemas["TurnEventData"];
export type ItemEventData = Omit<Schemas["ItemEventData"], "item"> & { item: UniversalItem };
export type ItemDeltaData = Schemas["ItemDeltaData"];
export type ErrorData = Schemas["ErrorData"];
export type PermissionEventData = Schemas["PermissionEventData"];
export type QuestionEventData = Schemas["QuestionEventData"];
export type AgentUnparsedData = Schemas["AgentUnparsedData"];

/** A content part of a type this SDK knows. */
export type KnownContentPart = Schemas["ContentPart"];
/** The content part types this SDK knows. */
export type KnownContentPartType = KnownContentPart["type"];
/** A content part of a type added after this SDK was built. */
export interface UnknownContentPart {
  type: string;
  [field: string]: unknown;
}
/**
 * One piece of an item's content. Narrow it with {@link isContentPart};
 * parts of unknown types are kept as they came.
 */
export type ContentPart = KnownContentPart | UnknownContentPart;

/** An item (message, tool call, tool result, status …) of the transcript. */
export type UniversalItem = Omit<Schemas["UniversalItem"], "content"> & {
  content: ContentPart[] | null;
};

/** The event types this SDK knows. */
export type KnownEventType = Schemas["UniversalEvent"]["type"];

/** Maps each known event type to the shape of its `data`. */
export interface EventDataMap {
  "session.started": SessionStartedData;
  "session.ended": SessionEndedData;
  "turn.started": TurnEventData;
  "turn.ended": TurnEventData;
  "item.started": ItemEventData;
  "item.delta": ItemDeltaData;
  "item.completed": ItemEventData;
  error: ErrorData;
  "permission.requested": PermissionEventData;
  "permission.resolved": PermissionEventData;
  "question.requested": QuestionEventData;
  "question.resolved": QuestionEventData;
  "agent.unparsed": AgentUnparsedData;
}

/** The envelope fields every event has. */
export type EventEnvelope = Omit<Schemas["UniversalEvent"], "type" | "data">;

/** An event of a known type, with its `data` typed. */
export type TypedEvent<T extends KnownEventType> = EventEnvelope & { type: T; data: EventDataMap[T] };

/**
 * An event of a known type. After {@link isKnownEvent}, a `switch` on
 * `event.type` narrows `event.data`.
 */
export type KnownEvent = { [T in KnownEventType]: TypedEvent<T> }[KnownEventType];

/**
 * One event of a session's transcript, as the server sends it. `type` may be
 * one this SDK does not know (a newer server); narrow with
 * {@link isEventType} or {@link isKnownEvent} to get typed `data`.
 */
export type UniversalEvent = EventEnvelope & {
  type: KnownEventType | (string & {});
  data: EventDataMap[KnownEventType] | Record<string, unknown> | null;
};

/** A page of a session's events. */
export type EventsResponse = Omit<Schemas["EventsResponse"], "events"> & {
  events: UniversalEvent[];
};

const knownEventTypes: ReadonlySet<string> = new Set<KnownEventType>([
  "session.started",
  "session.ended",
  "turn.started",
  "turn.ended",
  "item.started",
  "item.delta",
  "item.completed",
  "error",
  "permission.requested",
  "permission.resolved",
  "question.requested",
  "question.resolved",
  "agent.unparsed",
]);

/** Says whether an event is of the given type, narrowing its `data`. */
export function isEventType<T extends KnownEventType>(event: UniversalEvent, type: T): event is TypedEvent<T> {
  return event.type === type;
}

/** Says whether this SDK knows the event's type; then `switch (event.type)` narrows `data`. */
export function isKnownEvent(event: UniversalEvent): event is KnownEvent {
  return knownEventTypes.has(event.type);
}

/** Says whether a content part is of the given type, narrowing it. */
export function isContentPart<T extends KnownContentPartType>(
  part: ContentPart,
  type: T,
): part is Extract<KnownContentPart, { type: T }> {
  return part.type === type;
}

// Query parameters, in the SDK's (camelCase) spelling.

/** Paging of `getEvents`, and the start of `getEventsSse`. */
export interface EventsQuery {
  /** Only events with a sequence greater than this (exclusive). */
  offset?: number;
  /** At most this many events (`getEvents` only). */
  limit?: number;
  /** Include each event's native payload in `raw`. */
  includeRaw?: boolean;
}

/** Paging and filters of `listSessions` (all optional). */
export interface ListSessionsQuery {
  /** Only sessions of this agent. */
  agent?: string;
  /** Only sessions in this state. */
  status?: "live" | "detached" | "ended";
  /** Only sessions updated at or after this time (Unix epoch milliseconds). */
  since?: number;
  /** At most this many sessions; `nextCursor` of the response continues the list. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** Options of `postMessageStream` and `streamTurn`. */
export interface TurnStreamQuery {
  includeRaw?: boolean;
}

/** Scopes a file-system call to a session's working directory. */
export interface FsSessionQuery {
  /** Relative paths resolve against this session's directory (else the server's home). */
  sessionId?: string;
}

export interface FsPathQuery extends FsSessionQuery {
  path: string;
}

export interface FsEntriesQuery extends FsSessionQuery {
  /** Directory to list (default `.`). */
  path?: string;
}

export interface FsDeleteQuery extends FsPathQuery {
  /** Remove a directory and everything in it. */
  recursive?: boolean;
}

export interface FsUploadBatchQuery extends FsSessionQuery {
  /** Directory to unpack into (default `.`). */
  path?: string;
}
