"""The synchronous client."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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


class SandboxAgent(ClientBase):
    """A client of one sandbox-agent server.

    ``SandboxAgent(base_url, token=…)`` talks to a server that is already
    running; :meth:`start` spawns one. Failed requests raise
    :class:`SandboxAgentError`. ``timeout`` (seconds or an ``httpx.Timeout``,
    default 30 s) bounds each request; ``install_timeout`` bounds
    :meth:`install_agent` and :meth:`create_session`, which may install an
    agent first (default: no read timeout, the server bounds installs). Use it as a context manager (or call
    :meth:`close`) to release its connections and stop an embedded server.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        install_timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(ClientConfig(base_url, token, headers, timeout, install_timeout))
        self._http = httpx.Client(
            base_url=self._config.base_url,
            headers=self._config.headers,
            timeout=self._config.timeout,
            transport=transport,
        )

    @classmethod
    def connect(cls, base_url: str, token: str | None = None, **options: Any) -> SandboxAgent:
        """A client of a server that is already running (the same as the constructor)."""
        return cls(base_url, token, **options)

    @classmethod
    def start(
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
    ) -> SandboxAgent:
        """Spawns ``sandbox-agent server`` (``binary``, else ``SANDBOX_AGENT_BIN``,
        else PATH) on a free loopback port with a fresh random token, waits
        until it answers ``/v1/health`` and returns a client of it.
        :meth:`close` (or leaving the ``with`` block) stops the server; so
        does the end of this Python process. ``log`` is where the server's log
        goes (``"inherit"``: this process's stderr, ``"silent"``), ``env`` and
        ``args`` extend its environment and command line, ``start_timeout``
        bounds the wait; the other options are the constructor's.
        """
        server = EmbeddedServer(binary=binary, host=host, port=port, token=token, log=log, env=env, args=args)
        try:
            server.wait_ready(start_timeout)
        except BaseException:
            server.stop()
            raise
        client = cls(server.base_url, server.token, headers=headers, timeout=timeout, install_timeout=install_timeout)
        client._server = server
        return client

    def close(self) -> None:
        """Closes the connections and stops the embedded server, if any. Safe to call twice."""
        self._http.close()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> SandboxAgent:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- transport

    def _send(self, call: Call[T]) -> T:
        timeout = self._config.install_timeout if call.installs else None
        response = self._http.send(build_request(self._http, call, timeout))
        if not response.is_success:
            raise SandboxAgentError.from_response(response)
        return call.read(response)

    @contextmanager
    def _stream(self, call: Call[Any], idle_timeout: float | None) -> Iterator[Iterator[m.UniversalEvent]]:
        request = build_request(self._http, call, stream_timeout(self._config.timeout, idle_timeout))
        response = self._http.send(request, stream=True)
        try:
            if not response.is_success:
                response.read()
                raise SandboxAgentError.from_response(response)
            yield _events(response)
        finally:
            response.close()

    # ---- meta and agents

    def get_health(self) -> m.HealthResponse:
        """``GET /v1/health`` (never needs the token)."""
        return self._send(ops.get_health())

    def list_agents(self) -> m.AgentListResponse:
        """The agents with install status, version and capabilities."""
        return self._send(ops.list_agents())

    def install_agent(self, agent: str, request: Body | None = None, /, **fields: Any) -> None:
        """Installs an agent (``reinstall=True`` reinstalls, ``agentVersion=`` pins a version)."""
        self._send(ops.install_agent(agent, request, fields))

    def get_agent_modes(self, agent: str) -> m.AgentModesResponse:
        """The modes an agent offers (e.g. build, plan)."""
        return self._send(ops.get_agent_modes(agent))

    def get_agent_models(self, agent: str) -> m.AgentModelsResponse:
        """The models an agent offers."""
        return self._send(ops.get_agent_models(agent))

    # ---- sessions

    def create_session(self, session_id: str, request: Body | None = None, /, **fields: Any) -> m.CreateSessionResponse:
        """Creates a session with the id you choose: ``create_session("s1", agent="claude")``
        (fields by the API's names, or a :class:`CreateSessionRequest`)."""
        return self._send(ops.create_session(session_id, request, fields))

    def list_sessions(
        self,
        *,
        agent: str | None = None,
        status: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> m.SessionListResponse:
        """The sessions, newest first (ended ones included). Filters: ``agent``,
        ``status`` (``live``, ``detached``, ``ended``), ``since`` (updated at or
        after, Unix epoch ms). Paging: at most ``limit`` per page, the next
        page by ``cursor=page.nextCursor`` (None on the last page)."""
        return self._send(ops.list_sessions(agent, status, since, limit, cursor))

    def get_session(self, session_id: str) -> m.SessionInfo:
        """One session's state."""
        return self._send(ops.get_session(session_id))

    def delete_session(self, session_id: str) -> None:
        """Ends the session (its agent process stops) and forgets it with its events."""
        self._send(ops.delete_session(session_id))

    def interrupt_session(self, session_id: str) -> None:
        """Stops the running turn; the session stays usable."""
        self._send(ops.interrupt_session(session_id))

    def terminate_session(self, session_id: str) -> None:
        """Ends the session; its events stay readable."""
        self._send(ops.terminate_session(session_id))

    def post_message(self, session_id: str, request: Body | None = None, /, **fields: Any) -> None:
        """Sends a message (``post_message("s1", message="hi")``); returns once the
        agent accepted it (the turn runs on)."""
        self._send(ops.post_message(session_id, request, fields))

    @contextmanager
    def post_message_stream(
        self,
        session_id: str,
        request: Body | None = None,
        /,
        *,
        include_raw: bool | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        **fields: Any,
    ) -> Iterator[Iterator[m.UniversalEvent]]:
        """Sends a message and opens the SSE stream of its turn: a context
        manager giving the events of this one connection. Most callers want
        :meth:`stream_turn`, which survives a dropped connection."""
        call = ops.post_message_stream(session_id, request, fields, include_raw)
        with self._stream(call, idle_timeout) as events:
            yield events

    def get_events(
        self,
        session_id: str,
        *,
        offset: int | None = None,
        limit: int | None = None,
        include_raw: bool | None = None,
    ) -> m.EventsResponse:
        """A page of a session's events: those after ``offset``, at most ``limit``."""
        return self._send(ops.get_events(session_id, offset, limit, include_raw))

    @contextmanager
    def get_events_sse(
        self,
        session_id: str,
        *,
        offset: int | None = None,
        include_raw: bool | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    ) -> Iterator[Iterator[m.UniversalEvent]]:
        """Opens the SSE stream of a session's events after ``offset`` (replay,
        then live): a context manager giving the events of this one
        connection. Most callers want :meth:`stream_events`."""
        with self._stream(ops.get_events_sse(session_id, offset, include_raw), idle_timeout) as events:
            yield events

    def stream_events(
        self,
        session_id: str,
        *,
        offset: int = 0,
        include_raw: bool | None = None,
        reconnect: bool | Reconnect = True,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    ) -> Iterator[m.UniversalEvent]:
        """A session's events after ``offset``, replayed then live, as an
        iterator that does not end by itself (leave the loop, or ``close()``
        it). After a dropped connection it reconnects and resumes after the
        last event it yielded: no event is lost or repeated. It raises when
        the server answers with an error (e.g. the session is gone) or cannot
        be reached after ``reconnect.max_attempts`` tries; a silence longer
        than ``idle_timeout`` seconds counts as a dropped connection."""
        cursor = Cursor(offset, reconnect)
        return self._follow(session_id, cursor, include_raw, idle_timeout)

    def stream_turn(
        self,
        session_id: str,
        request: Body | None = None,
        /,
        *,
        include_raw: bool | None = None,
        reconnect: bool | Reconnect = True,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        **fields: Any,
    ) -> Iterator[m.UniversalEvent]:
        """Sends a message and yields the events of the turn it starts, up to
        and including the first ``turn.ended``, ``session.ended``, ``error``,
        ``agent.unparsed``, ``permission.requested`` or ``question.requested``
        (after answering a request, follow the turn with :meth:`stream_events`).
        A message queued behind a running turn yields nothing of that turn.
        A dropped connection is resumed without loss once the first event
        arrived. Like every generator it starts (sends the message) at the
        first ``next()``."""
        cursor = Cursor(-1, reconnect, _stops)
        call = ops.post_message_stream(session_id, request, fields, include_raw)
        # The turn stream starts after the session's last event before the
        # message, a sequence the client never sees: until the first event
        # arrives there is nothing to resume from.
        try:
            with self._stream(call, idle_timeout) as events:
                for event in events:
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
        yield from self._follow(session_id, cursor, include_raw, idle_timeout)

    def _follow(
        self, session_id: str, cursor: Cursor, include_raw: bool | None, idle_timeout: float | None
    ) -> Iterator[m.UniversalEvent]:
        while True:
            delay = cursor.delay(session_id)
            if delay:
                time.sleep(delay)
            try:
                with self.get_events_sse(
                    session_id, offset=cursor.last, include_raw=include_raw, idle_timeout=idle_timeout
                ) as events:
                    for event in events:
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

    def reply_question(self, session_id: str, question_id: str, request: Body | None = None, /, **fields: Any) -> None:
        """Answers a question: ``answers=[["Blue"]]``, one list of chosen labels per question asked."""
        self._send(ops.reply_question(session_id, question_id, request, fields))

    def reject_question(self, session_id: str, question_id: str) -> None:
        """Declines to answer a question."""
        self._send(ops.reject_question(session_id, question_id))

    def reply_permission(self, session_id: str, permission_id: str, request: Body | None = None, /, **fields: Any) -> None:
        """Answers a permission request: ``reply="once"``, ``"always"`` (for this session) or ``"reject"``."""
        self._send(ops.reply_permission(session_id, permission_id, request, fields))

    # ---- file system

    def list_fs_entries(self, path: str | None = None, *, session_id: str | None = None) -> list[m.FsEntry]:
        """Lists a directory (default: the session's, or the server's home).
        With ``session_id``, relative paths resolve against that session's directory."""
        return self._send(ops.list_fs_entries(path, session_id))

    def read_fs_file(self, path: str, *, session_id: str | None = None) -> bytes:
        """A file's bytes."""
        return self._send(ops.read_fs_file(path, session_id))

    def write_fs_file(self, path: str, content: bytes | Iterator[bytes], *, session_id: str | None = None) -> m.FsWriteResponse:
        """Writes a file (parents are created, an existing file is replaced);
        ``content`` may be an iterator of chunks, which is streamed."""
        return self._send(ops.write_fs_file(path, content, session_id))

    def delete_fs_entry(self, path: str, *, recursive: bool | None = None, session_id: str | None = None) -> m.FsActionResponse:
        """Deletes a file, an empty directory, or with ``recursive=True`` any directory."""
        return self._send(ops.delete_fs_entry(path, recursive, session_id))

    def mkdir_fs(self, path: str, *, session_id: str | None = None) -> m.FsActionResponse:
        """Creates a directory and its parents."""
        return self._send(ops.mkdir_fs(path, session_id))

    def move_fs(self, request: Body | None = None, /, *, session_id: str | None = None, **fields: Any) -> m.FsMoveResponse:
        """Moves or renames: ``move_fs({"from": "a", "to": "b", "overwrite": True})``."""
        return self._send(ops.move_fs(request, fields, session_id))

    def stat_fs(self, path: str, *, session_id: str | None = None) -> m.FsStat:
        """A file's or directory's type, size and modification time."""
        return self._send(ops.stat_fs(path, session_id))

    def upload_fs_batch(
        self,
        content: bytes | Iterator[bytes],
        *,
        path: str | None = None,
        session_id: str | None = None,
        content_type: str = "application/x-tar",
    ) -> m.FsUploadBatchResponse:
        """Unpacks a tar (or with ``content_type="application/gzip"`` a .tar.gz) archive into a directory."""
        return self._send(ops.upload_fs_batch(content, path, session_id, content_type))


def _stops(event: m.UniversalEvent) -> bool:
    return event.type in TURN_STOP_TYPES


def _events(response: httpx.Response) -> Iterator[m.UniversalEvent]:
    try:
        for sse in EventSource(response).iter_sse():
            event = parse_event(sse)
            if event is not None:
                yield event
    except SSEError as err:  # the answer is not an event stream (a proxy's page …)
        raise StreamProtocolError(str(err)) from err
