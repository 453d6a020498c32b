"""How fast the SDK reads an event stream, against plain httpx on the same
stream: a session's log of mock turns replayed over SSE three ways.

    SANDBOX_AGENT_BIN=… python bench/stream_bench.py [turns]

raw: httpx reading the bytes; sse: httpx-sse splitting them into messages
(json.loads each); sdk: SandboxAgent.stream_events (messages into pydantic
models, resume bookkeeping). Best of 5 runs each; events per second.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import httpx
from httpx_sse import EventSource

from sandbox_agent import SandboxAgent


def best(fn: Callable[[], int], runs: int = 5) -> tuple[float, int]:
    times = []
    n = 0
    for _ in range(runs):
        t = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t)
    return min(times), n


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with SandboxAgent.start(log="silent") as sdk:
        sdk.create_session("bench", agent="mock")
        for _ in range(turns):
            list(sdk.stream_turn("bench", message="markdown"))
        last = sdk.get_session("bench").eventCount
        url = f"{sdk.base_url}/v1/sessions/bench/events/sse"
        headers = {"Authorization": f"Bearer {sdk.token}"}
        http = httpx.Client(headers=headers, timeout=30)

        def raw() -> int:
            marker = f"id: {last}\n".encode()
            seen = b""
            with http.stream("GET", url, params={"offset": 0}) as r:
                for chunk in r.iter_bytes():
                    seen = seen[-64:] + chunk
                    if marker in seen:
                        return last
            return 0

        def sse() -> int:
            n = 0
            with http.stream("GET", url, params={"offset": 0}) as r:
                for message in EventSource(r).iter_sse():
                    if message.data:
                        n += 1
                        if json.loads(message.data)["sequence"] == last:
                            return n
            return n

        def client() -> int:
            n = 0
            for event in sdk.stream_events("bench"):
                n += 1
                if event.sequence == last:
                    return n
            return n

        results = {name: best(fn) for name, fn in (("raw", raw), ("sse", sse), ("sdk", client))}
        http.close()
    base = results["raw"][0]
    print(f"{last} events ({turns} mock markdown turns)")
    for name, (secs, n) in results.items():
        print(f"{name:4} {n / secs:>10,.0f} events/s  {secs * 1000:7.1f} ms  {secs / base:5.2f}x raw")


if __name__ == "__main__":
    main()
