"""The real server binary in embedded mode, shared by the sync tests of a run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox_agent import SandboxAgent

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def sdk(binary: str) -> Iterator[SandboxAgent]:
    with SandboxAgent.start(binary=binary, log="silent") as client:
        yield client
