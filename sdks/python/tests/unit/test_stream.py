"""Resumed event streams against a scripted server (httpx' mock transport):
dropped connections, overlapping replays, errors that end the stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from sandbox_agent import AsyncSandboxAgent, Reconnect, SandboxAgent, SandboxAgentError, StreamProtocolError, models

SSE = {"Content-Type": "text/event-stream"}
FAST = Reconnect(initial_delay=0.001, max_delay=0.002, max_attempts=3)
TYPES = ["turn.started", "item.started", "item.delta", "item.delta", "item.delta", "item.completed", "turn.ended"]


def event(seq: int, type_: str) -> dict[str, Any]:
    data: dict[str, Any] = {"phase": "x"}
    if type_ == "item.delta":
        data = {"item_id": "itm_1", "native_item_id": None, "delta": str(seq)}
    elif type_ in ("item.started", "item.completed"):
        data = {"item": {"item_id": "itm_1", "native_item_id": None, "parent_id": None, "kind": "message",
                         "role": "assistant", "status": "completed", "content": [{"type": "text", "text": "x"}]}}
    return {"event_id": f"evt_{seq}", "sequence": seq, "time": "t", "session_id": "s1", "native_session_id": None,
            "synthetic": False, "source": "agent", "type": type_, "data": data, "raw": None}


LOG = [event(i + 1, t) for i, t in enumerate(TYPES)]


def frame(ev: dict[str, Any]) -> bytes:
    return f"id: {ev['sequence']}\ndata: {json.dumps(ev)}\n\n".encode()


class Script(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body: frames, then a dropped connection (or a clean end)."""

    def __init__(self, chunks: list[bytes], drop: bool) -> None:
        self.chunks, self.drop = chunks, drop

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.drop:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.drop:
            raise httpx.ReadError("connection reset by peer")


class Server:
    """Serves the log: each connection sends `per` events after the offset
    (starting one before it, an overlap the client must drop) then drops."""

    def __init__(self, per: int = 2, overlap: bool = True) -> None:
        self.per, self.overlap = per, overlap
        self.offsets: list[int] = []
        self.posts = 0
        self.answers: list[httpx.Response] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.answers:
            return self.answers.pop(0)
        if request.method == "POST":  # the turn stream: 3 events, then dropped
            self.posts += 1
            return httpx.Response(200, headers=SSE, stream=Script([frame(e) for e in LOG[:3]], drop=True))
        offset = int(request.url.params["offset"])
        self.offsets.append(offset)
        start = max(offset - 1, 0) if self.overlap else offset
        part = LOG[start : offset + self.per]
        chunks = [b": keep-alive\n\n", b"event: future-kind\ndata: {}\n\n"]
        for e in part:  # a keep-alive after each event (after an id: line it is no event either)
            chunks += [frame(e), b": keep-alive\n\n"]
        return httpx.Response(200, headers=SSE, stream=Script(chunks, drop=offset + self.per < len(LOG)))


def sync(server: Server) -> SandboxAgent:
    return SandboxAgent("http://sa.test", transport=httpx.MockTransport(server))


def asyn(server: Server) -> AsyncSandboxAgent:
    return AsyncSandboxAgent("http://sa.test", transport=httpx.MockTransport(server))


def take(it: Iterator[Any], n: int) -> list[Any]:
    out = []
    for ev in it:
        out.append(ev)
        if len(out) == n:
            break
    return out


def test_stream_events_resumes_without_gap_or_duplicate() -> None:
    server = Server(per=2)
    got = take(sync(server).stream_events("s1", reconnect=FAST), len(LOG))
    assert [e.sequence for e in got] == list(range(1, len(LOG) + 1))
    assert server.offsets == [0, 2, 4, 6]  # each reconnect from the last event yielded


def test_a_silent_connection_counts_as_dropped() -> None:
    server = Server(per=10)
    first = True

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal first
        if first:  # two events, then silence: the read times out
            first = False
            chunks = [frame(e) for e in LOG[:2]]

            class Stall(Script):
                def __iter__(self) -> Iterator[bytes]:
                    yield from self.chunks
                    raise httpx.ReadTimeout("timed out")

            return httpx.Response(200, headers=SSE, stream=Stall(chunks, drop=False))
        return server(request)

    sdk = SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler))
    got = take(sdk.stream_events("s1", reconnect=FAST, idle_timeout=0.5), len(LOG))
    assert [e.sequence for e in got] == list(range(1, len(LOG) + 1))
    assert server.offsets == [2]


