"""One Parquet schema per event type and version, read off the event's dataclass.

The JSON lines carry whatever the publisher wrote; a columnar file needs types. The event classes already
say them (``order_id: int``, ``lines: list[dict[str, int]]``), so the lake's schema for
``orders.OrderPlaced.v1`` is the envelope plus a ``payload`` struct of those fields: scalars become typed
columns, anything nested stays JSON text (an analyst unnests it with ``from_json``). An event type the
lake has no class for (a module not installed here) keeps its whole payload as one JSON column.
Adding a field to an event (allowed within a version) adds a struct field; readers use ``union_by_name``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from ecommerce.kernel.events.event import IntegrationEvent

#: routing key (``orders.OrderPlaced.v1``) -> payload field -> DuckDB type
Schemas = Mapping[str, Mapping[str, str]]

SCALARS: dict[Any, str] = {int: "BIGINT", str: "VARCHAR", bool: "BOOLEAN", float: "DOUBLE"}
ENVELOPE = {"id": "VARCHAR", "name": "VARCHAR", "version": "INTEGER", "occurred_at": "TIMESTAMP",
            "source": "VARCHAR"}


def _duck_type(hint: Any) -> str:
    if hint in SCALARS:
        return SCALARS[hint]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(inner) == 1:
            return _duck_type(inner[0])
    return "JSON"


def payload_columns(event: type[IntegrationEvent]) -> dict[str, str]:
    """``{"order_id": "BIGINT", ..., "lines": "JSON"}`` for one event class."""
    hints = typing.get_type_hints(event)
    return {f.name: _duck_type(hints[f.name]) for f in dataclasses.fields(event)}


def schemas_of(events: Iterable[type[IntegrationEvent]]) -> dict[str, dict[str, str]]:
    """The schemas of these event classes, by routing key."""
    return {event.key(): payload_columns(event) for event in events}


def payload_type(columns: Mapping[str, str] | None) -> str:
    """The DuckDB type of the ``payload`` column: a struct of the known fields, or JSON."""
    if not columns:
        return "JSON"
    return "STRUCT(" + ", ".join(f"{quote(name)} {kind}" for name, kind in columns.items()) + ")"


def json_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    """The ``columns`` argument of DuckDB's ``read_json`` for one event type's lines."""
    return {**ENVELOPE, "payload": payload_type(columns)}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
