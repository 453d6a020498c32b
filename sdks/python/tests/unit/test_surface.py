"""The clients' methods against docs/openapi.json and each other."""

from __future__ import annotations

import inspect
import re
from typing import Any

from sandbox_agent import AsyncSandboxAgent, SandboxAgent


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def public(cls: type) -> dict[str, Any]:
    return {n: f for n, f in vars(cls).items() if not n.startswith("_") and callable(f)}


def test_a_method_for_every_operation(spec: dict[str, Any]) -> None:
    ops = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ops) > 20
    # A new route needs a method in sdks/python/src/sandbox_agent/_sync.py and _async.py.
    for cls in (SandboxAgent, AsyncSandboxAgent):
        missing = [op for op in ops if not callable(getattr(cls, snake(op), None))]
        assert missing == [], cls.__name__


def test_the_typescript_sdks_method_names() -> None:
    original = [
        "getHealth", "listAgents", "installAgent", "getAgentModes", "getAgentModels", "createSession",
        "listSessions", "getSession", "deleteSession", "interruptSession", "terminateSession", "postMessage",
        "postMessageStream", "getEvents", "getEventsSse", "streamEvents", "streamTurn", "replyQuestion",
        "rejectQuestion", "replyPermission", "listFsEntries", "readFsFile", "writeFsFile", "deleteFsEntry",
        "mkdirFs", "moveFs", "statFs", "uploadFsBatch", "connect", "start", "close",
    ]
    for cls in (SandboxAgent, AsyncSandboxAgent):
        assert [n for n in original if not callable(getattr(cls, snake(n), None))] == [], cls.__name__


def test_sync_and_async_clients_have_the_same_methods_and_parameters() -> None:
    sync, asyn = public(SandboxAgent), public(AsyncSandboxAgent)
    assert sorted(sync) == sorted(asyn)
    for name in sync:
        a = list(inspect.signature(sync[name]).parameters)
        b = list(inspect.signature(asyn[name]).parameters)
        assert a == b, name
    for name, fn in asyn.items():
        if name in ("stream_events", "stream_turn", "post_message_stream", "get_events_sse"):
            continue  # async iterators / context managers
        assert inspect.iscoroutinefunction(inspect.unwrap(getattr(fn, "__func__", fn))), name
