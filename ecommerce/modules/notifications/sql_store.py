"""The embedded document store: notification documents in the module's own SQL database.

Works on every backend the platform supports (SQLite, PostgreSQL), so a laptop needs no Redis.
Create-if-absent is ``INSERT ... ON CONFLICT DO NOTHING`` on the document id; every state change is a
single UPDATE whose WHERE clause carries its precondition (pending and due, the claim token, unread).
Expired documents are invisible at once and deleted by the purge job.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence

from peewee import DatabaseProxy, Expression

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.statements import Statement
from ecommerce.modules.notifications.documents import FAILED, PENDING, SENT, Notification, Outcome, Position
from ecommerce.modules.notifications.models import NotificationDocument as Doc
from ecommerce.modules.notifications.models import database

# Every order placed stores a notification (the relay, one per checkout): compiled once, not built by peewee
# per event (ADR 0015). Datetimes are declared ``str`` and given as datetimes (``Statement``).
_put = Statement(database, lambda doc_id, recipient_id, created_at, status, attempts, due_at, expires_at,
                 content: Doc.insert(id=doc_id, recipient_id=recipient_id, created_at=created_at, status=status,
                                     attempts=attempts, due_at=due_at, expires_at=expires_at, content=content,
                                     ).on_conflict_ignore().as_rowcount(), str, int, str, str, int, str, str, str)


def _document(row: Doc) -> Notification:
    content = json.loads(row.content)
    return Notification(
        id=row.id, recipient_id=row.recipient_id, created_at=row.created_at, status=row.status,
        attempts=row.attempts, due_at=row.due_at, sent_at=row.sent_at, failed_at=row.failed_at,
        read_at=row.read_at, last_error=row.last_error,
        **{name: content[name] for name in Notification.CONTENT},
    )


class SqlDocumentStore:
    def __init__(self, database: DatabaseProxy, retention: datetime.timedelta) -> None:
        self.database = database
        self.retention = retention

    def put_if_absent(self, doc: Notification) -> bool:
        inserted = _put.execute(doc.id, doc.recipient_id, doc.created_at, doc.status, doc.attempts, doc.due_at,
                                doc.created_at + self.retention, json.dumps(doc.content(), separators=(",", ":")))
        return bool(inserted)

    def put_many_if_absent(self, docs: Sequence[Notification]) -> int:
        """One multi-row ``INSERT ... ON CONFLICT DO NOTHING`` (a relay batch's notifications: one commit)."""
        if not docs:
            return 0
        rows = [(doc.id, doc.recipient_id, doc.created_at, doc.status, doc.attempts, doc.due_at,
                 doc.created_at + self.retention, json.dumps(doc.content(), separators=(",", ":"))) for doc in docs]
        fields = [Doc.id, Doc.recipient_id, Doc.created_at, Doc.status, Doc.attempts, Doc.due_at, Doc.expires_at,
                  Doc.content]
        return int(Doc.insert_many(rows, fields=fields).on_conflict_ignore().as_rowcount().execute())

    def _live(self, now: datetime.datetime | None = None) -> Expression:
        return Doc.expires_at > (now or utcnow())

    def get(self, notification_id: str) -> Notification | None:
        row = Doc.get_or_none((Doc.id == notification_id) & self._live())
        return None if row is None else _document(row)

    def for_recipient(self, user_id: int, limit: int, after: Position | None = None) -> list[Notification]:
        query = Doc.select().where((Doc.recipient_id == user_id) & self._live())
        if after is not None:
            query = query.where(
                (Doc.created_at < after.created_at) | ((Doc.created_at == after.created_at) & (Doc.id < after.id))
            )
        rows = query.order_by(Doc.created_at.desc(), Doc.id.desc()).limit(limit)
        return [_document(row) for row in rows]

    def unread_count(self, user_id: int) -> int:
        return int(Doc.select().where((Doc.recipient_id == user_id) & Doc.read_at.is_null() & self._live()).count())

    def mark_read(self, user_id: int, notification_id: str, at: datetime.datetime) -> Notification | None:
        mine = (Doc.id == notification_id) & (Doc.recipient_id == user_id)
        Doc.update(read_at=at).where(mine & Doc.read_at.is_null()).execute()
        row = Doc.get_or_none(mine & self._live())
        return None if row is None else _document(row)

    def due(self, now: datetime.datetime, limit: int) -> list[str]:
        query = (
            Doc.select(Doc.id)
            .where((Doc.status == PENDING) & (Doc.due_at <= now) & self._live(now))
            .order_by(Doc.due_at)
            .limit(limit)
        )
        return [row.id for row in query]

    def claim(self, notification_id: str, token: str, now: datetime.datetime,
              lease_until: datetime.datetime) -> Notification | None:
        taken = (
            Doc.update(claim=token, due_at=lease_until, attempts=Doc.attempts + 1)
            .where((Doc.id == notification_id) & (Doc.status == PENDING) & (Doc.due_at <= now))
            .execute()
        )
        if taken != 1:
            return None  # another worker holds it, or it is sent, failed or not due
        row = Doc.get_or_none((Doc.id == notification_id) & (Doc.claim == token))
        return None if row is None else _document(row)

    def claim_many(self, notification_ids: Sequence[str], token: str, now: datetime.datetime,
                   lease_until: datetime.datetime) -> list[Notification]:
        """One conditional UPDATE for the batch, then one read of what ``token`` holds: two statements for a
        delivery pass where each document cost two (the relay's job, one notification per checkout)."""
        ids = list(notification_ids)
        if not ids:
            return []
        taken = (
            Doc.update(claim=token, due_at=lease_until, attempts=Doc.attempts + 1)
            .where(Doc.id.in_(ids) & (Doc.status == PENDING) & (Doc.due_at <= now))
            .execute()
        )
        if not taken:
            return []
        return [_document(row) for row in Doc.select().where(Doc.id.in_(ids) & (Doc.claim == token))]

    def finish(self, notification_id: str, token: str, outcome: Outcome) -> bool:
        changes: dict[str, object] = {"status": outcome.status, "claim": None, "last_error": outcome.error}
        if outcome.status == SENT:
            changes.update(sent_at=outcome.at, due_at=None)
        elif outcome.status == FAILED:
            changes.update(failed_at=outcome.at, due_at=None)
        else:
            changes.update(due_at=outcome.due_at)
        mine = (Doc.id == notification_id) & (Doc.claim == token) & (Doc.status == PENDING)
        return Doc.update(**changes).where(mine).execute() == 1

    def purge_expired(self, now: datetime.datetime) -> int:
        return int(Doc.delete().where(Doc.expires_at <= now).execute())
