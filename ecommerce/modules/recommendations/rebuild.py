"""Recompute the purchase model from the data lake's event log alone: truncate and reload in one
transaction (ADR 0019).

The log's order events are read (each once, oldest first), folded in memory by the same rules as the
incremental handlers (``fold``), and bulk-loaded.

Why one transaction: readers keep seeing the old counts until the new ones commit (no empty window),
and a failure half-way leaves the old model untouched. Why the tables are locked *before* the log is
read: the relay appends an event to the log before any handler runs, so every event whose effects are
already committed is in what we read, and a handler that arrives during the rebuild waits, then finds
its work done (the handlers are idempotent) or adds an event we did not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import Model

from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.modules.recommendations import categories
from ecommerce.modules.recommendations.fold import KEYS, fold
from ecommerce.modules.recommendations.models import MODEL_TABLES, OrderFacts, OrderLine, Pair, Sales, database

#: Rows per INSERT (well under SQLite's bound-variable limit with four columns).
CHUNK = 1000


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


def _load(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        model.insert_many(rows[start:start + CHUNK]).execute()


def rebuild(lake: EventLake, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None) -> Rebuilt:
    """Truncate the model and reload it from every order event of the log."""
    with database.atomic():
        _lock_model()
        records = lake.read(KEYS)
        if total:
            total(len(records))

        def replay(items: list[LakeRecord]) -> Iterator[tuple[str, dict[str, Any], Any]]:
            for record in items:
                yield record.key, record.payload, record.occurred_at
                if progress:
                    progress(1)

        rows = fold(replay(records)).rows()
        for model in reversed(MODEL_TABLES):
            model.delete().execute()
        _load(OrderFacts, rows["orders"])
        _load(OrderLine, rows["lines"])
        _load(Sales, rows["sales"])
        _load(Pair, rows["pairs"])
    categories.refresh_all_sold()  # reference data, from the catalog, outside our transaction
    return Rebuilt(len(records), len(rows["sales"]), len(rows["pairs"]))
