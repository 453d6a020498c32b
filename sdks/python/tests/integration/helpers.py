"""Helpers of the integration tests."""

from __future__ import annotations

import itertools
import os
import re
import socket
import threading
from collections.abc import Iterable
from typing import Any

import httpx

from sandbox_agent import models as m

_ids = itertools.count(1)


def session_id(prefix: str = "s") -> str:
    """A session id unique within the test run."""
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


def until(events: Iterable[m.UniversalEvent], type_: str | None = None) -> list[m.UniversalEvent]:
    """Collects events until one of the given type (included) or the end."""
    out = []
    for ev in events:
        out.append(ev)
        if ev.type == type_:
            break
    return out


def text_of(ev: m.UniversalEvent) -> str:
    """The text of an item event's content."""
    assert isinstance(ev, (m.ItemCompletedEvent, m.ItemStartedEvent))
    return "".join(p.text for p in ev.data.item.content or [] if isinstance(p, m.TextPart))


class CuttingProxy:
    """A TCP proxy in front of the server that can cut every open
    connection, as a network failure would: the client sees its stream
    break mid-way."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            outbound = socket.create_connection(self.target)
            with self.lock:
                self.sockets |= {inbound, outbound}
            for a, b in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(src, dst)

    def _drop(self, *socks: socket.socket) -> None:
        for s in socks:
            with self.lock:
                self.sockets.discard(s)
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> int:
        """Breaks every open connection (both sides), dropping data in flight; returns how many."""
        with self.lock:
            socks = list(self.sockets)
        # SO_LINGER 0: a reset, not an orderly close, like a failed network
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
        self._drop(*socks)
        return len(socks)

    def close(self) -> None:
        self.listener.close()
        self.cut()


Seen = list[tuple[str, str, int]]


class Recording(httpx.HTTPTransport):
    """A transport that records each request's method, path and status."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Seen = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response


class AsyncRecording(httpx.AsyncHTTPTransport):
    """The async Recording."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Seen = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response


def uncovered(spec: dict[str, Any], seen: Seen) -> list[str]:
    """The operationIds of the spec no 2xx answer in `seen` belongs to; fails on
    a request that matches no operation."""
    ops = {}
    for path, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method, op in item.items():
            ops[op["operationId"]] = (method.upper(), pattern)
    called = set()
    for method, path, status in seen:
        matches = [op for op, (m, pattern) in ops.items() if m == method and pattern.match(path)]
        assert matches, f"{method} {path} is no operation of the spec"
        if 200 <= status < 300:
            called.update(matches)
    return sorted(set(ops) - called)
