"""The errors the SDK raises."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import ValidationError

from .models import ProblemDetails

_KIND_PREFIX = "urn:sandbox-agent:error:"


class SandboxAgentError(Exception):
    """An HTTP error answer of the server.

    ``problem`` is its RFC 9457 problem document when the body was one (the
    usual case: ``type`` is ``urn:sandbox-agent:error:<kind>``, ``detail``
    names the bad field or id); ``body`` is the raw body text either way.
    """

    status: int
    problem: ProblemDetails | None
    body: str
    response: httpx.Response | None

    def __init__(
        self,
        status: int,
        problem: ProblemDetails | None = None,
        body: str = "",
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(_message(status, problem, body))
        self.status = status
        self.problem = problem
        self.body = body
        self.response = response

    @property
    def kind(self) -> str | None:
        """The error kind: the problem ``type`` after ``urn:sandbox-agent:error:`` (e.g. ``session_not_found``)."""
        if self.problem is None:
            return None
        kind = self.problem.type
        return kind[len(_KIND_PREFIX) :] if kind.startswith(_KIND_PREFIX) else kind

    @property
    def details(self) -> dict[str, Any]:
        """The problem's ``details`` (e.g. ``field`` for a rejected request), or an empty dict."""
        details = self.problem.details if self.problem is not None else None
        return dict(details) if details else {}

    @classmethod
    def from_response(cls, response: httpx.Response) -> SandboxAgentError:
        """Builds the error of a failed response whose body has been read."""
        try:
            body = response.text
        except (httpx.ResponseNotRead, UnicodeDecodeError):
            body = ""
        return cls(response.status_code, parse_problem(body), body, response)


class StreamProtocolError(Exception):
    """An event stream carried something that is not an event; reconnecting would not help."""


def parse_problem(body: str) -> ProblemDetails | None:
    """The problem document in a response body, if it is one."""
    try:
        value = json.loads(body)
    except ValueError:
        return None  # not JSON: a plain-text answer (unknown route, proxy error page …)
    if not isinstance(value, dict) or not isinstance(value.get("status"), int):
        return None
    value.setdefault("type", "about:blank")
    value.setdefault("title", "")
    try:
        return ProblemDetails.model_validate(value)
    except ValidationError:
        return None


def _message(status: int, problem: ProblemDetails | None, body: str) -> str:
    if problem is not None:
        text = problem.detail or problem.title
        if text:
            return f"{text} (status {status})"
    text = body.strip()
    if text:
        return f"request failed with status {status}: {text[:200] + '…' if len(text) > 200 else text}"
    return f"request failed with status {status}"
