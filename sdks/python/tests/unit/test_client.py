"""Requests, answers and errors, against httpx' mock transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandbox_agent import AsyncSandboxAgent, SandboxAgent, SandboxAgentError, models


class Recorder:
    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or httpx.Response(204)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answer


def client(rec: Recorder, **kw: Any) -> SandboxAgent:
    return SandboxAgent("http://sa.test/", token="tok", transport=httpx.MockTransport(rec), **kw)


def test_requests_carry_token_path_query_and_body() -> None:
    rec = Recorder(httpx.Response(200, json={"healthy": True, "nativeSessionId": None}))
    sdk = client(rec, headers={"X-Proxy": "1"})
    assert sdk.base_url == "http://sa.test"
    created = sdk.create_session("a b/c", {"agent": "mock"}, title="t", agentMode="plan")
    assert created.healthy is True
    req = rec.requests[0]
    assert (req.method, req.url.raw_path) == ("POST", b"/v1/sessions/a%20b%2Fc")
    assert req.headers["authorization"] == "Bearer tok"
    assert req.headers["x-proxy"] == "1"
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {"agent": "mock", "title": "t", "agentMode": "plan"}


def test_models_as_bodies_send_only_what_was_set() -> None:
    rec = Recorder()
    sdk = client(rec)
    sdk.post_message("s1", models.MessageRequest(message="hi"))
    sdk.reply_permission("s1", "p/1", models.PermissionReplyRequest(reply="once"))
    rec.answer = httpx.Response(200, json={"from": "/a", "to": "/b", "moved": True})
    moved = sdk.move_fs({"from": "a", "to": "b"}, session_id="s1", overwrite=True)
    assert moved.model_dump(by_alias=True)["from"] == "/a"
    bodies = [json.loads(r.content) for r in rec.requests]
    assert bodies == [{"message": "hi"}, {"reply": "once"}, {"from": "a", "to": "b", "overwrite": True}]
    assert rec.requests[1].url.raw_path == b"/v1/sessions/s1/permissions/p%2F1/reply"
    assert dict(rec.requests[2].url.params) == {"sessionId": "s1"}


def test_query_parameters_leave_out_unset_values() -> None:
    rec = Recorder(httpx.Response(200, json={"events": None, "hasMore": False}))
    sdk = client(rec)
    page = sdk.get_events("s1", offset=3, include_raw=True)
    assert page.events is None
    assert dict(rec.requests[0].url.params) == {"offset": "3", "include_raw": "true"}
    rec.answer = httpx.Response(200, json={"path": "/x", "deleted": True})
    sdk.delete_fs_entry("/x", recursive=False)
    assert dict(rec.requests[1].url.params) == {"path": "/x", "recursive": "false"}


def test_session_list_filters_and_paging() -> None:
    rec = Recorder(httpx.Response(200, json={"sessions": [], "nextCursor": "c2"}))
    page = client(rec).list_sessions(agent="mock", status="ended", since=5, limit=2, cursor="c1")
    assert page.model_dump()["nextCursor"] == "c2"
    assert dict(rec.requests[0].url.params) == {"agent": "mock", "status": "ended", "since": "5", "limit": "2", "cursor": "c1"}
    client(rec).list_sessions()
    assert rec.requests[1].url.query == b""


def test_raw_bodies_are_sent_as_they_are() -> None:
    rec = Recorder(httpx.Response(200, json={"path": "/x", "bytesWritten": 5}))
    sdk = client(rec)
    sdk.write_fs_file("/x", iter([b"he", b"llo"]))
    assert rec.requests[0].content == b"hello"
    assert rec.requests[0].headers["content-type"] == "application/octet-stream"
    rec.answer = httpx.Response(200, json={"paths": ["a"], "truncated": False})
    sdk.upload_fs_batch(b"tar", path="/d", content_type="application/gzip")
    assert rec.requests[1].headers["content-type"] == "application/gzip"


def test_a_problem_document_becomes_the_error() -> None:
    problem = {
        "type": "urn:sandbox-agent:error:invalid_request",
        "title": "Invalid Request",
        "status": 422,
        "detail": "body.reply: value must be one of once, always, reject",
        "details": {"field": "body.reply"},
    }
    sdk = client(Recorder(httpx.Response(422, json=problem)))
    with pytest.raises(SandboxAgentError) as info:
        sdk.reply_permission("s1", "p1", reply="sometimes")
    err = info.value
    assert (err.status, err.kind, err.details) == (422, "invalid_request", {"field": "body.reply"})
    assert err.problem is not None and err.problem.title == "Invalid Request"
    assert "body.reply" in str(err)


def test_a_body_that_is_no_problem_document_is_kept() -> None:
    sdk = client(Recorder(httpx.Response(502, text="<html>bad gateway</html>")))
    with pytest.raises(SandboxAgentError) as info:
        sdk.get_health()
    assert (info.value.status, info.value.problem, info.value.kind) == (502, None, None)
    assert info.value.body == "<html>bad gateway</html>"
    assert "bad gateway" in str(info.value)


def test_timeouts_are_configurable() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"status": "ok"})

    sdk = SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler), timeout=httpx.Timeout(3.0, connect=1.0))
    sdk.get_health()
    assert seen[0] == {"connect": 1.0, "read": 3.0, "write": 3.0, "pool": 3.0}


def test_calls_that_may_install_an_agent_have_their_own_timeout() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.extensions["timeout"]))
        return httpx.Response(200, json={"healthy": True})

    sdk = SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler), timeout=5.0)
    sdk.install_agent("claude")
    sdk.create_session("s1", agent="claude")
    sdk.post_message("s1", message="hi")
    unbounded = {"connect": 5.0, "read": None, "write": 5.0, "pool": 5.0}
    assert seen == [
        ("/v1/agents/claude/install", unbounded),
        ("/v1/sessions/s1", unbounded),
        ("/v1/sessions/s1/messages", {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}),
    ]
    seen.clear()
    SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler), install_timeout=600).install_agent("amp")
    assert seen[0][1]["read"] == 600


def test_a_timeout_raises_httpx_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    sdk = SandboxAgent("http://sa.test", transport=httpx.MockTransport(handler), timeout=0.5)
    with pytest.raises(httpx.ReadTimeout):
        sdk.list_agents()


def test_lists_of_entries_may_be_null() -> None:
    sdk = client(Recorder(httpx.Response(200, content=b"null")))
    assert sdk.list_fs_entries("/empty") == []


@pytest.mark.anyio
async def test_the_async_client_sends_the_same_requests() -> None:
    rec = Recorder(httpx.Response(200, json={"healthy": True}))
    async with AsyncSandboxAgent("http://sa.test", "tok", transport=httpx.MockTransport(rec)) as sdk:
        created = await sdk.create_session("s1", agent="mock")
        assert created.healthy
        rec.answer = httpx.Response(404, json={"type": "urn:sandbox-agent:error:session_not_found", "title": "t", "status": 404, "sessionId": "s1"})
        with pytest.raises(SandboxAgentError) as info:
            await sdk.get_session("s1")
    assert info.value.kind == "session_not_found"
    assert info.value.problem is not None and info.value.problem.sessionId == "s1"
    assert json.loads(rec.requests[0].content) == {"agent": "mock"}
    assert rec.requests[0].headers["authorization"] == "Bearer tok"
