"""What both clients share: configuration and turning a Call into a request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._calls import Call
from ._embedded import EmbeddedServer

#: The default timeout of a request, in seconds (an event stream's silence has its own, ``idle_timeout``).
DEFAULT_TIMEOUT = 30.0
#: The default longest silence of an event stream before it reconnects, in seconds.
DEFAULT_IDLE_TIMEOUT = 60.0


class ClientConfig:
    """How to reach a server."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
        install_timeout: float | httpx.Timeout | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        #: The server's address, without a trailing slash.
        self.base_url = base_url.rstrip("/")
        #: The bearer token sent with every request.
        self.token = token
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        #: The timeout of the calls that may install an agent (install_agent,
        #: create_session): by default no read timeout, since an install takes
        #: as long as the download does and the server bounds it itself.
        if isinstance(install_timeout, httpx.Timeout):
            self.install_timeout = install_timeout
        else:
            t = self.timeout
            self.install_timeout = httpx.Timeout(connect=t.connect, read=install_timeout, write=t.write, pool=t.pool)
        self.headers = dict(headers or {})
        if token:
            self.headers["Authorization"] = f"Bearer {token}"


class ClientBase:
    """The state both clients keep."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._server: EmbeddedServer | None = None

    @property
    def base_url(self) -> str:
        """The server's address, without a trailing slash."""
        return self._config.base_url

    @property
    def token(self) -> str | None:
        """The bearer token this client sends (for an embedded server: the one it generated)."""
        return self._config.token

    @property
    def server(self) -> EmbeddedServer | None:
        """The embedded server, when this client started one."""
        return self._server


def build_request(client: httpx.Client | httpx.AsyncClient, call: Call[Any], timeout: httpx.Timeout | None = None) -> httpx.Request:
    """The httpx request of a call."""
    return client.build_request(
        call.method,
        call.url(),
        params=call.query(),
        headers=call.headers(),
        json=call.json,
        content=call.content,
        timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
    )