def test_the_idle_timeout_is_the_read_timeout_of_a_stream() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, headers=SSE, stream=Script([frame(LOG[0])], drop=False))

    sdk = SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler), timeout=httpx.Timeout(7.0, connect=2.0))
    take(sdk.stream_events("s1", idle_timeout=42.0), 1)
    assert seen[0] == {"connect": 2.0, "read": 42.0, "write": 7.0, "pool": 7.0}


def test_events_split_at_any_byte_parse_the_same() -> None:
    ev = event(1, "item.delta")
    ev["data"]["delta"] = "naïve ☃ — 雪"
    body = frame(ev).replace(b"\n", b"\r\n") + frame(event(2, "turn.ended"))
    server = Server()
    server.answers = [httpx.Response(200, headers=SSE, stream=Script([body[i : i + 1] for i in range(len(body))], drop=False))]
    got = take(sync(server).stream_events("s1", reconnect=FAST), 2)
    assert [e.sequence for e in got] == [1, 2]
    assert isinstance(got[0], models.ItemDeltaEvent) and got[0].data.delta == "naïve ☃ — 雪"


def test_stream_events_starts_after_the_offset() -> None:
    server = Server(per=10, overlap=False)
    got = take(sync(server).stream_events("s1", offset=5, reconnect=FAST), 2)
    assert [e.sequence for e in got] == [6, 7]
    assert server.offsets == [5]


def test_an_error_answer_ends_the_stream() -> None:
    server = Server()
    server.answers = [httpx.Response(404, json={"type": "urn:sandbox-agent:error:session_not_found", "title": "Not Found", "status": 404})]
    with pytest.raises(SandboxAgentError) as info:
        take(sync(server).stream_events("s1", reconnect=FAST), 1)
    assert info.value.kind == "session_not_found"


def test_server_errors_are_retried_until_the_attempts_are_used_up() -> None:
    server = Server(per=10)
    server.answers = [httpx.Response(503), httpx.Response(502)]
    assert [e.sequence for e in take(sync(server).stream_events("s1", reconnect=FAST), 3)] == [1, 2, 3]
    server.answers = [httpx.Response(503)] * 4
    with pytest.raises(SandboxAgentError) as info:
        take(sync(server).stream_events("s1", reconnect=FAST), 1)
    assert info.value.status == 503
    assert server.answers == []  # 1 try + 3 retries


def test_without_reconnect_a_dropped_stream_raises() -> None:
    server = Server(per=2)
    got: list[int] = []
    with pytest.raises(httpx.ReadError):
        for ev in sync(server).stream_events("s1", reconnect=False):
            got.append(ev.sequence)
    assert got == [1, 2]


def test_data_that_is_no_event_is_a_protocol_error() -> None:
    server = Server()
    server.answers = [httpx.Response(200, headers=SSE, stream=Script([b"data: {not json\n\n"], drop=False))]
    with pytest.raises(StreamProtocolError, match="not an event"):
        take(sync(server).stream_events("s1", reconnect=FAST), 1)
    server.answers = [httpx.Response(200, html="<p>login</p>")]
    with pytest.raises(StreamProtocolError, match="text/event-stream"):
        take(sync(server).stream_events("s1", reconnect=FAST), 1)


def test_stream_turn_resumes_and_stops_at_the_turn_end() -> None:
    server = Server(per=2)
    got = list(sync(server).stream_turn("s1", message="hi", reconnect=FAST))
    assert [e.sequence for e in got] == list(range(1, len(LOG) + 1))
    assert got[-1].type == "turn.ended"
    assert server.posts == 1 and server.offsets == [3, 5]


def test_stream_turn_cut_before_its_first_event_raises() -> None:
    server = Server()
    server.answers = [httpx.Response(200, headers=SSE, stream=Script([], drop=True))]
    with pytest.raises(httpx.ReadError):
        list(sync(server).stream_turn("s1", message="hi", reconnect=FAST))


@pytest.mark.anyio
async def test_async_streams_resume_the_same_way() -> None:
    server = Server(per=2)
    sdk = asyn(server)
    got = []
    async for ev in sdk.stream_events("s1", reconnect=FAST):
        got.append(ev.sequence)
        if len(got) == len(LOG):
            break
    assert got == list(range(1, len(LOG) + 1))
    assert server.offsets == [0, 2, 4, 6]
    turn = [ev.sequence async for ev in sdk.stream_turn("s1", message="hi", reconnect=FAST)]
    assert turn == got
    server.answers = [httpx.Response(404, json={"type": "urn:sandbox-agent:error:session_not_found", "title": "t", "status": 404})]
    with pytest.raises(SandboxAgentError):
        async for _ in sdk.stream_events("s1", reconnect=FAST):
            pass
    await sdk.close()
