"""Embedded mode: the sandbox-agent binary as a child of this process."""

from __future__ import annotations

import atexit
import collections
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Literal

import httpx

#: Where the server's own log goes: copied to this process's stderr, or dropped
#: (in both cases its last lines are kept for the error of a failed start).
LogMode = Literal["inherit", "silent"]

_LISTENING = re.compile(r'msg="?server listening"?[^\n]*?\baddr="?\S*:(\d+)|"msg":"server listening"[^\n]*?"addr":"[^"]*:(\d+)"')
_TAIL_LINES = 200


def find_binary(binary: str | os.PathLike[str] | None = None) -> str:
    """The server binary: ``binary``, else ``SANDBOX_AGENT_BIN``, else ``sandbox-agent`` on PATH."""
    if binary is not None:
        path = os.fspath(binary)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"sandbox-agent binary {path} is not a file")
        return os.path.abspath(path)
    from_env = os.environ.get("SANDBOX_AGENT_BIN")
    if from_env:
        if not os.path.isfile(from_env):
            raise FileNotFoundError(f"SANDBOX_AGENT_BIN is set to {from_env}, which is not a file")
        return os.path.abspath(from_env)
    found = shutil.which("sandbox-agent")
    if found is None:
        raise FileNotFoundError("sandbox-agent binary not found: set SANDBOX_AGENT_BIN, pass binary=, or put sandbox-agent on PATH")
    return found


def listening_port(line: str) -> int | None:
    """The port in the server's "server listening" log line (text or JSON)."""
    match = _LISTENING.search(line)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def connect_host(host: str) -> str:
    """The host to connect to for a listen address (a wildcard is reached through loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class EmbeddedServer:
    """A running ``sandbox-agent server`` child process.

    Without a port the server binds port 0 and logs the port it got: picking
    a free port here and handing it over would race with every other program
    binding ports meanwhile.
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        token: str | None = None,
        log: LogMode = "inherit",
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.binary = find_binary(binary)
        self.token = token if token is not None else secrets.token_hex(24)
        self.host = host
        self._log = log
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._port = port
        self._port_seen = threading.Event()
        if port is not None:
            self._port_seen.set()
        # The token goes by environment, not argv, where `ps` would show it;
        # the server keeps it from the agents it runs.
        child_env = {**os.environ, **(env or {}), "SANDBOX_AGENT_TOKEN": self.token}
        argv = [self.binary, "server", "--host", host, "--port", str(port or 0), *args]
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=None if log == "inherit" else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=child_env,
        )
        assert self.process.stderr is not None
        self._reader = threading.Thread(target=self._read_log, args=(self.process.stderr,), daemon=True)
        self._reader.start()
        atexit.register(self.stop)

    @property
    def base_url(self) -> str:
        """The server's address (once its port is known)."""
        return f"http://{connect_host(self.host)}:{self._port}"

    def log_tail(self) -> str:
        """The last lines the server logged."""
        return "".join(self._tail)

    def wait_ready(self, timeout: float) -> None:
        """Waits until the server answers ``/v1/health``; stops it and raises
        when it exited or did not get there within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._port_seen.wait(0.05):
            self.check_alive()
            if time.monotonic() > deadline:
                self.fail('logged no "server listening" line with its port in time')
        last = "no answer yet"
        with httpx.Client(headers={"Authorization": f"Bearer {self.token}"}, timeout=1.0) as http:
            while True:
                self.check_alive()
                try:
                    http.get(f"{self.base_url}/v1/health").raise_for_status()
                    return
                except httpx.HTTPError as err:
                    last = str(err) or type(err).__name__
                if time.monotonic() > deadline:
                    self.fail(f"did not answer /v1/health within {timeout} s ({last})")
                time.sleep(0.05)

    def check_alive(self) -> None:
        """Raises when the server exited."""
        code = self.process.poll()
        if code is not None:
            self._reader.join(0.5)
            self.fail(f"exited before it was healthy (exit code {code})")

    def fail(self, why: str) -> None:
        self.stop()
        tail = self.log_tail().strip()
        raise RuntimeError(f"sandbox-agent ({self.binary}) {why}" + (f"\n--- server log (tail) ---\n{tail}" if tail else ""))

    def stop(self, grace: float = 5.0) -> None:
        """Stops the server (SIGTERM, then SIGKILL after ``grace`` seconds); safe to call twice."""
        atexit.unregister(self.stop)
        proc = self.process
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reader.join(1.0)
        if proc.stderr is not None:
            proc.stderr.close()

    def _read_log(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            self._tail.append(line)
            if self._log == "inherit":
                sys.stderr.write(line)
            if not self._port_seen.is_set():
                port = listening_port(line)
                if port is not None:
                    self._port = port
                    self._port_seen.set()
