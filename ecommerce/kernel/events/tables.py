"""A module's outbox and inbox: the two tables that make its events reliable.

- Outbox: ``publish`` writes the event in the *same transaction* as the state change, so an event exists
  if and only if the change committed. The relay delivers it later, at least once.
- Inbox: ``process_atomically`` records (event id, handler) in the *same transaction* as the handler's
  effects, so a redelivered event changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from peewee import (
    AutoField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    IntegerField,
    IntegrityError,
    Model,
    TextField,
    fn,
)

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.events.event import IntegrationEvent
from ecommerce.kernel.statements import Statement

log = logging.getLogger("ecommerce.events")
#: (transaction, modules it published for): one after-commit hook per transaction, however many events.
_armed = threading.local()
PublishListener = Callable[[frozenset[str]], None]
_listeners: list[PublishListener] = []


def add_publish_listener(listener: PublishListener) -> None:
    """``listener(modules)`` is called (in the committing thread) right after a transaction that published
    events for ``modules`` commits: the relay's wake-up and its hint of which outboxes to look at, so an
    event waits for no poll interval. Keep it short and thread-safe."""
    _listeners.append(listener)


def remove_publish_listener(listener: PublishListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _committed(modules: set[str]) -> None:
    """After-commit hook of a publishing transaction (never runs after a rollback)."""
    published = frozenset(modules)
    for listener in list(_listeners):
        try:
            listener(published)
        except Exception:  # the transaction has committed: a failed wake-up must not look like a failure
            log.exception("publish listener failed")


#: Up to this many events or inbox rows, a statement is compiled once per count; more are built each time.
_COMPILED_UP_TO = 50


class EventTables:
    """The outbox and inbox models of one module, bound to that module's database proxy."""

    def __init__(self, module: str, database: DatabaseProxy) -> None:
        self.module = module
        self.database = database

        class Outbox(Model):
            id = AutoField()
            event_id = CharField(max_length=36, unique=True)
            name = CharField(max_length=200)
            version = IntegerField()
            payload = TextField()
            occurred_at = DateTimeField()
            available_at = DateTimeField()
            attempts = IntegerField(default=0)
            claimed_until = DateTimeField(null=True)
            delivered_at = DateTimeField(null=True)
            failed_at = DateTimeField(null=True)
            last_error = TextField(null=True)

            class Meta:
                table_name = f"{module}_outbox"

        class Inbox(Model):
            id = AutoField()
            event_id = CharField(max_length=36)
            handler = CharField(max_length=200)
            processed_at = DateTimeField()

            class Meta:
                table_name = f"{module}_inbox"

        Outbox._meta.set_database(database)
        Inbox._meta.set_database(database)
        self.Outbox = Outbox
        self.Inbox = Inbox
        # Every state change that publishes runs this insert: compiled once, not built per event by peewee.
        self._insert_event = Statement(database, lambda event_id, name, version, payload, now: Outbox.insert(
            event_id=event_id, name=name, version=version, payload=payload, occurred_at=now, available_at=now,
        ).as_rowcount(), str, str, int, str, str)
        # The inbox's statements, compiled once (per number of events where it varies): every delivered event
        # runs them, and the relay's share of a checkout's CPU was mostly peewee building SQL (ADR 0015).
        self._seen = Statement(database, lambda event_id, handler: Inbox.select(Inbox.id).where(
            (Inbox.event_id == event_id) & (Inbox.handler == handler)), str, str)
        self._seen_of: dict[int, Statement] = {}
        self._record: dict[tuple[int, bool], Statement] = {}

    def publish(self, event: IntegrationEvent) -> str:
        """Record ``event`` in the outbox; must run inside the transaction that makes the change."""
        if not self.database.in_transaction():
            raise RuntimeError(
                f"{self.module}: publish {event.name} inside the transaction that changes state "
                "(with database.atomic(): ...), or the event could outlive a rollback"
            )
        now = utcnow()
        event_id = str(uuid.uuid4())
        self._insert_event.execute(
            event_id, event.key(), event.version, json.dumps(event.to_payload(), separators=(",", ":")), now
        )
        top = self.database.top_transaction()
        armed: tuple[object, set[str]] | None = getattr(_armed, "state", None)
        if armed is None or armed[0] is not top:
            armed = (top, set())
            _armed.state = armed
            self.database.after_commit(partial(_committed, armed[1]))
        armed[1].add(self.module)
        return event_id


    def _seen_statement(self, count: int) -> Statement:
        found = self._seen_of.get(count)
        if found is None:
            Inbox = self.Inbox
            found = self._seen_of[count] = Statement(self.database, lambda *ids: Inbox.select(
                Inbox.event_id, Inbox.handler).where(Inbox.event_id.in_(list(ids))), *([str] * count))
        return found

    def _insert_inbox(self, rows: Sequence[tuple[str, str]], ignore_duplicates: bool) -> None:
        """Inbox rows in one multi-row INSERT, compiled once per count (and per duplicate handling); more than
        ``_COMPILED_UP_TO`` rows go in chunks of that many, in one transaction (under load a relay batch
        often has more: a hundred checkouts' events to two subscriptions of one module, and peewee building
        those inserts each time was a fifth of the relay's CPU in a GIL profile)."""
        if len(rows) > _COMPILED_UP_TO:
            with self.database.transaction():  # joins the inbox transaction; alone (``record``), one commit
                for start in range(0, len(rows), _COMPILED_UP_TO):
                    self._insert_inbox(rows[start:start + _COMPILED_UP_TO], ignore_duplicates)
            return
        key = (len(rows), ignore_duplicates)
        statement = self._record.get(key)
        if statement is None:
            Inbox = self.Inbox

            def build(*values: Any) -> Any:
                query = Inbox.insert_many([values[i:i + 3] for i in range(0, len(values), 3)],
                                          fields=[Inbox.event_id, Inbox.handler, Inbox.processed_at])
                return (query.on_conflict_ignore() if ignore_duplicates else query).as_rowcount()

            statement = self._record[key] = Statement(self.database, build, *([str] * (3 * len(rows))))
        now = utcnow()
        statement.execute(*(value for event_id, handler in rows for value in (event_id, handler, now)))

    def seen(self, event_id: str, handler: str) -> bool:
        return bool(self._seen.rows(event_id, handler))

    def process_then_record(self, event_id: str, handler: str, effect: Callable[[], None]) -> bool:
        """For non-atomic handlers: skip if recorded, else run ``effect`` (outside any transaction of
        ours), then record it. A crash in between means it runs again: ``effect`` must be idempotent."""
        if self.seen(event_id, handler):
            return False
        effect()
        self._insert_inbox([(event_id, handler)], ignore_duplicates=True)
        return True

    def process_atomically(self, event_id: str, handler: str, effect: Callable[[], None]) -> bool:
        """For atomic handlers: run ``effect`` unless ``handler`` already processed ``event_id``, in one
        transaction with its inbox row (both commit or neither); True if it ran."""
        with self.database.atomic():
            try:
                with self.database.atomic():  # a savepoint, so a duplicate does not poison the transaction
                    self._insert_inbox([(event_id, handler)], ignore_duplicates=False)
            except IntegrityError:
                return False
            effect()
            return True

    def seen_pairs(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (event id, handler) pairs the inbox already holds: one query for a batch."""
        ids = sorted({event_id for event_id, _ in pairs})
        if not ids:
            return set()
        found: set[tuple[str, str]] = set()
        # Chunks of compiled lookups (see ``_insert_inbox``); several in one transaction, a read is one commit.
        with self.database.transaction() if len(ids) > _COMPILED_UP_TO else contextlib.nullcontext():
            for start in range(0, len(ids), _COMPILED_UP_TO):
                chunk = ids[start:start + _COMPILED_UP_TO]
                found.update((str(e), str(h)) for e, h in self._seen_statement(len(chunk)).rows(*chunk))
        return found & set(pairs)

    def record(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Write inbox rows for non-atomic handlers that ran (one statement; a duplicate is ignored)."""
        if pairs:
            self._insert_inbox(pairs, ignore_duplicates=True)

    def process_batch(self, items: Sequence[tuple[str, str, Callable[[], None]]],
                      run: Callable[[list[int]], None] | None = None) -> int:
        """``process_atomically`` for several (event id, handler, effect) in ONE transaction: one commit for the
        batch. Any failure (an effect raising, a racing relay's inbox row) rolls everything back and
        raises; the caller then goes one at a time. ``run``: called with the positions (in ``items``) of
        the items not processed before, instead of calling their effects one by one (a transport that
        hands several events to one batch handler). Returns how many effects ran."""
        with self.database.atomic():
            seen = self.seen_pairs([(e, h) for e, h, _ in items])
            fresh = [i for i, (e, h, _) in enumerate(items) if (e, h) not in seen]
            if fresh:
                self._insert_inbox([items[i][:2] for i in fresh], ignore_duplicates=False)
            if run is not None:
                run(fresh)
            else:
                for i in fresh:
                    items[i][2]()
            return len(fresh)

    def pending_count(self) -> int:
        Outbox = self.Outbox
        return Outbox.select().where(Outbox.delivered_at.is_null() & Outbox.failed_at.is_null()).count()

    def oldest_pending(self, due_at: datetime.datetime | None = None) -> datetime.datetime | None:
        """When the oldest undelivered, unparked event occurred (``events status``); with ``due_at``, only
        among the rows due by then, i.e. not waiting out a backoff (the relay's lag). None: nothing."""
        Outbox = self.Outbox
        where = Outbox.delivered_at.is_null() & Outbox.failed_at.is_null()
        if due_at is not None:
            where &= Outbox.available_at <= due_at
        oldest: datetime.datetime | None = Outbox.select(fn.MIN(Outbox.occurred_at)).where(where).scalar()
        return oldest

    def replay_parked(self) -> int:
        """Give the parked rows (``failed_at`` set) a fresh start: due now, attempts reset, so the relay
        delivers them again (``ecommerce events replay-dead``). Returns how many."""
        Outbox = self.Outbox
        with self.database.atomic():
            replayed: int = Outbox.update(
                failed_at=None, claimed_until=None, attempts=0, available_at=utcnow()
            ).where(Outbox.failed_at.is_null(False)).execute()
        return replayed
