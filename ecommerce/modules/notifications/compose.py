"""Turning an event into a stored notification document: find the recipient, render, put-if-absent.

Idempotent by construction: the document id is derived from (event id, template) and the store's
create-if-absent is atomic, so the same event handled twice — a relay retry, a crash after the store
write but before the inbox record, two relays racing — still leaves exactly one document, and one email.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from ecommerce.kernel.clock import utcnow
from ecommerce.modules.notifications import settings, templates
from ecommerce.modules.notifications.channels import EMAIL
from ecommerce.modules.notifications.documents import Notification, document_id
from ecommerce.modules.users import api as users

log = logging.getLogger("ecommerce.notifications")


#: One notification to compose: (event id, recipient's user id, template, values).
Request = tuple[str, int, str, dict[str, object]]


def notify_many(requests: Sequence[Request]) -> int:
    """``notify`` for a relay batch's events: one read of the recipients (was one per event) and one store
    write for the batch; returns how many were stored now. The same documents, as idempotent."""
    contacts = users.find_users([user_id for _, user_id, _, _ in requests])
    docs: list[Notification] = []
    now = utcnow()
    for event_id, user_id, template, values in requests:
        contact = contacts.get(user_id)
        if contact is None:
            log.info("no recipient for notification", extra={"user_id": user_id, "template": template})
            continue
        # Each a moment later than the one before, as when they were composed one by one: the feed is newest
        # first by creation, so a batch's documents keep their events' order (not their ids' order).
        now = max(utcnow(), now + datetime.timedelta(microseconds=1)) if docs else now
        docs.append(_document(event_id, user_id, contact.email, template, values, now))
    return settings.get().store.put_many_if_absent(docs) if docs else 0


def _document(event_id: str, user_id: int, email: str, template: str, values: dict[str, object],
              now: datetime.datetime) -> Notification:
    rendered = templates.render(template, {**values, "email": email})
    return Notification(
        id=document_id(event_id, template), event_id=event_id, template=template, recipient_id=user_id,
        recipient_email=email, channel=EMAIL, subject=rendered.subject, body=rendered.body,
        created_at=now, due_at=now,
    )


def notify(event_id: str, user_id: int, template: str, values: dict[str, object]) -> bool:
    """Store the notification for this event unless it exists; True if stored now. Nobody to tell (the
    account was deleted) is not an error: the event is simply done."""
    contact = users.find_user(user_id)
    if contact is None:
        log.info("no recipient for notification", extra={"user_id": user_id, "template": template})
        return False
    return settings.get().store.put_if_absent(_document(event_id, user_id, contact.email, template, values, utcnow()))
