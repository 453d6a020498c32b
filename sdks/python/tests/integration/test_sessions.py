"""Agents, sessions and events against the real server and the mock agent."""

from __future__ import annotations

import pytest

from sandbox_agent import SandboxAgent, SandboxAgentError
from sandbox_agent import models as m

from .helpers import session_id, text_of, until


def test_health_needs_no_token(sdk: SandboxAgent) -> None:
    assert sdk.get_health().status == "ok"
    with SandboxAgent(sdk.base_url) as anon:
        assert anon.get_health().status == "ok"


def test_a_wrong_token_is_refused_with_a_problem_document(sdk: SandboxAgent) -> None:
    with SandboxAgent(sdk.base_url, token="wrong") as wrong, pytest.raises(SandboxAgentError) as info:
        wrong.list_agents()
    assert (info.value.status, info.value.kind) == (401, "token_invalid")


def test_agents_modes_models_and_install(sdk: SandboxAgent) -> None:
    agents = sdk.list_agents().agents or []
    assert {"claude", "codex", "opencode", "amp", "mock"} <= {a.id for a in agents}
    mock = next(a for a in agents if a.id == "mock")
    assert mock.installed and mock.capabilities.permissions
    sdk.install_agent("mock")  # answers 204
    assert {"build", "plan"} <= {mode.id for mode in sdk.get_agent_modes("mock").modes or []}
    models = sdk.get_agent_models("mock")
    assert models.defaultModel == "mock"
    assert "mock" in [x.id for x in models.models or []]
    with pytest.raises(SandboxAgentError) as info:
        sdk.get_agent_modes("nope")
    assert (info.value.status, info.value.kind) == (400, "unsupported_agent")
    assert info.value.problem is not None and info.value.problem.agent == "nope"


def test_create_get_list_and_a_duplicate(sdk: SandboxAgent) -> None:
    sid = session_id("create")
    created = sdk.create_session(sid, m.CreateSessionRequest(agent="mock", title="t1"))
    assert created.healthy and created.nativeSessionId == f"mock-{sid}"
    info = sdk.get_session(sid)
    assert (info.sessionId, info.agent, info.agentMode, info.title, info.ended) == (sid, "mock", "build", "t1", False)
    sessions = sdk.list_sessions().sessions or []
    assert sessions[0].sessionId == sid  # newest first
    with pytest.raises(SandboxAgentError) as dup:
        sdk.create_session(sid, agent="mock")
    assert (dup.value.status, dup.value.kind) == (409, "session_already_exists")
    assert dup.value.problem is not None and dup.value.problem.sessionId == sid


def test_bad_input_names_the_field(sdk: SandboxAgent) -> None:
    with pytest.raises(SandboxAgentError) as info:
        sdk.create_session(session_id("bad"), agent=7)
    assert info.value.status in (400, 422)
    assert info.value.details.get("field") == "body.agent"


