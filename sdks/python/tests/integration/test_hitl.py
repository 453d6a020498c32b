"""Permission and question flows against the real server and the mock agent."""

from __future__ import annotations

import pytest

from sandbox_agent import SandboxAgent, SandboxAgentError
from sandbox_agent import models as m

from .helpers import session_id, until


def test_permission_requests_answered_once_and_rejected(sdk: SandboxAgent) -> None:
    sid = session_id("perm")
    sdk.create_session(sid, agent="mock")
    asked = list(sdk.stream_turn(sid, message="permissions"))[-1]
    assert isinstance(asked, m.PermissionRequestedEvent), asked.type
    first = asked.data.permission_id
    sdk.reply_permission(sid, first, reply="once")
    after = []
    # the mock asks twice; the second request may come after the turn stream closed
    for ev in sdk.stream_events(sid, offset=asked.sequence):
        after.append(ev)
        if isinstance(ev, m.PermissionRequestedEvent):
            sdk.reply_permission(sid, ev.data.permission_id, m.PermissionReplyRequest(reply="reject"))
        if ev.type == "turn.ended":
            break
    resolved = [e.data for e in after if isinstance(e, m.PermissionResolvedEvent)]
    assert [(r.permission_id == first, r.status) for r in resolved] == [(True, "accept"), (False, "reject")]
    assert after[-1].type == "turn.ended"


def test_an_always_permission_is_remembered_for_the_session(sdk: SandboxAgent) -> None:
    sid = session_id("always")
    sdk.create_session(sid, agent="mock")
    prompt = "List files in the current directory using available tools."
    asked = list(sdk.stream_turn(sid, message=prompt))[-1]
    assert isinstance(asked, m.PermissionRequestedEvent), asked.type
    sdk.reply_permission(sid, asked.data.permission_id, reply="always")
    after = until(sdk.stream_events(sid, offset=asked.sequence), "turn.ended")
    statuses = [e.data.status for e in after if isinstance(e, m.PermissionResolvedEvent)]
    assert statuses == ["accept_for_session"]
    # the same request again is approved without a reply
    again = list(sdk.stream_turn(sid, message=prompt))
    assert again[0].type == "turn.started"
    rest = until(sdk.stream_events(sid, offset=again[-1].sequence), "turn.ended") if again[-1].type != "turn.ended" else []
    resolved = [e.data.status for e in again + rest if isinstance(e, m.PermissionResolvedEvent)]
    assert resolved == ["accept_for_session"]
    assert (again + rest)[-1].type == "turn.ended"


def test_one_question_answered_another_rejected(sdk: SandboxAgent) -> None:
    sid = session_id("quest")
    sdk.create_session(sid, agent="mock")
    turn = list(sdk.stream_turn(sid, message="questions"))
    seen = list(turn)
    answered = 0

    def answer(ev: m.UniversalEvent) -> None:
        nonlocal answered
        if not isinstance(ev, m.QuestionRequestedEvent):
            return
        if answered == 0:
            assert ev.data.options == ["Red", "Blue"]
            sdk.reply_question(sid, ev.data.question_id, answers=[["Blue"]])
        else:
            sdk.reject_question(sid, ev.data.question_id)
        answered += 1

    answer(turn[-1])
    for ev in sdk.stream_events(sid, offset=turn[-1].sequence):
        seen.append(ev)
        answer(ev)
        if ev.type == "turn.ended":
            break
    resolved = [(e.data.status, e.data.response) for e in seen if isinstance(e, m.QuestionResolvedEvent)]
    assert resolved == [("answered", "Blue"), ("rejected", None)]


def test_unknown_permission_and_question_ids_are_named(sdk: SandboxAgent) -> None:
    sid = session_id("unknown")
    sdk.create_session(sid, agent="mock")
    with pytest.raises(SandboxAgentError) as p:
        sdk.reply_permission(sid, "missing-permission", reply="once")
    assert (p.value.status, p.value.kind) == (400, "invalid_request")
    assert "unknown permission id: missing-permission" in str(p.value)
    with pytest.raises(SandboxAgentError) as q:
        sdk.reject_question(sid, "missing-question")
    assert "unknown question id: missing-question" in str(q.value)
    with pytest.raises(SandboxAgentError) as r:
        sdk.reply_question(sid, "missing-question", answers=[["x"]])
    assert r.value.kind == "invalid_request"
    with pytest.raises(SandboxAgentError) as bad:
        sdk.reply_permission(sid, "x", reply="sometimes")
    assert bad.value.status == 422
    assert bad.value.details.get("field") == "body.reply"
