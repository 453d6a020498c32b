"""Generates src/sandbox_agent/models.py from docs/openapi.json.

datamodel-code-generator writes the pydantic v2 models; this script shapes
the spec first and adds what the generator cannot express:

- every model accepts fields it does not know (``extra="allow"``), and
  enums of what the server sends become plain strings (a newer server may
  send a value this SDK does not know); enums of request bodies stay
  ``Literal`` types, which type checkers verify;
- the content part union is discriminated by ``type``, with
  ``UnknownContentPart`` for a type this SDK does not know;
- ``UniversalEvent`` is a union of one model per event type, discriminated
  by the event's ``type``, so ``event.data`` is the right model; an event of
  an unknown type parses into ``UnknownEvent`` (its data kept as it came).

    python scripts/generate_models.py           rewrite models.py
    python scripts/generate_models.py --check   fail when models.py is stale
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SDK = HERE.parent
SPEC = SDK.parent.parent / "docs" / "openapi.json"
OUT = SDK / "src" / "sandbox_agent" / "models.py"

# The model of each event type's data. The spec's envelope says only that
# data is one of the *Data schemas; which one belongs to which type is the
# schema's contract (docs/openapi.json's UniversalEvent.type enum). A type
# missing here stops the generator, so a new one cannot go unnoticed.
EVENT_DATA = {
    "session.started": "SessionStartedData",
    "session.ended": "SessionEndedData",
    "turn.started": "TurnEventData",
    "turn.ended": "TurnEventData",
    "item.started": "ItemEventData",
    "item.delta": "ItemDeltaData",
    "item.completed": "ItemEventData",
    "error": "ErrorData",
    "permission.requested": "PermissionEventData",
    "permission.resolved": "PermissionEventData",
    "question.requested": "QuestionEventData",
    "question.resolved": "QuestionEventData",
    "agent.unparsed": "AgentUnparsedData",
}

# Names of the members of inline unions, by their position.
MCP_SERVER_NAMES = ["McpLocalServerConfig", "McpRemoteServerConfig"]

HEADER = '''"""Models of the sandbox-agent API, generated from docs/openapi.json.

Do not edit: ``make openapi`` regenerates it (sdks/python/scripts/generate_models.py).
"""
'''


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[._]", name))


def event_class(event_type: str) -> str:
    return camel(event_type) + "Event"


def part_class(part_type: str) -> str:
    return camel(part_type) + "Part"


def refs(node: Any) -> set[str]:
    """The component schemas a node refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(refs(schemas[name]))
    return seen


def strip_enums(node: Any) -> None:
    """Turns enums into plain strings (their values go to the description)."""
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and len(values) > 1:
            del node["enum"]
            text = "One of " + ", ".join(f"``{v}``" for v in values) + " (or a value added later)."
            node["description"] = (node.get("description", "") + " " + text).strip()
        for value in node.values():
            strip_enums(value)
    elif isinstance(node, list):
        for value in node:
            strip_enums(value)


def shape(spec: dict[str, Any]) -> dict[str, Any]:
    """Returns the spec reshaped for the generator (see the module doc)."""
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec["components"]["schemas"]
    event = schemas["UniversalEvent"]
    types = list(event["properties"]["type"]["enum"])

    requests: set[str] = set()
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "requestBody" in op:
                requests |= refs(op["requestBody"])
    request_side = closure(requests, schemas)
    responses = closure(set(schemas) - request_side, schemas) - request_side
    for name in responses:
        strip_enums(schemas[name])

    # Content parts: one named model per member (its `type` a constant),
    # plus the fallback.
    parts = schemas["ContentPart"]["oneOf"]
    part_names = []
    for member in parts:
        (part_type,) = member["properties"]["type"]["enum"]
        member["properties"]["type"] = {"const": part_type, "type": "string"}
        name = part_class(part_type)
        schemas[name] = member
        part_names.append((part_type, name))
    schemas["UnknownContentPart"] = {
        "description": "A content part of a type this SDK does not know; its fields are kept as extra fields.",
        "properties": {"type": {"type": "string"}},
        "required": ["type"],
        "type": "object",
    }

    mcp = schemas["McpServerConfig"]["oneOf"]
    if len(mcp) != len(MCP_SERVER_NAMES):
        sys.exit(f"McpServerConfig has {len(mcp)} members; name them in MCP_SERVER_NAMES")
    for member, name in zip(mcp, MCP_SERVER_NAMES):
        schemas[name] = member
    schemas["McpServerConfig"]["oneOf"] = [{"$ref": f"#/components/schemas/{n}"} for n in MCP_SERVER_NAMES]

    # Events: the envelope, one model per type, the fallback.
    missing = [t for t in types if t not in EVENT_DATA]
    if missing:
        sys.exit(f"event types without a data model in EVENT_DATA: {missing}")
    envelope = copy.deepcopy(event)
    for key in ("type", "data"):
        del envelope["properties"][key]
        envelope["required"].remove(key)
    envelope["description"] = "The fields every event has."
    schemas["EventEnvelope"] = envelope
    for event_type in types:
        schemas[event_class(event_type)] = {
            "allOf": [
                {"$ref": "#/components/schemas/EventEnvelope"},
                {
                    "properties": {
                        "type": {"const": event_type, "type": "string"},
                        "data": {"$ref": f"#/components/schemas/{EVENT_DATA[event_type]}"},
                    },
                    "required": ["type", "data"],
                    "type": "object",
                },
            ],
            "description": f"A ``{event_type}`` event.",
        }
    schemas["UnknownEvent"] = {
        "allOf": [
            {"$ref": "#/components/schemas/EventEnvelope"},
            {
                "properties": {"type": {"type": "string"}, "data": {}},
                "required": ["type", "data"],
                "type": "object",
            },
        ],
        "description": "An event of a type this SDK does not know; ``data`` is kept as it came.",
    }
    # Placeholders the post-processing replaces with the discriminated unions.
    schemas["ContentPart"] = {"type": "object"}
    schemas["UniversalEvent"] = {"type": "object"}
    spec["x-parts"] = part_names
    spec["x-events"] = types
    return spec


