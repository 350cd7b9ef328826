"""The message envelope: the one JSON document an integration event travels in between services.

This is the *contract* between a publishing service and every consumer, whatever language it is written
in (documented in ``docs/events.md``, schema in ``docs/events/envelope.schema.json``)::

    {"envelope": 1,                                  # this layout's version
     "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",   # the event id (also the AMQP message id)
     "name": "orders.OrderPlaced", "version": 1,     # the event type and its payload's version
     "occurred_at": "2026-11-25T09:00:00.123456Z",   # UTC, when the publishing transaction ran
     "source": "orders",                             # the module that published it
     "payload": {...}}                               # the event's fields

Why a versioned envelope apart from the event's own version: the payload changes per event type
(``version``), the frame around it changes for everybody at once (``envelope``). A consumer refuses an
envelope version it does not know (the message goes to the dead letters, visible) instead of guessing.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from ecommerce.kernel.events.transport import OutboxEvent

ENVELOPE_VERSION = 1
CONTENT_TYPE = "application/json"
FIELDS = ("envelope", "id", "name", "version", "occurred_at", "source", "payload")


class EnvelopeError(ValueError):
    """A message body that is not a valid envelope: it can never be processed, so it is dead-lettered."""


def routing_key(name: str, version: int) -> str:
    """``orders.OrderPlaced`` v1 -> ``orders.OrderPlaced.v1`` (the outbox row's name and the AMQP key)."""
    return f"{name}.v{version}"


def event_name(key: str, version: int) -> str:
    """The event name without the ``.v<version>`` suffix of its routing key."""
    suffix = f".v{version}"
    return key[: -len(suffix)] if key.endswith(suffix) else key


def _timestamp(moment: datetime.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def encode(event: OutboxEvent) -> bytes:
    """The envelope of an outbox event, as compact UTF-8 JSON."""
    document = {
        "envelope": ENVELOPE_VERSION,
        "id": event.event_id,
        "name": event_name(event.key, event.version),
        "version": event.version,
        "occurred_at": _timestamp(event.occurred_at),
        "source": event.source,
        "payload": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def decode(body: bytes, row_id: int = 0) -> OutboxEvent:
    """An envelope back into the event it carries; :class:`EnvelopeError` says what is wrong with it."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EnvelopeError("not a JSON object")
    missing = [name for name in FIELDS if name not in document]
    if missing:
        raise EnvelopeError(f"missing {', '.join(missing)}")
    if document["envelope"] != ENVELOPE_VERSION:
        raise EnvelopeError(f"envelope version {document['envelope']!r} is not {ENVELOPE_VERSION}")
    version = document["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise EnvelopeError("version must be a positive integer")
    for name in ("id", "name", "source", "occurred_at"):
        if not isinstance(document[name], str) or not document[name]:
            raise EnvelopeError(f"{name} must be a non-empty string")
    if not isinstance(document["payload"], dict):
        raise EnvelopeError("payload must be a JSON object")
    try:
        occurred_at = datetime.datetime.fromisoformat(document["occurred_at"].removesuffix("Z"))
    except ValueError:
        raise EnvelopeError("occurred_at is not an ISO 8601 timestamp") from None
    if occurred_at.tzinfo is not None:
        occurred_at = occurred_at.astimezone(datetime.UTC).replace(tzinfo=None)
    return OutboxEvent(
        row_id=row_id,
        event_id=document["id"],
        key=routing_key(document["name"], version),
        version=version,
        occurred_at=occurred_at,
        source=document["source"],
        payload=document["payload"],
    )
