"""The API's operations as transport-free request descriptions.

Each function here describes one request (method, path, query, body) and
how to read its answer; ``SandboxAgent`` sends it with httpx' sync client,
``AsyncSandboxAgent`` with the async one, so both clients share every
detail of the wire format.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from . import models as m

T = TypeVar("T")
API = "/v1"

#: A request body: a model of the API or a mapping of its fields (by the API's names).
Body = BaseModel | Mapping[str, Any]
#: Raw bytes for file uploads: bytes, or an iterable of chunks (streamed).
RawBody = bytes | Iterable[bytes] | AsyncIterable[bytes]
QueryValue = str | int | bool | None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Mapping[str, QueryValue] = field(default_factory=dict)
    json: Any = None
    content: RawBody | None = None
    content_type: str | None = None
    accept: str = "application/json"
    #: The call may install an agent first: it gets the client's install_timeout.
    installs: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"Accept": self.accept}
        if self.json is not None:
            headers["Content-Type"] = "application/json"
        elif self.content is not None:
            headers["Content-Type"] = self.content_type or "application/octet-stream"
        return headers

    def query(self) -> dict[str, str]:
        """The query parameters that are set, as the server spells them."""
        out: dict[str, str] = {}
        for key, value in self.params.items():
            if value is None:
                continue
            out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def url(self) -> str:
        return API + self.path


def seg(value: str) -> str:
    """One escaped path segment."""
    return quote(value, safe="")


def body(request: Body | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body from a model or mapping plus keyword fields (which win)."""
    if request is None:
        out: dict[str, Any] = {}
    elif isinstance(request, BaseModel):
        out = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    else:
        out = dict(request)
    out.update(fields)
    return {key: _jsonable(value) for key, value in out.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _model(adapter: TypeAdapter[T]) -> Callable[[httpx.Response], T]:
    def read(response: httpx.Response) -> T:
        return adapter.validate_json(response.content)

    return read


def _none(response: httpx.Response) -> None:
    return None


def _bytes(response: httpx.Response) -> bytes:
    return response.content


_entries: TypeAdapter[list[m.FsEntry] | None] = TypeAdapter(list[m.FsEntry] | None)


def _fs_entries(response: httpx.Response) -> list[m.FsEntry]:
    return _entries.validate_json(response.content) or []


_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _of(model: type[T]) -> Callable[[httpx.Response], T]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return _model(adapter)


def fs_params(path: str | None, session_id: str | None, **extra: QueryValue) -> dict[str, QueryValue]:
    return {"path": path, "sessionId": session_id, **extra}


# ---- meta and agents


def get_health() -> Call[m.HealthResponse]:
    return Call("GET", "/health", _of(m.HealthResponse))


def list_agents() -> Call[m.AgentListResponse]:
    return Call("GET", "/agents", _of(m.AgentListResponse))


def install_agent(agent: str, request: Body | None, fields: Mapping[str, Any]) -> Call[None]:
    return Call("POST", f"/agents/{seg(agent)}/install", _none, json=body(request, fields), installs=True)


def get_agent_modes(agent: str) -> Call[m.AgentModesResponse]:
    return Call("GET", f"/agents/{seg(agent)}/modes", _of(m.AgentModesResponse))


def get_agent_models(agent: str) -> Call[m.AgentModelsResponse]:
    return Call("GET", f"/agents/{seg(agent)}/models", _of(m.AgentModelsResponse))


# ---- sessions


def create_session(session_id: str, request: Body | None, fields: Mapping[str, Any]) -> Call[m.CreateSessionResponse]:
    json = body(request, fields)
    return Call("POST", f"/sessions/{seg(session_id)}", _of(m.CreateSessionResponse), json=json, installs=True)


def list_sessions(
    agent: str | None, status: str | None, since: int | None, limit: int | None, cursor: str | None
) -> Call[m.SessionListResponse]:
    params = {"agent": agent, "status": status, "since": since, "limit": limit, "cursor": cursor}
    return Call("GET", "/sessions", _of(m.SessionListResponse), params=params)


def get_session(session_id: str) -> Call[m.SessionInfo]:
    return Call("GET", f"/sessions/{seg(session_id)}", _of(m.SessionInfo))


def delete_session(session_id: str) -> Call[None]:
    return Call("DELETE", f"/sessions/{seg(session_id)}", _none)


def interrupt_session(session_id: str) -> Call[None]:
    return Call("POST", f"/sessions/{seg(session_id)}/interrupt", _none)


def terminate_session(session_id: str) -> Call[None]:
    return Call("POST", f"/sessions/{seg(session_id)}/terminate", _none)


def post_message(session_id: str, request: Body | None, fields: Mapping[str, Any]) -> Call[None]:
    return Call("POST", f"/sessions/{seg(session_id)}/messages", _none, json=body(request, fields))


def post_message_stream(
    session_id: str, request: Body | None, fields: Mapping[str, Any], include_raw: bool | None
) -> Call[None]:
    return Call(
        "POST",
        f"/sessions/{seg(session_id)}/messages/stream",
        _none,
        params={"include_raw": include_raw},
        json=body(request, fields),
        accept="text/event-stream",
    )


def get_events(
    session_id: str, offset: int | None, limit: int | None, include_raw: bool | None
) -> Call[m.EventsResponse]:
    params = {"offset": offset, "limit": limit, "include_raw": include_raw}
    return Call("GET", f"/sessions/{seg(session_id)}/events", _of(m.EventsResponse), params=params)


def get_events_sse(session_id: str, offset: int | None, include_raw: bool | None) -> Call[None]:
    params = {"offset": offset, "include_raw": include_raw}
    return Call("GET", f"/sessions/{seg(session_id)}/events/sse", _none, params=params, accept="text/event-stream")


# ---- human in the loop


def reply_question(session_id: str, question_id: str, request: Body | None, fields: Mapping[str, Any]) -> Call[None]:
    path = f"/sessions/{seg(session_id)}/questions/{seg(question_id)}/reply"
    return Call("POST", path, _none, json=body(request, fields))


def reject_question(session_id: str, question_id: str) -> Call[None]:
    return Call("POST", f"/sessions/{seg(session_id)}/questions/{seg(question_id)}/reject", _none)


def reply_permission(
    session_id: str, permission_id: str, request: Body | None, fields: Mapping[str, Any]
) -> Call[None]:
    path = f"/sessions/{seg(session_id)}/permissions/{seg(permission_id)}/reply"
    return Call("POST", path, _none, json=body(request, fields))


# ---- file system


def list_fs_entries(path: str | None, session_id: str | None) -> Call[list[m.FsEntry]]:
    return Call("GET", "/fs/entries", _fs_entries, params=fs_params(path, session_id))


def read_fs_file(path: str, session_id: str | None) -> Call[bytes]:
    params = fs_params(path, session_id)
    return Call("GET", "/fs/file", _bytes, params=params, accept="application/octet-stream")


def write_fs_file(path: str, content: RawBody, session_id: str | None) -> Call[m.FsWriteResponse]:
    params = fs_params(path, session_id)
    return Call("PUT", "/fs/file", _of(m.FsWriteResponse), params=params, content=content)


def delete_fs_entry(path: str, recursive: bool | None, session_id: str | None) -> Call[m.FsActionResponse]:
    params = fs_params(path, session_id, recursive=recursive)
    return Call("DELETE", "/fs/entry", _of(m.FsActionResponse), params=params)


def mkdir_fs(path: str, session_id: str | None) -> Call[m.FsActionResponse]:
    return Call("POST", "/fs/mkdir", _of(m.FsActionResponse), params=fs_params(path, session_id))


def move_fs(request: Body | None, fields: Mapping[str, Any], session_id: str | None) -> Call[m.FsMoveResponse]:
    params = fs_params(None, session_id)
    return Call("POST", "/fs/move", _of(m.FsMoveResponse), params=params, json=body(request, fields))


def stat_fs(path: str, session_id: str | None) -> Call[m.FsStat]:
    return Call("GET", "/fs/stat", _of(m.FsStat), params=fs_params(path, session_id))


def upload_fs_batch(
    content: RawBody, path: str | None, session_id: str | None, content_type: str
) -> Call[m.FsUploadBatchResponse]:
    params = fs_params(path, session_id)
    return Call(
        "POST", "/fs/upload-batch", _of(m.FsUploadBatchResponse), params=params, content=content, content_type=content_type
    )
