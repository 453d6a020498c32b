"""Every operation of docs/openapi.json, called through the sync client
against the real server: the requests that reached the server, matched
to the spec's path templates, must cover every operationId."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from sandbox_agent import SandboxAgent

from .helpers import Recording, session_id, uncovered


def test_every_operation_is_called_and_answers_2xx(sdk: SandboxAgent, spec: dict[str, Any], tmp_path: Path) -> None:
    rec = Recording()
    with SandboxAgent(sdk.base_url, sdk.token, transport=rec) as c:
        c.get_health()
        c.list_agents()
        c.install_agent("mock")
        c.get_agent_modes("mock")
        c.get_agent_models("mock")
        sid = session_id("routes")
        c.create_session(sid, agent="mock", directory=str(tmp_path))
        c.list_sessions()
        c.get_session(sid)
        c.post_message(sid, message="echo one")
        with c.post_message_stream(sid, message="permissions") as events:
            asked = list(events)[-1]
        assert asked.type == "permission.requested"
        c.reply_permission(sid, asked.data.permission_id, reply="always")  # type: ignore[union-attr]
        with c.get_events_sse(sid, offset=asked.sequence) as events:
            for ev in events:
                if ev.type == "permission.requested":  # the mock asks twice
                    c.reply_permission(sid, ev.data.permission_id, reply="reject")  # type: ignore[union-attr]
                if ev.type == "turn.ended":
                    break
        c.get_events(sid, limit=1)
        asked = list(c.stream_turn(sid, message="questions"))[-1]
        assert asked.type == "question.requested"
        c.reply_question(sid, asked.data.question_id, answers=[["Red"]])  # type: ignore[union-attr]
        for ev in c.stream_events(sid, offset=asked.sequence):
            if ev.type == "question.requested":
                c.reject_question(sid, ev.data.question_id)  # type: ignore[union-attr]
            if ev.type == "turn.ended":
                break
        c.interrupt_session(sid)
        c.write_fs_file("f.txt", b"x", session_id=sid)
        c.read_fs_file("f.txt", session_id=sid)
        c.stat_fs("f.txt", session_id=sid)
        c.list_fs_entries(session_id=sid)
        c.mkdir_fs("d", session_id=sid)
        c.move_fs({"from": "f.txt", "to": "d/f.txt"}, session_id=sid)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as t:
            info = tarfile.TarInfo("t.txt")
            info.size = 1
            t.addfile(info, io.BytesIO(b"t"))
        c.upload_fs_batch(archive.getvalue(), path="up", session_id=sid)
        c.delete_fs_entry("d", recursive=True, session_id=sid)
        c.terminate_session(sid)
        c.delete_session(sid)

    assert [s for s in rec.seen if not 200 <= s[2] < 300] == []
    assert uncovered(spec, rec.seen) == []  # a new route needs a method and a call here
