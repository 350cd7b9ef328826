"""Recompute the purchase model from the data lake's event log alone: truncate and replay in one
transaction (ADR 0019).

Why one transaction: readers keep seeing the old counts until the new ones commit (no empty window),
and a failure half-way leaves the old model untouched. Why the tables are locked *before* the log is
read: the relay appends an event to the log before any handler runs, so every event whose effects are
already committed is in what we read, and a handler that arrives during the rebuild waits and then
finds its work done (the handlers are idempotent) or adds an event we did not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events import Envelope
from ecommerce.kernel.events.lake import EventLake
from ecommerce.modules.recommendations import categories
from ecommerce.modules.recommendations.models import MODEL_TABLES, Pair, Sales, database
from ecommerce.modules.recommendations.reactions import MODEL_HANDLERS


@dataclass(frozen=True)
class Rebuilt:
    events: int  # distinct events replayed
    products: int  # products with sales afterwards
    pairs: int  # bought-together rows afterwards


def _lock_model() -> None:
    """Keep writers out until we commit (readers carry on). SQLite's ``BEGIN IMMEDIATE`` already did."""
    if is_postgres(database):
        tables = ", ".join(model._meta.table_name for model in MODEL_TABLES)
        database.execute_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def rebuild(lake: EventLake, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None) -> Rebuilt:
    """Truncate the model and replay every order event of the log, each once, oldest first."""
    handlers = {event.key(): (event, handler) for event, handler in MODEL_HANDLERS.items()}
    with database.atomic():
        _lock_model()
        records = lake.read(handlers)
        if total:
            total(len(records))
        for model in reversed(MODEL_TABLES):
            model.delete().execute()
        for record in records:
            event, handler = handlers[record.key]
            handler(Envelope(record.event_id, record.source, record.occurred_at, event.from_payload(record.payload)))
            if progress:
                progress(1)
        result = Rebuilt(len(records), Sales.select().count(), Pair.select().count())
    categories.refresh_all_sold()  # reference data, from the catalog, outside our transaction
    return result