def postamble(parts: list[tuple[str, str]], events: list[str]) -> str:
    part_members = "\n".join(f'        Annotated[{name}, Tag("{t}")],' for t, name in parts)
    event_members = "\n".join(f'        Annotated[{event_class(t)}, Tag("{t}")],' for t in events)
    return f'''

_PART_TYPES = frozenset({{{", ".join(repr(t) for t, _ in parts)}}})
_EVENT_TYPES = frozenset({{{", ".join(repr(t) for t in events)}}})


def _tag(known: frozenset[str]) -> Callable[[Any], str]:
    def tag(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if isinstance(kind, str) and kind in known else "unknown"

    return tag


ContentPart = Annotated[
    Union[
{part_members}
        Annotated[UnknownContentPart, Tag("unknown")],
    ],
    Discriminator(_tag(_PART_TYPES)),
]
"""One piece of an item's content, by its ``type``; ``UnknownContentPart`` for a type this SDK does not know."""

KnownEvent = Union[
{chr(10).join(f"    {event_class(t)}," for t in events)}
]
"""An event of a type this SDK knows."""

UniversalEvent = Annotated[
    Union[
{event_members}
        Annotated[UnknownEvent, Tag("unknown")],
    ],
    Discriminator(_tag(_EVENT_TYPES)),
]
"""One event of a session's transcript, by its ``type`` (``UnknownEvent`` for a type this SDK does not know)."""

EVENT_TYPES: frozenset[str] = _EVENT_TYPES
"""The event types this SDK knows."""

CONTENT_PART_TYPES: frozenset[str] = _PART_TYPES
"""The content part types this SDK knows."""

for _model in list(globals().values()):
    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model.__module__ == __name__:
        _model.model_rebuild()
'''


def remove_class(code: str, name: str) -> str:
    pattern = re.compile(rf"^class {name}\(.*?(?=^class |\Z)", re.S | re.M)
    code, n = pattern.subn("", code)
    if n != 1:
        sys.exit(f"generated code has {n} definitions of {name}, expected 1")
    return code


def generate() -> str:
    spec = json.loads(SPEC.read_text())
    shaped = shape(spec)
    parts = shaped.pop("x-parts")
    events = shaped.pop("x-events")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "openapi.json"
        out = Path(tmp) / "models.py"
        src.write_text(json.dumps(shaped))
        subprocess.run(
            [
                sys.executable, "-m", "datamodel_code_generator",
                "--input", str(src), "--input-file-type", "openapi", "--output", str(out),
                "--output-model-type", "pydantic_v2.BaseModel", "--target-python-version", "3.10",
                "--use-annotated", "--use-standard-collections", "--use-union-operator",
                "--extra-fields", "allow", "--disable-timestamp", "--use-double-quotes",
                "--enum-field-as-literal", "all", "--use-schema-description", "--use-field-description",
                "--formatters", "builtin", "--keep-model-order",
                "--custom-file-header", HEADER.rstrip("\n"),
            ],
            check=True,
        )
        code = out.read_text()
    code = remove_class(code, "ContentPart")
    code = remove_class(code, "UniversalEvent")
    code = code.replace(
        "from typing import ",
        "from typing import Callable, Union, ",
        1,
    )
    code = code.replace(
        "from pydantic import ",
        "from pydantic import Discriminator, Tag, ",
        1,
    )
    return code.rstrip("\n") + "\n" + postamble(parts, events)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="fail when models.py is not what the spec gives")
    args = parser.parse_args()
    code = generate()
    if args.check:
        if not OUT.exists() or OUT.read_text() != code:
            print(
                f"sdks/python/{OUT.relative_to(SDK)} does not match docs/openapi.json: run `make openapi` "
                "(or scripts/test-sdk-py.sh models) and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    OUT.write_text(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
