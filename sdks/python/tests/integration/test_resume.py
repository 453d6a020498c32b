"""Streams cut mid-way by a real network failure (a proxy resetting every
connection) resume without losing or repeating an event, sync and async."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from sandbox_agent import AsyncSandboxAgent, Reconnect, SandboxAgent
from sandbox_agent import models as m

from .helpers import CuttingProxy, session_id

FAST = Reconnect(initial_delay=0.05, max_delay=0.2)


@pytest.fixture
def proxy(sdk: SandboxAgent) -> Iterator[CuttingProxy]:
    p = CuttingProxy(urlsplit(sdk.base_url).port or 0)
    yield p
    p.close()


def whole_log(got: list[m.UniversalEvent], log: list[m.UniversalEvent]) -> None:
    seqs = [e.sequence for e in got]
    assert len(set(seqs)) == len(seqs)  # no duplicate
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap
    by_seq = {e.sequence: e.event_id for e in log}
    assert [e.event_id for e in got] == [by_seq[s] for s in seqs]


def test_stream_events_resumes_after_cut_connections(sdk: SandboxAgent, proxy: CuttingProxy) -> None:
    sid = session_id("resume")
    via = SandboxAgent(proxy.url, sdk.token)
    via.create_session(sid, agent="mock")
    via.post_message(sid, message="markdown")
    got: list[m.UniversalEvent] = []
    cuts: list[int] = []
    deltas = turns = 0
    for ev in via.stream_events(sid, reconnect=FAST):
        got.append(ev)
        if ev.type == "item.delta":
            deltas += 1
            if deltas in (2, 5):  # twice mid-turn, while the agent keeps producing events
                cuts.append(proxy.cut())
        if ev.type == "turn.ended":
            turns += 1
            if turns == 2:
                break
            via.post_message(sid, message="markdown")
    assert len(cuts) == 2 and all(n > 0 for n in cuts)  # each cut broke the open stream
    log = sdk.get_events(sid).events or []
    assert got[0].sequence == 1 and len(got) == len(log)
    whole_log(got, log)
    via.close()


def test_stream_turn_resumes_a_cut_turn(sdk: SandboxAgent, proxy: CuttingProxy) -> None:
    sid = session_id("turncut")
    sdk.create_session(sid, agent="mock")
    got: list[m.UniversalEvent] = []
    cut = 0
    with SandboxAgent(proxy.url, sdk.token) as via:
        for ev in via.stream_turn(sid, message="markdown", reconnect=FAST):
            got.append(ev)
            if ev.type == "item.delta" and sum(e.type == "item.delta" for e in got) == 2:
                cut = proxy.cut()
    assert cut > 0
    log = sdk.get_events(sid).events or []
    assert got[0].type == "turn.started" and got[-1].type == "turn.ended"
    whole_log(got, log)
    assert got[-1].sequence == log[-1].sequence
    assert sum(e.type == "item.delta" for e in got) == sum(e.type == "item.delta" for e in log)


@pytest.mark.anyio
async def test_async_streams_resume_after_cut_connections(sdk: SandboxAgent, proxy: CuttingProxy) -> None:
    sid = session_id("aresume")
    async with AsyncSandboxAgent(proxy.url, sdk.token) as via:
        await via.create_session(sid, agent="mock")
        got: list[m.UniversalEvent] = []
        cuts: list[int] = []
        async for ev in via.stream_turn(sid, message="markdown", reconnect=FAST):
            got.append(ev)
            if ev.type == "item.delta" and sum(e.type == "item.delta" for e in got) == 2:
                cuts.append(proxy.cut())
        first = len(got)
        await via.post_message(sid, message="markdown")
        async for ev in via.stream_events(sid, offset=got[-1].sequence, reconnect=FAST):
            got.append(ev)
            if ev.type == "item.delta" and sum(e.type == "item.delta" for e in got[first:]) == 3:
                cuts.append(proxy.cut())
            if ev.type == "turn.ended":
                break
    assert len(cuts) == 2 and all(n > 0 for n in cuts)
    log = sdk.get_events(sid).events or []
    whole_log(got, log)
    assert got[-1].sequence == log[-1].sequence
    assert [e.type for e in got].count("turn.ended") == 2
