"""Models of the sandbox-agent API, generated from docs/openapi.json.

Do not edit: ``make openapi`` regenerates it (sdks/python/scripts/generate_models.py).
"""

from __future__ import annotations

from typing import Callable, Union, Annotated, Any, Literal

from pydantic import Discriminator, Tag, BaseModel, ConfigDict, Field, RootModel


class AgentCapabilities(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    commandExecution: bool
    errorEvents: bool
    fileAttachments: bool
    fileChanges: bool
    images: bool
    itemStarted: bool
    mcpTools: bool
    permissions: bool
    planMode: bool
    questions: bool
    reasoning: bool
    sessionLifecycle: bool
    sharedProcess: bool
    status: bool
    streamingDeltas: bool
    textMessages: bool
    toolCalls: bool
    toolResults: bool


class AgentError(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agent: str | None = None
    details: Any | None = None
    message: str
    session_id: str | None = None
    type: str


class AgentInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    capabilities: AgentCapabilities
    credentialsAvailable: bool
    id: str
    installed: bool
    path: str | None = None
    serverStatus: ServerStatusInfo | None = None
    version: str | None = None


class AgentInstallRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agentVersion: str | None = None
    """
    Version to install; the newest when absent.
    """
    reinstall: bool | None = None


class AgentListResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agents: list[AgentInfo] | None


class AgentModeInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    description: str
    id: str
    name: str


class AgentModelInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    defaultVariant: str | None = None
    id: str
    name: str | None = None
    variants: list[str] | None = None


class AgentModelsResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    defaultModel: str | None = None
    models: list[AgentModelInfo] | None


class AgentModesResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    modes: list[AgentModeInfo] | None


class AgentUnparsedData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    error: str
    location: str
    raw_hash: str | None


class CreateSessionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agent: str
    """
    Agent id: claude, codex, opencode, amp, an ACP agent (opencode-acp, gemini, codex-acp, claude-acp) or mock.
    """
    agentMode: str | None = None
    agentVersion: str | None = None
    directory: str | None = None
    """
    Working directory of the agent; the server's when absent.
    """
    mcp: dict[str, McpServerConfig] | None = None
    model: str | None = None
    permissionMode: str | None = None
    """
    default, plan, bypass or acceptEdits.
    """
    skills: SkillsConfig | None = None
    title: str | None = None
    variant: str | None = None


class CreateSessionResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    error: AgentError | None = None
    healthy: bool
    nativeSessionId: str | None = None


class ErrorData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    code: str | None
    details: Any
    message: str


class EventEnvelope(BaseModel):
    """
    The fields every event has.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    event_id: str
    native_session_id: str | None
    raw: Any
    """
    Native payload when include_raw=true, else null.
    """
    sequence: Annotated[int, Field(ge=0)]
    session_id: str
    source: str
    """
    One of ``agent``, ``daemon`` (or a value added later).
    """
    synthetic: bool
    time: str


class AgentUnparsedEvent(EventEnvelope):
    """
    A ``agent.unparsed`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["agent.unparsed"]
    data: AgentUnparsedData


class ErrorEvent(EventEnvelope):
    """
    A ``error`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["error"]
    data: ErrorData


class EventsResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    events: list[UniversalEvent] | None
    hasMore: bool


class FileRefPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    action: str
    """
    One of ``read``, ``write``, ``patch`` (or a value added later).
    """
    diff: str | None
    path: str
    type: Literal["file_ref"]


class FsActionResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    path: str


class FsEntry(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: str
    """
    One of ``file``, ``directory`` (or a value added later).
    """
    modified: str | None = None
    name: str
    path: str
    size: Annotated[int, Field(ge=0)]


class FsMoveRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    from_: Annotated[str, Field(alias="from")]
    overwrite: bool | None = None
    to: str


class FsMoveResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    from_: Annotated[str, Field(alias="from")]
    to: str


class FsStat(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    entryType: str
    """
    One of ``file``, ``directory`` (or a value added later).
    """
    modified: str | None = None
    path: str
    size: Annotated[int, Field(ge=0)]


class FsUploadBatchResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    paths: list[str] | None
    truncated: bool


class FsWriteResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    bytesWritten: Annotated[int, Field(ge=0)]
    path: str


class HealthResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    status: Annotated[str, Field(examples=["ok"])]


class ImagePart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    mime: str | None
    path: str
    type: Literal["image"]


class ItemCompletedEvent(EventEnvelope):
    """
    A ``item.completed`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["item.completed"]
    data: ItemEventData


class ItemDeltaData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    delta: str
    item_id: str
    native_item_id: str | None


class ItemDeltaEvent(EventEnvelope):
    """
    A ``item.delta`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["item.delta"]
    data: ItemDeltaData


class ItemEventData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    item: UniversalItem


class ItemStartedEvent(EventEnvelope):
    """
    A ``item.started`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["item.started"]
    data: ItemEventData


class JsonPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    json_: Annotated[Any, Field(alias="json")]
    type: Literal["json"]


class McpLocalServerConfig(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    args: list[str] | None = None
    command: str | list[str]
    cwd: str | None = None
    enabled: bool | None = None
    env: dict[str, str] | None = None
    timeoutMs: Annotated[int | None, Field(ge=0)] = None
    type: Literal["local", "stdio"]


class McpRemoteServerConfig(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    bearerTokenEnvVar: str | None = None
    enabled: bool | None = None
    envHeaders: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    oauth: bool | Oauth | None = None
    timeoutMs: Annotated[int | None, Field(ge=0)] = None
    transport: Literal["http", "sse"] | None = None
    type: Literal["remote", "http"]
    url: str


class McpServerConfig(RootModel[McpLocalServerConfig | McpRemoteServerConfig]):
    root: McpLocalServerConfig | McpRemoteServerConfig


class MessageAttachment(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    filename: str | None = None
    mime: str | None = None
    path: str


class MessageRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    attachments: list[MessageAttachment] | None = None
    message: str


class Oauth(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    clientId: str | None = None
    clientSecret: str | None = None
    scope: str | None = None


class PermissionEventData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    action: str
    metadata: Any
    permission_id: str
    reason: str | None = None
    status: str


class PermissionReplyRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    reply: Literal["once", "always", "reject"]


class PermissionRequestedEvent(EventEnvelope):
    """
    A ``permission.requested`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["permission.requested"]
    data: PermissionEventData


class PermissionResolvedEvent(EventEnvelope):
    """
    A ``permission.resolved`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["permission.resolved"]
    data: PermissionEventData


class ProblemDetails(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agent: str | None = None
    detail: str | None = None
    details: dict[str, Any] | None = None
    sessionId: str | None = None
    status: int
    title: str
    type: str


class QuestionEventData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    metadata: Any | None = None
    options: list[str] | None
    prompt: str
    question_id: str
    reason: str | None = None
    response: str | None
    status: str


class QuestionReplyRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    answers: list[list[str] | None] | None


class QuestionRequestedEvent(EventEnvelope):
    """
    A ``question.requested`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["question.requested"]
    data: QuestionEventData


class QuestionResolvedEvent(EventEnvelope):
    """
    A ``question.resolved`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["question.resolved"]
    data: QuestionEventData


class ReasoningPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    text: str
    type: Literal["reasoning"]
    visibility: str
    """
    One of ``public``, ``private`` (or a value added later).
    """


class ServerStatusInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    baseUrl: str | None = None
    lastError: str | None = None
    restartCount: Annotated[int, Field(ge=0)]
    status: str
    """
    One of ``running``, ``stopped``, ``error`` (or a value added later).
    """
    uptimeMs: Annotated[int | None, Field(ge=0)] = None


class SessionEndedData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    exit_code: int | None = None
    message: str | None = None
    reason: str
    stderr: StderrOutput | None = None
    terminated_by: str


class SessionEndedEvent(EventEnvelope):
    """
    A ``session.ended`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["session.ended"]
    data: SessionEndedData


class SessionInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    agent: str
    agentMetadata: Any | None = None
    agentMode: str
    createdAt: int
    """
    Unix epoch milliseconds.
    """
    detached: bool | None = None
    directory: str | None
    ended: bool
    eventCount: Annotated[int, Field(ge=0)]
    mcp: dict[str, McpServerConfig] | None = None
    model: str | None
    nativeSessionId: str | None
    permissionMode: str
    sessionId: str
    skills: SkillsConfig | None = None
    title: str | None
    updatedAt: int
    """
    Unix epoch milliseconds.
    """
    variant: str | None


class SessionListResponse(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    nextCursor: str | None = None
    sessions: list[SessionInfo] | None


class SessionStartedData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    metadata: Any


class SessionStartedEvent(EventEnvelope):
    """
    A ``session.started`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["session.started"]
    data: SessionStartedData


class SkillSource(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    ref: str | None = None
    skills: list[str] | None = None
    source: str
    subpath: str | None = None
    type: str
    """
    github, git or local
    """


class SkillsConfig(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    sources: list[SkillSource] | None


class StatusPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    detail: str | None
    label: str
    type: Literal["status"]


class StderrOutput(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    head: str | None = None
    tail: str | None = None
    total_lines: int | None = None
    truncated: bool


class TextPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    text: str
    type: Literal["text"]


class ToolCallPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    arguments: str
    """
    JSON-encoded arguments
    """
    call_id: str
    name: str
    type: Literal["tool_call"]


class ToolResultPart(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    call_id: str
    output: str
    type: Literal["tool_result"]


class TurnEndedEvent(EventEnvelope):
    """
    A ``turn.ended`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["turn.ended"]
    data: TurnEventData


class TurnEventData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    metadata: Any | None = None
    phase: str
    turn_id: str | None = None


class TurnStartedEvent(EventEnvelope):
    """
    A ``turn.started`` event.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Literal["turn.started"]
    data: TurnEventData


class UniversalItem(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    content: list[ContentPart] | None
    item_id: str
    kind: str
    native_item_id: str | None
    parent_id: str | None
    role: str | None
    status: str


class UnknownContentPart(BaseModel):
    """
    A content part of a type this SDK does not know; its fields are kept as extra fields.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: str


class UnknownEvent(EventEnvelope):
    """
    An event of a type this SDK does not know; ``data`` is kept as it came.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: str
    data: Any


_PART_TYPES = frozenset({'text', 'json', 'tool_call', 'tool_result', 'file_ref', 'reasoning', 'image', 'status'})
_EVENT_TYPES = frozenset({'session.started', 'session.ended', 'turn.started', 'turn.ended', 'item.started', 'item.delta', 'item.completed', 'error', 'permission.requested', 'permission.resolved', 'question.requested', 'question.resolved', 'agent.unparsed'})


def _tag(known: frozenset[str]) -> Callable[[Any], str]:
    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if isinstance(kind, str) and kind in known else "unknown"

    return tag


ContentPart = Annotated[
    Union[
        Annotated[TextPart, Tag("text")],
        Annotated[JsonPart, Tag("json")],
        Annotated[ToolCallPart, Tag("tool_call")],
        Annotated[ToolResultPart, Tag("tool_result")],
        Annotated[FileRefPart, Tag("file_ref")],
        Annotated[ReasoningPart, Tag("reasoning")],
        Annotated[ImagePart, Tag("image")],
        Annotated[StatusPart, Tag("status")],
        Annotated[UnknownContentPart, Tag("unknown")],
    ],
    Discriminator(_tag(_PART_TYPES)),
]
"""One piece of an item's content, by its ``type``; ``UnknownContentPart`` for a type this SDK does not know."""

KnownEvent = Union[
    SessionStartedEvent,
    SessionEndedEvent,
    TurnStartedEvent,
    TurnEndedEvent,
    ItemStartedEvent,
    ItemDeltaEvent,
    ItemCompletedEvent,
    ErrorEvent,
    PermissionRequestedEvent,
    PermissionResolvedEvent,
    QuestionRequestedEvent,
    QuestionResolvedEvent,
    AgentUnparsedEvent,
]
"""An event of a type this SDK knows."""

UniversalEvent = Annotated[
    Union[
        Annotated[SessionStartedEvent, Tag("session.started")],
        Annotated[SessionEndedEvent, Tag("session.ended")],
        Annotated[TurnStartedEvent, Tag("turn.started")],
        Annotated[TurnEndedEvent, Tag("turn.ended")],
        Annotated[ItemStartedEvent, Tag("item.started")],
        Annotated[ItemDeltaEvent, Tag("item.delta")],
        Annotated[ItemCompletedEvent, Tag("item.completed")],
        Annotated[ErrorEvent, Tag("error")],
        Annotated[PermissionRequestedEvent, Tag("permission.requested")],
        Annotated[PermissionResolvedEvent, Tag("permission.resolved")],
        Annotated[QuestionRequestedEvent, Tag("question.requested")],
        Annotated[QuestionResolvedEvent, Tag("question.resolved")],
        Annotated[AgentUnparsedEvent, Tag("agent.unparsed")],
        Annotated[UnknownEvent, Tag("unknown")],
    ],
    Discriminator(_tag(_EVENT_TYPES)),
]
"""One event of a session's transcript, by its ``type`` (``UnknownEvent`` for a type this SDK does not know)."""

EVENT_TYPES: frozenset[str] = _EVENT_TYPES
"""The event types this SDK knows."""

CONTENT_PART_TYPES: frozenset[str] = _PART_TYPES
"""The content part types this SDK knows."""

for _model in list(globals().values()):
    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model.__module__ == __name__:
        _model.model_rebuild()
