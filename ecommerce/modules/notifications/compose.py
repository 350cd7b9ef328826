"""Turning an event into a stored notification document: find the recipient, render, put-if-absent.

Idempotent by construction: the document id is derived from (event id, template) and the store's
create-if-absent is atomic, so the same event handled twice — a relay retry, a crash after the store
write but before the inbox record, two relays racing — still leaves exactly one document, and one email.
"""

from __future__ import annotations

import logging

from ecommerce.kernel.clock import utcnow
from ecommerce.modules.notifications import settings, templates
from ecommerce.modules.notifications.channels import EMAIL
from ecommerce.modules.notifications.documents import Notification, document_id
from ecommerce.modules.users import api as users

log = logging.getLogger("ecommerce.notifications")


def notify(event_id: str, user_id: int, template: str, values: dict[str, object]) -> bool:
    """Store the notification for this event unless it exists; True if stored now. Nobody to tell (the
    account was deleted) is not an error: the event is simply done."""
    contact = users.find_user(user_id)
    if contact is None:
        log.info("no recipient for notification", extra={"user_id": user_id, "template": template})
        return False
    rendered = templates.render(template, {**values, "email": contact.email})
    now = utcnow()
    doc = Notification(
        id=document_id(event_id, template), event_id=event_id, template=template, recipient_id=user_id,
        recipient_email=contact.email, channel=EMAIL, subject=rendered.subject, body=rendered.body,
        created_at=now, due_at=now,
    )
    return settings.get().store.put_if_absent(doc)
