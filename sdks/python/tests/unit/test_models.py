"""The generated models: the event union by type, fallbacks for what this
SDK does not know, unknown fields kept."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel, RootModel, TypeAdapter

from sandbox_agent import models as m

events: TypeAdapter[m.UniversalEvent] = TypeAdapter(m.UniversalEvent)
parts: TypeAdapter[m.ContentPart] = TypeAdapter(m.ContentPart)

ENVELOPE = {
    "event_id": "evt_1",
    "sequence": 1,
    "time": "2026-01-01T00:00:00Z",
    "session_id": "s1",
    "native_session_id": None,
    "synthetic": False,
    "source": "agent",
    "raw": None,
}
ITEM = {
    "item_id": "itm_1",
    "native_item_id": None,
    "parent_id": None,
    "kind": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "text", "text": "hi"}],
}
# One valid data document per event type.
DATA: dict[str, tuple[type[BaseModel], type[BaseModel], dict[str, Any]]] = {
    "session.started": (m.SessionStartedEvent, m.SessionStartedData, {"metadata": None}),
    "session.ended": (m.SessionEndedEvent, m.SessionEndedData, {"reason": "completed", "terminated_by": "daemon"}),
    "turn.started": (m.TurnStartedEvent, m.TurnEventData, {"phase": "started"}),
    "turn.ended": (m.TurnEndedEvent, m.TurnEventData, {"phase": "ended"}),
    "item.started": (m.ItemStartedEvent, m.ItemEventData, {"item": ITEM}),
    "item.delta": (m.ItemDeltaEvent, m.ItemDeltaData, {"item_id": "itm_1", "native_item_id": None, "delta": "h"}),
    "item.completed": (m.ItemCompletedEvent, m.ItemEventData, {"item": ITEM}),
    "error": (m.ErrorEvent, m.ErrorData, {"message": "boom", "code": None, "details": None}),
    "permission.requested": (
        m.PermissionRequestedEvent,
        m.PermissionEventData,
        {"permission_id": "p1", "action": "Bash", "status": "requested", "metadata": None},
    ),
    "permission.resolved": (
        m.PermissionResolvedEvent,
        m.PermissionEventData,
        {"permission_id": "p1", "action": "Bash", "status": "accept", "metadata": None},
    ),
    "question.requested": (
        m.QuestionRequestedEvent,
        m.QuestionEventData,
        {"question_id": "q1", "prompt": "Color?", "options": ["Red"], "status": "requested", "response": None},
    ),
    "question.resolved": (
        m.QuestionResolvedEvent,
        m.QuestionEventData,
        {"question_id": "q1", "prompt": "Color?", "options": ["Red"], "status": "answered", "response": "Red"},
    ),
    "agent.unparsed": (m.AgentUnparsedEvent, m.AgentUnparsedData, {"error": "bad", "location": "stdout", "raw_hash": None}),
}


def test_every_event_type_of_the_spec_has_a_model(spec: dict[str, Any]) -> None:
    types = spec["components"]["schemas"]["UniversalEvent"]["properties"]["type"]["enum"]
    assert sorted(types) == sorted(DATA) == sorted(m.EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(DATA))
def test_event_data_is_the_model_of_its_type(event_type: str) -> None:
    event_model, data_model, data = DATA[event_type]
    event = events.validate_python({**ENVELOPE, "type": event_type, "data": data})
    assert type(event) is event_model
    assert type(event.data) is data_model
    assert event.type == event_type
    # and back: the JSON round-trips
    again = events.validate_json(events.dump_json(event))
    assert again == event


def test_an_unknown_event_type_parses_into_the_fallback() -> None:
    event = events.validate_json(
        '{"event_id":"evt_9","sequence":9,"time":"t","session_id":"s1","native_session_id":null,'
        '"synthetic":true,"source":"daemon","raw":null,"type":"plan.updated","data":{"steps":[1,2]},"new":1}'
    )
    assert isinstance(event, m.UnknownEvent)
    assert (event.type, event.data, event.sequence) == ("plan.updated", {"steps": [1, 2]}, 9)
    assert event.model_extra == {"new": 1}
    # data of any shape, also none at all
    assert isinstance(events.validate_python({**ENVELOPE, "type": "x", "data": None}), m.UnknownEvent)
    assert isinstance(events.validate_python({**ENVELOPE, "type": "x", "data": [1]}), m.UnknownEvent)


def test_a_known_type_with_data_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(ValueError):
        events.validate_python({**ENVELOPE, "type": "item.delta", "data": {"nothing": True}})


def test_content_parts_by_type_with_a_fallback() -> None:
    got = [
        parts.validate_python(p)
        for p in [
            {"type": "text", "text": "a"},
            {"type": "json", "json": {"k": 1}},
            {"type": "tool_call", "name": "Bash", "arguments": "{}", "call_id": "c1"},
            {"type": "tool_result", "call_id": "c1", "output": "ok"},
            {"type": "file_ref", "path": "/x", "action": "write", "diff": None},
            {"type": "reasoning", "text": "hmm", "visibility": "public"},
            {"type": "image", "path": "/i.png", "mime": None},
            {"type": "status", "label": "ready", "detail": None},
            {"type": "hologram", "frames": 3},
        ]
    ]
    assert [type(p) for p in got] == [
        m.TextPart,
        m.JsonPart,
        m.ToolCallPart,
        m.ToolResultPart,
        m.FileRefPart,
        m.ReasoningPart,
        m.ImagePart,
        m.StatusPart,
        m.UnknownContentPart,
    ]
    unknown = got[-1]
    assert unknown.type == "hologram" and unknown.model_extra == {"frames": 3}
    assert sorted(m.CONTENT_PART_TYPES) == sorted(p.type for p in got[:-1])


def test_an_item_with_an_unknown_part_parses() -> None:
    item = {**ITEM, "content": [{"type": "text", "text": "a"}, {"type": "video", "url": "u"}]}
    event = events.validate_python({**ENVELOPE, "type": "item.completed", "data": {"item": item}})
    assert isinstance(event, m.ItemCompletedEvent)
    content = event.data.item.content or []
    assert [type(p) for p in content] == [m.TextPart, m.UnknownContentPart]


def test_every_model_accepts_unknown_fields() -> None:
    classes = [c for _, c in inspect.getmembers(m, inspect.isclass) if issubclass(c, BaseModel) and c.__module__ == m.__name__]
    assert len(classes) > 40
    for cls in classes:
        if issubclass(cls, RootModel):
            continue
        assert cls.model_config.get("extra") == "allow", cls.__name__
    info = m.SessionInfo.model_validate(
        {
            "sessionId": "s1",
            "agent": "mock",
            "agentMode": "build",
            "permissionMode": "default",
            "ended": False,
            "eventCount": 0,
            "nativeSessionId": None,
            "model": None,
            "variant": None,
            "title": None,
            "directory": None,
            "createdAt": 1,
            "updatedAt": 2,
            "addedLater": {"x": 1},
        },
    )
    assert info.model_extra == {"addedLater": {"x": 1}}


def test_values_the_server_may_add_later_parse() -> None:
    # enums of answers are plain strings: a newer server's value is kept
    event = events.validate_python({**ENVELOPE, "source": "relay", "type": "session.started", "data": {"metadata": None}})
    assert event.source == "relay"
    entry = m.FsEntry.model_validate({"name": "x", "path": "/x", "entryType": "socket", "size": 0})
    assert entry.entryType == "socket"