def test_stream_turn_from_turn_started_to_turn_ended(sdk: SandboxAgent) -> None:
    sid = session_id("turn")
    sdk.create_session(sid, agent="mock")
    events = list(sdk.stream_turn(sid, message="Reply with exactly the single word OK."))
    assert events[0].type == "turn.started" and events[-1].type == "turn.ended"
    assert isinstance(events[0], m.TurnStartedEvent) and isinstance(events[-1], m.TurnEndedEvent)
    assistant = [e for e in events if isinstance(e, m.ItemCompletedEvent) and e.data.item.role == "assistant"]
    assert [text_of(e) for e in assistant] == ["OK"]
    seqs = [e.sequence for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(e.session_id == sid and e.raw is None for e in events)


def test_every_event_of_the_mock_demo_parses_into_its_model(sdk: SandboxAgent) -> None:
    sid = session_id("demo")
    sdk.create_session(sid, agent="mock")
    # (each turn ends without a request, so the next message is not queued behind one)
    for message in ("tool", "status", "image", "unknown", "error", "unparsed", "markdown"):
        until(sdk.stream_turn(sid, message=message))
    log = sdk.get_events(sid).events or []
    assert log and not [e for e in log if isinstance(e, m.UnknownEvent)]
    assert {type(e).__name__ for e in log} >= {
        "SessionStartedEvent", "TurnStartedEvent", "TurnEndedEvent", "ItemStartedEvent", "ItemDeltaEvent",
        "ItemCompletedEvent", "ErrorEvent", "AgentUnparsedEvent",
    }
    parts = [p for e in log if isinstance(e, m.ItemCompletedEvent) for p in e.data.item.content or []]
    assert not [p for p in parts if isinstance(p, m.UnknownContentPart)]
    assert {type(p).__name__ for p in parts} >= {"TextPart", "ToolCallPart", "ToolResultPart", "StatusPart", "ImagePart"}


def test_a_queued_message_streams_only_its_own_turn(sdk: SandboxAgent) -> None:
    sid = session_id("queued")
    sdk.create_session(sid, agent="mock")
    sdk.post_message(sid, message="markdown")  # still running when the next one arrives
    events = list(sdk.stream_turn(sid, message="echo second"))
    assert events[0].type == "turn.started" and events[-1].type == "turn.ended"
    assert [text_of(e) for e in events if isinstance(e, m.ItemCompletedEvent)] == ["echo second", "second"]


def test_events_page_with_offset_limit_and_raw(sdk: SandboxAgent) -> None:
    sid = session_id("page")
    sdk.create_session(sid, agent="mock")
    turn = list(sdk.stream_turn(sid, message="unparsed", include_raw=True))
    unparsed = next(e for e in turn if e.type == "agent.unparsed")
    assert unparsed.raw is not None
    everything = sdk.get_events(sid)
    assert everything.hasMore is False and len(everything.events or []) > 4
    page = sdk.get_events(sid, offset=2, limit=2)
    assert [e.sequence for e in page.events or []] == [3, 4] and page.hasMore
    plain = sdk.get_events(sid, offset=unparsed.sequence - 1, limit=1)
    assert (plain.events or [])[0].raw is None
    raw = sdk.get_events(sid, offset=unparsed.sequence - 1, limit=1, include_raw=True)
    assert (raw.events or [])[0].raw == unparsed.raw


def test_the_low_level_streams_give_one_connections_events(sdk: SandboxAgent) -> None:
    sid = session_id("raw")
    sdk.create_session(sid, agent="mock")
    with sdk.post_message_stream(sid, message="echo hi") as events:
        turn = list(events)  # the server closes a turn stream at its end
    assert turn[0].type == "turn.started" and turn[-1].type == "turn.ended"
    with sdk.get_events_sse(sid, offset=1) as events:
        replay = until(events, "turn.ended")
    assert [e.sequence for e in replay] == list(range(2, turn[-1].sequence + 1))


def test_interrupt_terminate_and_delete(sdk: SandboxAgent) -> None:
    sid = session_id("life")
    sdk.create_session(sid, agent="mock")
    sdk.post_message(sid, message="markdown")
    sdk.interrupt_session(sid)
    events = until(sdk.stream_events(sid), "turn.ended")
    assert events[-1].type == "turn.ended"
    sdk.terminate_session(sid)
    assert sdk.get_session(sid).ended is True
    ended = [e for e in sdk.get_events(sid).events or [] if isinstance(e, m.SessionEndedEvent)]
    assert len(ended) == 1 and ended[0].data.terminated_by == "daemon"
    with pytest.raises(SandboxAgentError) as info:
        sdk.post_message(sid, message="too late")
    assert (info.value.status, info.value.kind) == (400, "invalid_request")
    assert "session terminated" in str(info.value)
    sdk.delete_session(sid)
    with pytest.raises(SandboxAgentError) as gone:
        sdk.get_session(sid)
    assert (gone.value.status, gone.value.kind) == (404, "session_not_found")
    # a stream of a session that is gone ends with the error, it does not retry
    with pytest.raises(SandboxAgentError) as stream_gone:
        next(iter(sdk.stream_events(sid)))
    assert stream_gone.value.status == 404


def test_sessions_list_pages_and_filters(sdk: SandboxAgent) -> None:
    ids = [session_id("list") for _ in range(3)]
    for sid in ids:
        sdk.create_session(sid, agent="mock")
    sdk.terminate_session(ids[0])
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = sdk.list_sessions(agent="mock", limit=2, cursor=cursor)
        pages += 1
        seen += [s.sessionId for s in page.sessions or []]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
    assert pages >= 2
    ended = {s.sessionId for s in sdk.list_sessions(status="ended").sessions or []}
    assert ids[0] in ended and not {ids[1], ids[2]} & ended
    with pytest.raises(SandboxAgentError) as info:
        sdk.list_sessions(status="sleeping")
    assert info.value.status in (400, 422)
