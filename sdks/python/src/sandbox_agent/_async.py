"""The asynchronous client: the same methods as SandboxAgent, awaitable."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

import httpx
from httpx_sse import EventSource, SSEError

from . import _calls as ops
from . import models as m
from ._base import DEFAULT_IDLE_TIMEOUT, DEFAULT_TIMEOUT, ClientBase, ClientConfig, build_request
from ._calls import Body, Call
from ._embedded import EmbeddedServer, LogMode
from ._stream import TURN_STOP_TYPES, Cursor, Reconnect, parse_event, stream_timeout
from .errors import SandboxAgentError, StreamProtocolError

T = TypeVar("T")


class AsyncSandboxAgent(ClientBase):
    """The asyncio client of one sandbox-agent server; see :class:`SandboxAgent`
    for what each method does. Use it as an async context manager (or
    ``await close()``) to release its connections and stop an embedded server.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        install_timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(ClientConfig(base_url, token, headers, timeout, install_timeout))
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=self._config.headers,
            timeout=self._config.timeout,
            transport=transport,
        )

    @classmethod
    async def connect(cls, base_url: str, token: str | None = None, **options: Any) -> AsyncSandboxAgent:
        """A client of a server that is already running (the same as the constructor)."""
        return cls(base_url, token, **options)

    @classmethod
    async def start(
        cls,
        *,
        binary: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        token: str | None = None,
        log: LogMode = "inherit",
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        start_timeout: float = 15.0,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        install_timeout: float | httpx.Timeout | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncSandboxAgent:
        """Spawns ``sandbox-agent server`` and waits until it is healthy; see :meth:`SandboxAgent.start`."""
        server = EmbeddedServer(binary=binary, host=host, port=port, token=token, log=log, env=env, args=args)
        try:
            await asyncio.to_thread(server.wait_ready, start_timeout)
        except BaseException:
            await asyncio.to_thread(server.stop)
            raise
        client = cls(server.base_url, server.token, headers=headers, timeout=timeout, install_timeout=install_timeout)
        client._server = server
        return client

    async def close(self) -> None:
        """Closes the connections and stops the embedded server, if any. Safe to call twice."""
        await self._http.aclose()
        server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(server.stop)

    async def __aenter__(self) -> AsyncSandboxAgent:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---- transport

    async def _send(self, call: Call[T]) -> T:
        timeout = self._config.install_timeout if call.installs else None
        response = await self._http.send(build_request(self._http, call, timeout))
        if not response.is_success:
            raise SandboxAgentError.from_response(response)
        return call.read(response)

    @asynccontextmanager
    async def _stream(self, call: Call[Any], idle_timeout: float | None) -> AsyncIterator[AsyncIterator[m.UniversalEvent]]:
        request = build_request(self._http, call, stream_timeout(self._config.timeout, idle_timeout))
        response = await self._http.send(request, stream=True)
        try:
            if not response.is_success:
                await response.aread()
                raise SandboxAgentError.from_response(response)
            yield _events(response)
        finally:
            await response.aclose()

    # ---- meta and agents

    async def get_health(self) -> m.HealthResponse:
        return await self._send(ops.get_health())

    async def list_agents(self) -> m.AgentListResponse:
        return await self._send(ops.list_agents())

    async def install_agent(self, agent: str, request: Body | None = None, /, **fields: Any) -> None:
        await self._send(ops.install_agent(agent, request, fields))

    async def get_agent_modes(self, agent: str) -> m.AgentModesResponse:
        return await self._send(ops.get_agent_modes(agent))

    async def get_agent_models(self, agent: str) -> m.AgentModelsResponse:
        return await self._send(ops.get_agent_models(agent))

    # ---- sessions

    async def create_session(
        self, session_id: str, request: Body | None = None, /, **fields: Any
    ) -> m.CreateSessionResponse:
        return await self._send(ops.create_session(session_id, request, fields))

    async def list_sessions(
        self,
        *,
        agent: str | None = None,
        status: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> m.SessionListResponse:
        return await self._send(ops.list_sessions(agent, status, since, limit, cursor))

    async def get_session(self, session_id: str) -> m.SessionInfo:
        return await self._send(ops.get_session(session_id))

    async def delete_session(self, session_id: str) -> None:
        await self._send(ops.delete_session(session_id))

    async def interrupt_session(self, session_id: str) -> None:
        await self._send(ops.interrupt_session(session_id))

    async def terminate_session(self, session_id: str) -> None:
        await self._send(ops.terminate_session(session_id))

    async def post_message(self, session_id: str, request: Body | None = None, /, **fields: Any) -> None:
        await self._send(ops.post_message(session_id, request, fields))

    @asynccontextmanager
    async def post_message_stream(
        self,
        session_id: str,
        request: Body | None = None,
        /,
        *,
        include_raw: bool | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        **fields: Any,
    ) -> AsyncIterator[AsyncIterator[m.UniversalEvent]]:
        call = ops.post_message_stream(session_id, request, fields, include_raw)
        async with self._stream(call, idle_timeout) as events:
            yield events

    async def get_events(
        self,
        session_id: str,
        *,
        offset: int | None = None,
        limit: int | None = None,
        include_raw: bool | None = None,
    ) -> m.EventsResponse:
        return await self._send(ops.get_events(session_id, offset, limit, include_raw))

    @asynccontextmanager
    async def get_events_sse(
        self,
        session_id: str,
        *,
        offset: int | None = None,
        include_raw: bool | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    ) -> AsyncIterator[AsyncIterator[m.UniversalEvent]]:
        async with self._stream(ops.get_events_sse(session_id, offset, include_raw), idle_timeout) as events:
            yield events

    def stream_events(
        self,
        session_id: str,
        *,
        offset: int = 0,
        include_raw: bool | None = None,
        reconnect: bool | Reconnect = True,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    ) -> AsyncIterator[m.UniversalEvent]:
        """An async iterator over a session's events that resumes after dropped
        connections; see :meth:`SandboxAgent.stream_events`."""
        return self._follow(session_id, Cursor(offset, reconnect), include_raw, idle_timeout)

    async def stream_turn(
        self,
        session_id: str,
        request: Body | None = None,
        /,
        *,
        include_raw: bool | None = None,
        reconnect: bool | Reconnect = True,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        **fields: Any,
    ) -> AsyncIterator[m.UniversalEvent]:
        """Sends a message and yields the events of its turn; see :meth:`SandboxAgent.stream_turn`."""
        cursor = Cursor(-1, reconnect, _stops)
        call = ops.post_message_stream(session_id, request, fields, include_raw)
        try:
            async with self._stream(call, idle_timeout) as events:
                async for event in events:
                    if cursor.accept(event):
                        yield event
                        if cursor.stop(event):
                            return
        except (httpx.TransportError, StreamProtocolError) as err:
            if cursor.last < 0:
                raise
            cursor.failed(err)
        else:
            if cursor.last >= 0 and cursor.ended():
                return
        if cursor.last < 0:
            raise StreamProtocolError(f"the turn stream of session {session_id} closed before its first event")
        async for event in self._follow(session_id, cursor, include_raw, idle_timeout):
            yield event

    async def _follow(
        self, session_id: str, cursor: Cursor, include_raw: bool | None, idle_timeout: float | None
    ) -> AsyncIterator[m.UniversalEvent]:
        while True:
            delay = cursor.delay(session_id)
            if delay:
                await asyncio.sleep(delay)
            try:
                async with self.get_events_sse(
                    session_id, offset=cursor.last, include_raw=include_raw, idle_timeout=idle_timeout
                ) as events:
                    async for event in events:
                        if cursor.accept(event):
                            yield event
                            if cursor.stop(event):
                                return
            except (httpx.TransportError, SandboxAgentError, StreamProtocolError) as err:
                cursor.failed(err)
                continue
            if cursor.ended():
                return

    # ---- human in the loop

    async def reply_question(
        self, session_id: str, question_id: str, request: Body | None = None, /, **fields: Any
    ) -> None:
        await self._send(ops.reply_question(session_id, question_id, request, fields))

    async def reject_question(self, session_id: str, question_id: str) -> None:
        await self._send(ops.reject_question(session_id, question_id))

    async def reply_permission(
        self, session_id: str, permission_id: str, request: Body | None = None, /, **fields: Any
    ) -> None:
        await self._send(ops.reply_permission(session_id, permission_id, request, fields))

    # ---- file system

    async def list_fs_entries(self, path: str | None = None, *, session_id: str | None = None) -> list[m.FsEntry]:
        return await self._send(ops.list_fs_entries(path, session_id))

    async def read_fs_file(self, path: str, *, session_id: str | None = None) -> bytes:
        return await self._send(ops.read_fs_file(path, session_id))

    async def write_fs_file(
        self, path: str, content: bytes | AsyncIterable[bytes], *, session_id: str | None = None
    ) -> m.FsWriteResponse:
        return await self._send(ops.write_fs_file(path, content, session_id))

    async def delete_fs_entry(
        self, path: str, *, recursive: bool | None = None, session_id: str | None = None
    ) -> m.FsActionResponse:
        return await self._send(ops.delete_fs_entry(path, recursive, session_id))

    async def mkdir_fs(self, path: str, *, session_id: str | None = None) -> m.FsActionResponse:
        return await self._send(ops.mkdir_fs(path, session_id))

    async def move_fs(
        self, request: Body | None = None, /, *, session_id: str | None = None, **fields: Any
    ) -> m.FsMoveResponse:
        return await self._send(ops.move_fs(request, fields, session_id))

    async def stat_fs(self, path: str, *, session_id: str | None = None) -> m.FsStat:
        return await self._send(ops.stat_fs(path, session_id))

    async def upload_fs_batch(
        self,
        content: bytes | AsyncIterable[bytes],
        *,
        path: str | None = None,
        session_id: str | None = None,
        content_type: str = "application/x-tar",
    ) -> m.FsUploadBatchResponse:
        return await self._send(ops.upload_fs_batch(content, path, session_id, content_type))


def _stops(event: m.UniversalEvent) -> bool:
    return event.type in TURN_STOP_TYPES


async def _events(response: httpx.Response) -> AsyncIterator[m.UniversalEvent]:
    try:
        async for sse in EventSource(response).aiter_sse():
            event = parse_event(sse)
            if event is not None:
                yield event
    except SSEError as err:  # the answer is not an event stream (a proxy's page …)
        raise StreamProtocolError(str(err)) from err
