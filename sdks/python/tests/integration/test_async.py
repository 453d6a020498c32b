"""The async client against its own embedded server: sessions, a turn,
human in the loop, files, errors."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sandbox_agent import AsyncSandboxAgent, SandboxAgentError
from sandbox_agent import models as m

from .helpers import AsyncRecording, session_id, uncovered

pytestmark = pytest.mark.anyio


async def test_the_async_client_end_to_end(binary: str, spec: dict[str, Any], tmp_path: Path) -> None:
    rec = AsyncRecording()
    async with await AsyncSandboxAgent.start(binary=binary, log="silent") as server:
        assert server.server is not None
        process = server.server.process
        sdk = AsyncSandboxAgent(server.base_url, server.token, transport=rec)
        assert (await sdk.get_health()).status == "ok"
        assert "mock" in {a.id for a in (await sdk.list_agents()).agents or []}
        await sdk.install_agent("mock")
        assert (await sdk.get_agent_modes("mock")).modes
        assert (await sdk.get_agent_models("mock")).defaultModel == "mock"

        sid = session_id("async")
        created = await sdk.create_session(sid, agent="mock", directory=str(tmp_path))
        assert created.healthy
        assert (await sdk.get_session(sid)).sessionId == sid
        assert sid in [s.sessionId for s in (await sdk.list_sessions()).sessions or []]

        turn = [ev async for ev in sdk.stream_turn(sid, message="echo async")]
        assert [type(e) for e in (turn[0], turn[-1])] == [m.TurnStartedEvent, m.TurnEndedEvent]
        async with sdk.post_message_stream(sid, message="echo raw") as events:
            raw = [ev async for ev in events]
        assert raw[-1].type == "turn.ended"
        async with sdk.get_events_sse(sid, offset=raw[0].sequence - 1) as events:
            replay = []
            async for ev in events:
                replay.append(ev)
                if ev.type == "turn.ended":
                    break
        assert [e.event_id for e in replay] == [e.event_id for e in raw]
        page = await sdk.get_events(sid, offset=0, limit=3)
        assert [e.sequence for e in page.events or []] == [1, 2, 3] and page.hasMore

        # a permission request and a question, answered from the stream
        asked = [ev async for ev in sdk.stream_turn(sid, message="permissions")][-1]
        assert isinstance(asked, m.PermissionRequestedEvent)
        await sdk.reply_permission(sid, asked.data.permission_id, reply="once")
        statuses = []
        async for ev in sdk.stream_events(sid, offset=asked.sequence):
            if isinstance(ev, m.PermissionRequestedEvent):
                await sdk.reply_permission(sid, ev.data.permission_id, reply="reject")
            if isinstance(ev, m.PermissionResolvedEvent):
                statuses.append(ev.data.status)
            if ev.type == "turn.ended":
                break
        assert statuses == ["accept", "reject"]
        q = [ev async for ev in sdk.stream_turn(sid, message="questions")][-1]
        assert isinstance(q, m.QuestionRequestedEvent)
        await sdk.reply_question(sid, q.data.question_id, answers=[["Red"]])
        answers = []
        async for ev in sdk.stream_events(sid, offset=q.sequence):
            if isinstance(ev, m.QuestionRequestedEvent):
                await sdk.reject_question(sid, ev.data.question_id)
            if isinstance(ev, m.QuestionResolvedEvent):
                answers.append((ev.data.status, ev.data.response))
            if ev.type == "turn.ended":
                break
        assert answers == [("answered", "Red"), ("rejected", None)]

        # files, relative to the session's directory
        assert (await sdk.write_fs_file("a.txt", b"async", session_id=sid)).bytesWritten == 5
        assert await sdk.read_fs_file(str(tmp_path / "a.txt")) == b"async"
        await sdk.mkdir_fs("d", session_id=sid)
        await sdk.move_fs({"from": "a.txt", "to": "d/b.txt"}, session_id=sid)
        assert (await sdk.stat_fs("d/b.txt", session_id=sid)).size == 5
        assert [e.name for e in await sdk.list_fs_entries("d", session_id=sid)] == ["b.txt"]
        await sdk.delete_fs_entry("d", recursive=True, session_id=sid)
        assert not (tmp_path / "d").exists()
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as t:
            member = tarfile.TarInfo("t.txt")
            member.size = 5
            t.addfile(member, io.BytesIO(b"tared"))
        up = await sdk.upload_fs_batch(archive.getvalue(), path="up", session_id=sid)
        assert up.paths == [str(tmp_path / "up/t.txt")]

        await sdk.post_message(sid, message="markdown")
        await sdk.interrupt_session(sid)
        await sdk.terminate_session(sid)
        assert (await sdk.get_session(sid)).ended
        await sdk.delete_session(sid)
        with pytest.raises(SandboxAgentError) as info:
            await sdk.get_session(sid)
        assert info.value.kind == "session_not_found"
        await sdk.close()
    assert uncovered(spec, rec.seen) == []  # every operation, through the async client
    assert process.poll() is not None  # leaving the block stopped the server
