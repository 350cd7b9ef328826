"""The relay: moves events from every module's outbox to the subscribed handlers, at least once.

How it stays correct with several workers (or a relay that dies mid-batch):
- a row is *claimed* with a conditional update (``claimed_until`` lease) — never check-then-act — so two
  relays do not work on the same row at once, and a dead relay's claim simply expires;
- every handler runs through its module's inbox, so a row delivered twice has its effects once;
- a failing handler makes the row retry later with exponential backoff; after ``max_attempts`` it is
  parked as failed (visible in ``ecommerce events status``), never silently dropped. Handlers that
  already succeeded are not re-run on retry (the inbox remembers them);
- with a data lake (``lake.py``), each event is appended to its log *before* the handlers run, so a
  reader of the log never misses an event whose effects are already visible (it may see one twice).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.events.event import Envelope, Subscription
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.events.tables import EventTables

log = logging.getLogger("ecommerce.events")
LAKE_ERROR = "lake:"


@dataclass(frozen=True)
class Consumer:
    """A module that handles events: its inbox and its subscriptions."""

    module: str
    tables: EventTables
    subscriptions: Sequence[Subscription]


@dataclass
class RelayReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: RelayReport) -> RelayReport:
        self.delivered += other.delivered
        self.retried += other.retried
        self.failed += other.failed
        self.errors.extend(other.errors)
        return self


def backoff(attempts: int) -> datetime.timedelta:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return datetime.timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))


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
    ) -> None:
        self.sources = list(sources)
        self.routes: dict[str, list[tuple[Consumer, Subscription]]] = {}
        for consumer in consumers:
            for sub in consumer.subscriptions:
                self.routes.setdefault(sub.event.key(), []).append((consumer, sub))
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.lease = datetime.timedelta(seconds=lease_seconds)
        self.lake = lake

    def run_once(self, now: datetime.datetime | None = None) -> RelayReport:
        """Deliver every due event once; returns what happened. Safe to call from many processes."""
        report = RelayReport()
        for source in self.sources:
            report += self._drain(source, now)
        return report

    def _drain(self, source: EventTables, now: datetime.datetime | None) -> RelayReport:
        report = RelayReport()
        moment = now or utcnow()
        Outbox = source.Outbox
        due = (
            Outbox.select()
            .where(
                Outbox.delivered_at.is_null()
                & Outbox.failed_at.is_null()
                & (Outbox.available_at <= moment)
                & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < moment))
            )
            .order_by(Outbox.id)
            .limit(self.batch_size)
        )
        for row in list(due):
            claimed = (
                Outbox.update(claimed_until=moment + self.lease)
                .where(
                    (Outbox.id == row.id)
                    & Outbox.delivered_at.is_null()
                    & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < moment))
                )
                .execute()
            )
            if claimed != 1:
                continue  # another relay got there first
            report += self._deliver(source, row, moment)
        return report

    def _deliver(self, source: EventTables, row: object, moment: datetime.datetime) -> RelayReport:
        report = RelayReport()
        Outbox = source.Outbox
        errors: list[str] = []
        lake_error = self._record(source, row)
        if lake_error:
            errors.append(lake_error)
        for consumer, sub in self.routes.get(row.name, []):  # type: ignore[attr-defined]
            envelope = Envelope(
                event_id=row.event_id,  # type: ignore[attr-defined]
                source=source.module,
                occurred_at=row.occurred_at,  # type: ignore[attr-defined]
                event=sub.event.from_payload(json.loads(row.payload)),  # type: ignore[attr-defined]
            )
            process = consumer.tables.process_once if sub.atomic else consumer.tables.process_idempotent
            try:
                process(envelope.event_id, sub.handler_name, partial(sub.handler, envelope))
            except Exception as exc:  # a handler's failure must not stop the others
                log.warning(
                    "event handler failed",
                    extra={"event": row.name, "handler": sub.handler_name, "error": repr(exc)},  # type: ignore[attr-defined]
                )
                errors.append(f"{sub.handler_name}: {exc!r}")
        attempts = row.attempts + 1  # type: ignore[attr-defined]
        mine = Outbox.id == row.id  # type: ignore[attr-defined]
        if not errors:
            Outbox.update(delivered_at=utcnow(), attempts=attempts, claimed_until=None).where(mine).execute()
            report.delivered += 1
        elif attempts >= self.max_attempts:
            Outbox.update(
                failed_at=moment, attempts=attempts, claimed_until=None, last_error="\n".join(errors)
            ).where(mine).execute()
            log.error("event parked after %d attempts", attempts, extra={"event": row.name})  # type: ignore[attr-defined]
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

    def _record(self, source: EventTables, row: object) -> str | None:
        """Append the event to the lake on its first delivery attempt (and again only if that append
        failed). A failed append does not hold the handlers back; the row is retried like a failed
        handler, so the log gets the event later. Returns the error text, if any."""
        if self.lake is None:
            return None
        if row.attempts and not (row.last_error or "").startswith(LAKE_ERROR):  # type: ignore[attr-defined]
            return None
        key: str = row.name  # type: ignore[attr-defined]
        version: int = row.version  # type: ignore[attr-defined]
        suffix = f".v{version}"
        record = LakeRecord(
            event_id=row.event_id,  # type: ignore[attr-defined]
            name=key[: -len(suffix)] if key.endswith(suffix) else key,
            version=version,
            occurred_at=row.occurred_at,  # type: ignore[attr-defined]
            source=source.module,
            payload=json.loads(row.payload),  # type: ignore[attr-defined]
        )
        try:
            self.lake.append(record)
        except OSError as exc:
            log.warning("event lake append failed", extra={"event": key, "error": repr(exc)})
            return f"{LAKE_ERROR} {exc!r}"
        return None
