"""Embedded mode: the binary is found, started on a free port with a fresh
token, and stopped with nothing left running."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox_agent import AsyncSandboxAgent, SandboxAgent, SandboxAgentError

from .helpers import session_id


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: it has exited and waits to be reaped
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (FileNotFoundError, IndexError):
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def test_start_uses_a_fresh_token_and_stop_leaves_no_process(binary: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_AGENT_BIN", binary)
    before = set(children(os.getpid()))  # e.g. the server other tests share
    with SandboxAgent.start(log="silent") as sdk:
        assert sdk.server is not None
        pid = sdk.server.process.pid
        assert sdk.base_url.startswith("http://127.0.0.1:")
        assert sdk.token and len(sdk.token) == 48
        with SandboxAgent(sdk.base_url) as anon, pytest.raises(SandboxAgentError) as info:
            anon.list_sessions()
        assert info.value.status == 401
        sid = session_id("embedded")
        sdk.create_session(sid, agent="mock")
        assert [e.type for e in sdk.stream_turn(sid, message="echo hi")][-1] == "turn.ended"
        with SandboxAgent.start(log="silent") as other:  # a second server gets its own port and token
            assert other.base_url != sdk.base_url and other.token != sdk.token
        assert alive(pid)
    assert not alive(pid)
    assert set(children(os.getpid())) <= before
    sdk.close()  # twice is fine


def test_a_program_that_forgets_to_close_leaves_no_server(binary: str) -> None:
    program = (
        "from sandbox_agent import SandboxAgent\n"
        f"sdk = SandboxAgent.start(binary={binary!r}, log='silent')\n"
        "assert sdk.server is not None\n"
        "print(sdk.server.process.pid, flush=True)\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    # the server was the program's child: once stopped it is reaped (by init), so it is gone
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_a_given_token_and_port_are_used(binary: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with SandboxAgent.start(binary=binary, port=port, token="given", log="silent", headers={"X-Extra": "1"}) as sdk:
        assert (sdk.base_url, sdk.token) == (f"http://127.0.0.1:{port}", "given")
        assert sdk.list_sessions() is not None
        assert sdk._http.headers["x-extra"] == "1"


def test_a_missing_binary_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOX_AGENT_BIN", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="SANDBOX_AGENT_BIN"):
        SandboxAgent.start()
    monkeypatch.delenv("SANDBOX_AGENT_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="PATH"):
        SandboxAgent.start()


def test_a_server_that_fails_to_start_is_reported_with_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "sandbox-agent"
    fake.write_text("#!/bin/sh\necho 'bad flag: nothing works' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(RuntimeError, match="exit code 3") as info:
        SandboxAgent.start(binary=fake, log="silent", start_timeout=5)
    assert "bad flag: nothing works" in str(info.value)


def test_a_server_that_never_gets_healthy_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "sandbox-agent"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    before = set(children(os.getpid()))
    with pytest.raises(RuntimeError, match="server listening"):
        SandboxAgent.start(binary=fake, log="silent", start_timeout=0.3)
    assert set(children(os.getpid())) <= before


@pytest.mark.anyio
async def test_async_start_and_stop(binary: str) -> None:
    sdk = await AsyncSandboxAgent.start(binary=binary, log="silent")
    assert sdk.server is not None
    pid = sdk.server.process.pid
    assert (await sdk.get_health()).status == "ok"
    await sdk.close()
    assert not alive(pid)
