"""A recipient's notifications: the feed newest first (keyset pages), the unread count, marking read.

The cursor is (created_at in microseconds, id) — the same order both stores sort by — so a page
continues exactly where the last one ended even when notifications arrive in between.
"""

from __future__ import annotations

import uuid
from typing import Any

from ecommerce.kernel.clock import isoformat, utcnow
from ecommerce.kernel.errors import FieldError, NotFound, ValidationFailed
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.notifications import settings
from ecommerce.modules.notifications.documents import Notification, Position, from_micros, micros

MAX_MICROS = 253402300799 * 1_000_000  # 9999-12-31: anything later is not a time


def view(doc: Notification) -> dict[str, Any]:
    return {
        "id": doc.id, "channel": doc.channel, "template": doc.template, "subject": doc.subject, "body": doc.body,
        "status": doc.status, "read": doc.read_at is not None, "created_at": isoformat(doc.created_at),
        "sent_at": isoformat(doc.sent_at) if doc.sent_at else None,
        "read_at": isoformat(doc.read_at) if doc.read_at else None,
    }


def notification_id(text: str) -> str:
    """A notification id is a UUID; anything else is a 400 (not a lookup). Over HTTP the route already
    matches canonical UUIDs only (a 404 otherwise); this guards the module's other callers."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValidationFailed("Not a notification id.", errors=[FieldError("id", "Must be a UUID")]) from None


def _position(cursor: dict[str, Any] | None) -> Position | None:
    if not cursor:
        return None
    moment, last = cursor.get("t"), cursor.get("id")
    if (not isinstance(moment, int) or isinstance(moment, bool) or not 0 <= moment <= MAX_MICROS
            or not isinstance(last, str)):
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")])
    try:
        return Position(from_micros(moment), str(uuid.UUID(last)))
    except ValueError:
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")]) from None


def mine(user_id: int, page: PageRequest) -> tuple[Page[dict[str, Any]], int]:
    """One page of the user's notifications and their unread count."""
    store = settings.get().store
    docs = store.for_recipient(user_id, page.limit + 1, _position(page.cursor))
    result = Page.from_rows(docs, page.limit, lambda last: {"t": micros(last.created_at), "id": last.id})
    return Page([view(doc) for doc in result.items], result.next_cursor), store.unread_count(user_id)


def mark_read(user_id: int, text_id: str) -> dict[str, Any]:
    """Mark one of *my* notifications read (idempotent); someone else's id is simply not found."""
    doc = settings.get().store.mark_read(user_id, notification_id(text_id), utcnow())
    if doc is None:
        raise NotFound("No such notification.")
    return view(doc)
