"""Shared fixtures: the server binary, built from this tree once per run
unless SANDBOX_AGENT_BIN names one (scripts/test-sdk-py.sh builds it first)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "docs" / "openapi.json"


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def binary() -> Iterator[str]:
    given = os.environ.get("SANDBOX_AGENT_BIN")
    if given:
        if not os.path.isfile(given):
            raise RuntimeError(f"SANDBOX_AGENT_BIN={given} does not exist")
        yield os.path.abspath(given)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sandbox-agent")
        env = {**os.environ, "CGO_ENABLED": "0"}
        subprocess.run(["go", "build", "-o", out, "./cmd/sandbox-agent"], cwd=ROOT, env=env, check=True)
        yield out


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
