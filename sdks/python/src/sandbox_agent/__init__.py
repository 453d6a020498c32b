"""Python SDK of sandbox-agent: drive coding agents (Claude Code, Codex,
OpenCode, Amp …) through one HTTP + SSE API.

    from sandbox_agent import SandboxAgent

    with SandboxAgent.start() as sdk:  # or SandboxAgent("http://127.0.0.1:2468", token=…)
        sdk.create_session("s1", agent="mock")
        for event in sdk.stream_turn("s1", message="hello"):
            print(event.type)
"""

from . import models
from ._async import AsyncSandboxAgent
from ._embedded import EmbeddedServer
from ._stream import TURN_STOP_TYPES, Reconnect
from ._sync import SandboxAgent
from .errors import SandboxAgentError, StreamProtocolError
from .models import (
    CONTENT_PART_TYPES,
    EVENT_TYPES,
    ContentPart,
    KnownEvent,
    UniversalEvent,
    UnknownContentPart,
    UnknownEvent,
)

__all__ = [
    "CONTENT_PART_TYPES",
    "EVENT_TYPES",
    "TURN_STOP_TYPES",
    "AsyncSandboxAgent",
    "ContentPart",
    "EmbeddedServer",
    "KnownEvent",
    "Reconnect",
    "SandboxAgent",
    "SandboxAgentError",
    "StreamProtocolError",
    "UniversalEvent",
    "UnknownContentPart",
    "UnknownEvent",
    "models",
]
