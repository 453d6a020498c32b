"""The file-system routes against the real server."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from sandbox_agent import SandboxAgent, SandboxAgentError

from .helpers import session_id


def tar(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_write_read_stat_list_move_delete(sdk: SandboxAgent, tmp_path: Path) -> None:
    a = str(tmp_path / "one/a.txt")
    written = sdk.write_fs_file(a, b"hello")
    assert (written.path, written.bytesWritten) == (a, 5)
    assert sdk.read_fs_file(a) == b"hello"
    sdk.write_fs_file(str(tmp_path / "one/b.bin"), iter([b"\x00\x01", b"\x02\xff"]))  # streamed in chunks
    assert sdk.read_fs_file(str(tmp_path / "one/b.bin")) == b"\x00\x01\x02\xff"

    st = sdk.stat_fs(a)
    assert (st.path, st.entryType, st.size) == (a, "file", 5)
    assert isinstance(st.modified, str)
    entries = sdk.list_fs_entries(str(tmp_path / "one"))
    assert sorted((e.name, e.entryType, e.size) for e in entries) == [("a.txt", "file", 5), ("b.bin", "file", 4)]

    deep = str(tmp_path / "two/deep")
    assert sdk.mkdir_fs(deep).path == deep
    to = str(tmp_path / "two/deep/a.txt")
    moved = sdk.move_fs({"from": a, "to": to})
    assert (moved.from_, moved.to) == (a, to)
    assert not Path(a).exists() and Path(to).read_text() == "hello"

    sdk.write_fs_file(a, b"again")
    with pytest.raises(SandboxAgentError) as clash:
        sdk.move_fs({"from": a, "to": to})
    assert clash.value.status == 400 and "already exists" in str(clash.value)
    sdk.move_fs({"from": a, "to": to}, overwrite=True)
    assert Path(to).read_text() == "again"

    with pytest.raises(SandboxAgentError) as not_empty:
        sdk.delete_fs_entry(str(tmp_path / "two"))
    assert not_empty.value.status == 400 and "not empty" in str(not_empty.value)
    assert sdk.delete_fs_entry(str(tmp_path / "two"), recursive=True).path == str(tmp_path / "two")
    assert not (tmp_path / "two").exists()


def test_relative_paths_resolve_in_a_sessions_directory(sdk: SandboxAgent, tmp_path: Path) -> None:
    sid = session_id("fs")
    sdk.create_session(sid, agent="mock", directory=str(tmp_path))
    sdk.write_fs_file("rel/x.txt", b"in session", session_id=sid)
    assert (tmp_path / "rel/x.txt").read_text() == "in session"
    assert [e.path for e in sdk.list_fs_entries("rel", session_id=sid)] == [str(tmp_path / "rel/x.txt")]
    sdk.move_fs({"from": "rel/x.txt", "to": "rel/y.txt"}, session_id=sid)
    assert (tmp_path / "rel/y.txt").exists()
    assert sdk.stat_fs("rel/y.txt", session_id=sid).size == 10
    with pytest.raises(SandboxAgentError) as escape:
        sdk.stat_fs("../etc/passwd", session_id=sid)
    assert escape.value.status == 400


def test_tar_and_tar_gz_uploads(sdk: SandboxAgent, tmp_path: Path) -> None:
    res = sdk.upload_fs_batch(tar({"u/a.txt": "A", "u/sub/b.txt": "BB"}), path=str(tmp_path / "up"))
    assert res.truncated is False
    assert set(res.paths or []) >= {str(tmp_path / "up/u/a.txt"), str(tmp_path / "up/u/sub/b.txt")}
    assert (tmp_path / "up/u/sub/b.txt").read_text() == "BB"
    sdk.upload_fs_batch(gzip.compress(tar({"z.txt": "zipped"})), path=str(tmp_path / "upgz"), content_type="application/gzip")
    assert (tmp_path / "upgz/z.txt").read_text() == "zipped"
    with pytest.raises(SandboxAgentError) as evil:
        sdk.upload_fs_batch(tar({"../evil.txt": "x"}), path=str(tmp_path / "up"))
    assert evil.value.status == 400
    assert not (tmp_path / "evil.txt").exists()


def test_a_missing_file_is_a_problem_document(sdk: SandboxAgent, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(SandboxAgentError) as info:
        sdk.read_fs_file(missing)
    assert (info.value.status, info.value.kind) == (400, "invalid_request")
    assert info.value.problem is not None
    assert info.value.problem.detail == f"invalid request: path not found: {missing}"
