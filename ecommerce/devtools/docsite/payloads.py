"""The payload of each integration event as JSON Schema, read from the event dataclass's type hints.

Why generated: the envelope schema (``docs/events/envelope.schema.json``) fixes the frame, but a service
in another language also needs each payload's fields; written by hand they would drift from the
dataclasses. The docs page lists them (``<!-- generated: event-payloads -->``) and the contract test
(``tests/contract/test_event_envelope.py``) validates every generated payload against them, so the
table cannot describe fields the events do not carry. A field type with no JSON equivalent (a datetime,
a Decimal, a tuple) has no schema: it fails the site build and the contract test alike."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

from ecommerce.devtools.drawings.facts import collect
from ecommerce.kernel.events import IntegrationEvent

_SCALARS: dict[Any, str] = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def json_schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of one field's type hint; ``TypeError`` for a type JSON cannot carry unchanged."""
    origin, args = get_origin(hint), get_args(hint)
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if origin in (Union, types.UnionType):
        return {"anyOf": [json_schema(arg) for arg in args]}
    if origin is list and len(args) == 1:
        return {"type": "array", "items": json_schema(args[0])}
    if origin is dict and len(args) == 2 and args[0] is str:
        return {"type": "object", "additionalProperties": json_schema(args[1])}
    raise TypeError(f"{hint!r} does not survive JSON: use int, float, str, bool, None, list[...] or dict[str, ...]")


def payload_schema(event: type[IntegrationEvent]) -> dict[str, Any]:
    """The payload of ``event`` (unknown fields allowed: a publisher may add one within a version)."""
    hints = get_type_hints(event)
    fields = [f for f in dataclasses.fields(event) if f.init]
    required = [f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    return {
        "title": f"{event.key()} payload",
        "type": "object",
        "required": required,
        "properties": {f.name: json_schema(hints[f.name]) for f in fields},
    }


def describe(schema: dict[str, Any]) -> str:
    """``{"type": "array", "items": {"type": "integer"}}`` -> ``array of integer``."""
    if "anyOf" in schema:
        return " or ".join(describe(part) for part in schema["anyOf"])
    kind: str = schema["type"]
    if kind == "array":
        return f"array of {describe(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {describe(schema['additionalProperties'])}"
    return kind


def payload_table() -> str:
    """Every event an installed module publishes, with its payload's fields and their JSON types."""
    rows = ["| event | published by | payload fields (JSON type; *optional* when the event has a default) |",
            "|---|---|---|"]
    for name, module in collect().modules.items():
        for event in sorted(module.publishes, key=lambda e: e.key()):
            schema = payload_schema(event)
            fields = [f"`{field}`: {describe(part)}" + ("" if field in schema["required"] else ", *optional*")
                      for field, part in schema["properties"].items()]
            rows.append(f"| `{event.key()}` | [{name}](modules/{name}.md) | {'<br>'.join(fields)} |")
    return "\n".join(rows) + "\n"
