"""What the sync and async event streams share: parsing SSE messages into
events, and the cursor that makes a resumed stream lose and repeat nothing.

The server numbers each session's events (``sequence``) and replays those
after an offset, so a stream resumes after the last event it yielded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from httpx_sse import ServerSentEvent
from pydantic import TypeAdapter, ValidationError

from .errors import SandboxAgentError, StreamProtocolError
from .models import UniversalEvent

#: The event types after which the server closes a turn stream.
TURN_STOP_TYPES: frozenset[str] = frozenset(
    {
        "turn.ended",
        "session.ended",
        "error",
        "agent.unparsed",
        "permission.requested",
        "question.requested",
    }
)

_event: TypeAdapter[UniversalEvent] = TypeAdapter(UniversalEvent)


@dataclass(frozen=True)
class Reconnect:
    """How a stream reconnects after a dropped connection."""

    #: Seconds before the first retry (doubling per failed try).
    initial_delay: float = 0.25
    #: Longest delay between tries, in seconds.
    max_delay: float = 5.0
    #: Tries in a row without receiving an event before the error is raised.
    max_attempts: int = 10


def parse_event(sse: ServerSentEvent) -> UniversalEvent | None:
    """The event an SSE message carries; None for a kind of message this SDK does not know."""
    # httpx-sse also reports a keep-alive comment after an `id:` line as a
    # message without data, which the SSE spec says is no event.
    if sse.event != "message" or sse.data == "":
        return None
    try:
        return _event.validate_json(sse.data)
    except ValidationError as err:
        raise StreamProtocolError(f"the event stream sent data that is not an event: {sse.data[:200]!r}") from err


def retryable(err: BaseException) -> bool:
    """Whether a failed connection may succeed when tried again: network
    errors and server-side or throttling answers may; other answers (unknown
    session, bad token …) will not."""
    if isinstance(err, SandboxAgentError):
        return err.status >= 500 or err.status in (408, 429)
    return isinstance(err, httpx.TransportError)


class Cursor:
    """The position of a stream in a session's log and its retry state."""

    def __init__(
        self,
        last: int,
        reconnect: bool | Reconnect,
        stop: Callable[[UniversalEvent], bool] = lambda _: False,
    ) -> None:
        #: The last sequence yielded (-1: none yet, and the start is unknown).
        self.last = last
        self.policy = None if reconnect is False else (reconnect if isinstance(reconnect, Reconnect) else Reconnect())
        self.stop = stop
        #: Connections in a row that ended before an event arrived.
        self.failures = 0
        self.last_error: BaseException | None = None

    def accept(self, event: UniversalEvent) -> bool:
        """Whether to yield the event: not when a replay overlaps what was yielded."""
        if self.last >= 0 and event.sequence <= self.last:
            return False
        self.last = event.sequence
        self.failures = 0
        self.last_error = None
        return True

    def failed(self, err: BaseException) -> None:
        """Records a failed connection; re-raises what cannot be retried."""
        if isinstance(err, StreamProtocolError) or not retryable(err) or self.policy is None:
            raise err
        self.last_error = err
        self.failures += 1

    def ended(self) -> bool:
        """Records a connection that ended cleanly; True when the stream should end too."""
        if self.policy is None:
            return True
        self.failures += 1
        return False

    def delay(self, session_id: str) -> float:
        """Seconds to wait before the next connection; raises when retries are used up."""
        if self.failures == 0:
            return 0.0
        policy = self.policy
        if policy is None or self.failures > policy.max_attempts:
            if self.last_error is not None:
                raise self.last_error
            raise StreamProtocolError(f"the event stream of session {session_id} kept closing without events")
        return float(min(policy.initial_delay * 2 ** (self.failures - 1), policy.max_delay))


def stream_timeout(base: httpx.Timeout, idle_timeout: float | None) -> httpx.Timeout:
    """The timeout of an event stream: the client's, with the read timeout
    (the longest silence between two chunks) set to ``idle_timeout``. The
    server sends a keep-alive every 15 s, so a longer silence is a dead
    connection that TCP has not noticed."""
    return httpx.Timeout(connect=base.connect, read=idle_timeout, write=base.write, pool=base.pool)
