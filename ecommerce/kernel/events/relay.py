"""The relay: moves events from every module's outbox to the subscribed handlers, at least once, in batches.

How it stays correct with several workers (or a relay that dies mid-batch):
- a batch of due rows is *claimed* in one statement that sets a ``claimed_until`` lease — never
  check-then-act. On PostgreSQL the statement picks the rows with ``FOR UPDATE SKIP LOCKED``, so relays
  claiming at the same moment take different rows instead of queueing; on SQLite the claim runs in one
  ``BEGIN IMMEDIATE`` transaction (one writer at a time anyway). A dead relay's lease simply expires;
- the batch goes through a ``Transport``: in-process (the default), each consuming module processes its
  events in one inbox transaction, one at a time when a handler fails, so redelivered events have their
  effects once and a poison event does not hold the others back; with RabbitMQ
  (``rabbitmq.RabbitTransport``) the batch is published with confirms and a row counts as delivered once
  the broker confirmed it (the consumers' retries and dead letters are then the broker's side);
- rows that every handler accepted are marked delivered in one statement; a failing one is retried
  later with exponential backoff and, after ``max_attempts``, parked as failed (visible in
  ``ecommerce events status``), never silently dropped. Handlers that already succeeded are not re-run
  on retry (the inbox remembers them);
- with a data lake (``lake.py``), each event is appended to its log *before* the handlers run, so a
  reader of the log never misses an event whose effects are already visible (it may see one twice).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import threading
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.events.tables import EventTables
from ecommerce.kernel.events.transport import UNREACHABLE, Consumer, InProcessTransport, Transport, outbox_event
from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.statements import Statement
from ecommerce.kernel.tally import Tally

__all__ = ["Consumer", "Relay", "RelayReport", "backoff"]

log = logging.getLogger("ecommerce.events")
LAKE_ERROR = "lake:"


@dataclass
class RelayReport(Tally):
    """What a relay pass did with the outbox rows it claimed."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


def backoff(attempts: int) -> datetime.timedelta:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return datetime.timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))


class _Claim:
    """A compiled claim (``Statement``; datetimes declared ``str``) whose rows are named tuples."""

    def __init__(self, source: EventTables, build: Callable[..., Any], columns: list[str]) -> None:
        self.statement = Statement(source.database, build, str, str)
        self.row = namedtuple("OutboxRow", columns)  # type: ignore[misc]

    def rows(self, moment: datetime.datetime, lease: datetime.datetime) -> list[Any]:
        return [self.row(*values) for values in self.statement.rows(moment, lease)]


