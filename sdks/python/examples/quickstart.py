"""Starts an embedded server, runs one turn of the mock agent, answers its
permission requests, and prints what happened.

    SANDBOX_AGENT_BIN=/path/to/sandbox-agent python examples/quickstart.py
"""

from __future__ import annotations

import itertools

from sandbox_agent import SandboxAgent, models


def main() -> None:
    with SandboxAgent.start(log="silent") as sdk:
        sdk.create_session("demo", agent="mock")

        for event in sdk.stream_turn("demo", message="echo Hello from Python"):
            if isinstance(event, models.ItemCompletedEvent) and event.data.item.role == "assistant":
                text = "".join(p.text for p in event.data.item.content or [] if isinstance(p, models.TextPart))
                print(f"assistant: {text}")

        # A turn that asks for permission: the turn stream stops at the
        # request; answer it and follow the rest of the turn.
        last = list(sdk.stream_turn("demo", message="permissions"))[-1]
        for event in itertools.chain([last], sdk.stream_events("demo", offset=last.sequence)):
            if isinstance(event, models.PermissionRequestedEvent):
                print(f"permission asked: {event.data.action}")
                sdk.reply_permission("demo", event.data.permission_id, reply="once")
            elif isinstance(event, models.PermissionResolvedEvent):
                print(f"permission {event.data.status}")
            elif event.type == "turn.ended":
                break
        print(f"events in the session: {sdk.get_session('demo').eventCount}")


if __name__ == "__main__":
    main()
