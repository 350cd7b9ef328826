"""The notification document and the one store interface both implementations honour.

Why an interface with two stores: notifications are a read model built from events, written once and
read by the recipient newest first, with a retention period — a natural fit for a document/key-value
store (Redis: documents as hashes, a sorted set per recipient, TTLs). A laptop or a small deployment has
no Redis, so the same interface is served by a table in the module's own SQL database (see ADR 0018).
One shared test suite runs against both.

Every write is atomic on its own (create-if-absent, conditional updates): no caller ever reads a
document, decides, and writes it back.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

PENDING, SENT, FAILED = "pending", "sent", "failed"
#: Stable namespace for document ids: uuid5(NAMESPACE, "<event id>/<template>").
NAMESPACE = uuid.UUID("5b7d4e6a-3f0e-4b8e-9a51-0c1d2e3f4a5b")
EPOCH = datetime.datetime(1970, 1, 1)


def document_id(event_id: str, template: str) -> str:
    """The same event rendered with the same template always gets the same id: the dedup key."""
    return str(uuid.uuid5(NAMESPACE, f"{event_id}/{template}"))


def micros(moment: datetime.datetime) -> int:
    """A naive-UTC datetime as integer microseconds since the epoch (exact in a Redis score, a cursor)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=value)


@dataclass(frozen=True)
class Notification:
    id: str
    event_id: str
    template: str
    recipient_id: int
    recipient_email: str
    channel: str
    subject: str
    body: str
    created_at: datetime.datetime
    status: str = PENDING
    attempts: int = 0
    due_at: datetime.datetime | None = None
    sent_at: datetime.datetime | None = None
    failed_at: datetime.datetime | None = None
    read_at: datetime.datetime | None = None
    last_error: str | None = None
    #: The immutable part, as stored in the document's JSON content.
    CONTENT: ClassVar[tuple[str, ...]] = ("event_id", "template", "recipient_email", "channel", "subject", "body")

    def content(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.CONTENT}


@dataclass(frozen=True)
class Position:
    """Where a recipient's feed continues: strictly older than (created_at, id)."""

    created_at: datetime.datetime
    id: str


@dataclass(frozen=True)
class Outcome:
    """How a claimed send ended: ``sent``, ``failed`` for good, or ``pending`` again (retry at ``due_at``)."""

    status: str
    at: datetime.datetime
    due_at: datetime.datetime | None = None
    error: str | None = None


class DocumentStore(Protocol):
    def put_if_absent(self, doc: Notification) -> bool:
        """Store ``doc`` unless a document with its id exists (atomically); True if stored now."""

    def put_many_if_absent(self, docs: Sequence[Notification]) -> int:
        """``put_if_absent`` for several documents (one write where the store can); how many were stored now."""

    def get(self, notification_id: str) -> Notification | None: ...

    def for_recipient(self, user_id: int, limit: int, after: Position | None = None) -> list[Notification]:
        """The recipient's documents, newest first (created_at desc, id desc), strictly after ``after``."""

    def unread_count(self, user_id: int) -> int: ...

    def mark_read(self, user_id: int, notification_id: str, at: datetime.datetime) -> Notification | None:
        """Set read_at once; None when there is no such document *for this recipient* (BOLA-safe)."""

    def due(self, now: datetime.datetime, limit: int) -> list[str]:
        """Ids of pending documents whose next attempt (or expired lease) is at or before ``now``."""

    def claim(self, notification_id: str, token: str, now: datetime.datetime,
              lease_until: datetime.datetime) -> Notification | None:
        """Take the document for one send attempt (attempts + 1) if it is pending and due; else None.
        Conditional, so of several workers exactly one wins; a dead worker's lease simply runs out."""

    def claim_many(self, notification_ids: Sequence[str], token: str, now: datetime.datetime,
                   lease_until: datetime.datetime) -> list[Notification]:
        """``claim`` for several documents (one conditional update and one read where the store can); the
        ones taken, in no particular order."""

    def finish(self, notification_id: str, token: str, outcome: Outcome) -> bool:
        """Record a claimed attempt's outcome, only if ``token`` still holds the claim."""

    def purge_expired(self, now: datetime.datetime) -> int:
        """Delete documents past their retention (Redis expires them by itself)."""