class Relay:
    def __init__(
        self,
        sources: Iterable[EventTables],
        consumers: Iterable[Consumer],
        *,
        batch_size: int = 100,
        max_attempts: int = 10,
        lease_seconds: float = 30.0,
        lake: EventLake | None = None,
        transport: Transport | None = None,
        on_report: Callable[[str, RelayReport], None] | None = None,
    ) -> None:
        self.sources = list(sources)
        #: Where claimed rows go: the subscribers in this process unless a broker transport is given.
        self.transport: Transport = transport or InProcessTransport(consumers)
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.lease = datetime.timedelta(seconds=lease_seconds)
        self.lake = lake
        #: Told each publishing module's share of a pass (the event metrics); must not raise.
        self.on_report = on_report
        self._hints: set[str] = set()
        self._hints_lock = threading.Lock()
        self._claims: dict[str, _Claim] = {}

    def run_once(self, now: datetime.datetime | None = None) -> RelayReport:
        """Deliver one batch of due events per module; returns what happened. Safe from many processes."""
        report = RelayReport()
        for source in self.sources:
            report += self._drain(source, now)
        return report

    def hint(self, modules: Iterable[str]) -> None:
        """Note that ``modules`` committed events (a publish listener): the next ``run_hinted`` looks there."""
        with self._hints_lock:
            self._hints.update(modules)

    @property
    def hinted(self) -> bool:
        return bool(self._hints)

    def run_hinted(self, now: datetime.datetime | None = None) -> RelayReport:
        """A pass over only the outboxes that committed events since the last one: a woken relay does not
        poll a dozen idle outboxes (each poll is a commit on PostgreSQL). Events of other processes, and
        retries whose backoff ends, wait for the next full ``run_once`` (the poll interval)."""
        with self._hints_lock:
            wanted, self._hints = self._hints, set()
        report = RelayReport()
        for source in self.sources:
            if source.module in wanted:
                found = self._drain(source, now)
                if found.delivered + found.retried + found.failed >= self.batch_size:
                    self.hint([source.module])  # a full batch: there may be more
                report += found
        return report

    def _drain(self, source: EventTables, now: datetime.datetime | None) -> RelayReport:
        moment = now or utcnow()
        rows = self._claim(source, moment)
        if not rows:
            return RelayReport()
        report = self._deliver(source, rows, moment)
        if self.on_report is not None:
            self.on_report(source.module, report)
        return report

    def _claim(self, source: EventTables, moment: datetime.datetime) -> list[Any]:
        """Claim up to ``batch_size`` due rows, oldest first, in one statement and one commit."""
        Outbox = source.Outbox
        due = (
            Outbox.delivered_at.is_null()
            & Outbox.failed_at.is_null()
            & (Outbox.available_at <= moment)
            & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < moment))
        )
        lease = moment + self.lease
        if is_postgres(source.database):
            # One statement, a transaction of its own (autocommit: no BEGIN and COMMIT round trips), compiled
            # once per outbox (peewee building it was a tenth of the relay process's CPU under load).
            return sorted(self._claim_statement(source).rows(moment, lease), key=lambda row: row[0])
        if not Outbox.select(Outbox.id).where(due).exists():
            return []  # SQLite: an idle outbox costs a read, not the database's only write lock
        with source.database.atomic():
            # SQLite: BEGIN IMMEDIATE holds the only write lock, so nothing changes between these two.
            rows = list(Outbox.select().where(due).order_by(Outbox.id).limit(self.batch_size))
            if rows:
                Outbox.update(claimed_until=lease).where(Outbox.id.in_([row.id for row in rows])).execute()
            return rows

    def _claim_statement(self, source: EventTables) -> _Claim:
        """PostgreSQL's claim of ``source``: rows another relay is claiming right now are locked, so they are
        skipped rather than waited for. Rows come back as named tuples with the outbox's columns."""
        found = self._claims.get(source.module)
        if found is None:
            Outbox = source.Outbox
            fields = Outbox._meta.sorted_fields

            def build(moment: Any, lease: Any) -> Any:
                due = (
                    Outbox.delivered_at.is_null()
                    & Outbox.failed_at.is_null()
                    & (Outbox.available_at <= moment)
                    & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < moment))
                )
                pick = Outbox.select(Outbox.id).where(due).order_by(Outbox.id).limit(self.batch_size)
                return (Outbox.update(claimed_until=lease).where(Outbox.id.in_(pick.for_update(skip_locked=True)))
                        .returning(*fields))

            found = self._claims[source.module] = _Claim(source, build, [f.name for f in fields])
        return found

    def _deliver(self, source: EventTables, rows: list[Any], moment: datetime.datetime) -> RelayReport:
        """Lake first, then the transport; then mark the batch in one transaction."""
        failures: dict[int, list[str]] = {}
        for row in rows:
            lake_error = self._record(source, row)
            if lake_error:
                failures[row.id] = [lake_error]
        for row_id, errors in self.transport.publish([outbox_event(row, source.module) for row in rows]).items():
            if errors:
                failures.setdefault(row_id, []).extend(errors)
        crash_point("relay.after_publish")
        return self._mark(source, rows, failures, moment)

    def _mark(
        self, source: EventTables, rows: list[Any], failures: dict[int, list[str]], moment: datetime.datetime
    ) -> RelayReport:
        report = RelayReport()
        Outbox = source.Outbox
        done = [row.id for row in rows if row.id not in failures]
        # Nothing failed (the usual pass): one UPDATE, a transaction of its own; BEGIN and COMMIT around it
        # would add two round trips and no atomicity.
        with source.database.atomic() if failures else contextlib.nullcontext():
            if done:
                Outbox.update(
                    delivered_at=utcnow(), attempts=Outbox.attempts + 1, claimed_until=None
                ).where(Outbox.id.in_(done)).execute()
                report.delivered += len(done)
            for row in rows:
                errors = failures.get(row.id)
                if not errors:
                    continue
                mine = Outbox.id == row.id
                unreachable = all(error.startswith(UNREACHABLE) for error in errors)
                # An outage is not the event's fault: retried (backoff capped) for as long as it lasts.
                attempts = min(row.attempts + 1, 5, self.max_attempts - 1) if unreachable else row.attempts + 1
                if attempts >= self.max_attempts:
                    Outbox.update(
                        failed_at=moment, attempts=attempts, claimed_until=None, last_error="\n".join(errors)
                    ).where(mine).execute()
                    log.error("event parked after %d attempts", attempts, extra={"event": row.name})
                    report.failed += 1
                else:
                    Outbox.update(
                        available_at=moment + backoff(attempts),
                        attempts=attempts,
                        claimed_until=None,
                        last_error="\n".join(errors),
                    ).where(mine).execute()
                    report.retried += 1
                report.errors.extend(errors)
        return report

    def _record(self, source: EventTables, row: Any) -> str | None:
        """Append the event to the lake on its first delivery attempt (and again only if that append
        failed). A failed append does not hold the handlers back; the row is retried like a failed
        handler, so the log gets the event later. Returns the error text, if any."""
        if self.lake is None:
            return None
        if row.attempts and not (row.last_error or "").startswith(LAKE_ERROR):
            return None
        key: str = row.name
        version: int = row.version
        suffix = f".v{version}"
        record = LakeRecord(
            event_id=row.event_id,
            name=key[: -len(suffix)] if key.endswith(suffix) else key,
            version=version,
            occurred_at=row.occurred_at,
            source=source.module,
            payload=json.loads(row.payload),
        )
        try:
            self.lake.append(record)
        except OSError as exc:
            log.warning("event lake append failed", extra={"event": key, "error": repr(exc)})
            return f"{LAKE_ERROR} {exc!r}"
        return None
