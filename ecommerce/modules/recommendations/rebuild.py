"""Recompute the purchase model from the data lake's event log alone: truncate and reload in one
transaction (ADR 0019).

Two engines compute the same tables from the log's order events (each once, by event id, from the
Parquet files and the not yet compacted JSON lines alike), then the rows are bulk-loaded:

- ``duckdb`` (default): SQL over the lake (``lake_sql``) — grouping and the pair self-join in a columnar
  engine;
- ``fold``: the events read into Python, oldest first, and folded in memory (``fold``) — kept as the
  reference the SQL is checked against and for the benchmark's comparison.

Why one transaction: readers keep seeing the old counts until the new ones commit (no empty window),
and a failure half-way leaves the old model untouched. Why the tables are locked *before* the log is
read: the relay appends an event to the log before any handler runs, so every event whose effects are
already committed is in what we read, and a handler that arrives during the rebuild waits, then finds
its work done (the handlers are idempotent) or adds an event we did not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from peewee import Model

from ecommerce.kernel.bulk import copy_rows
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.lake.sql import read_records
from ecommerce.modules.recommendations import categories, lake_sql
from ecommerce.modules.recommendations.fold import KEYS, fold
from ecommerce.modules.recommendations.models import MODEL_TABLES, OrderFacts, OrderLine, Pair, Sales, database

ENGINES = ("duckdb", "fold")
TABLES: dict[str, type[Model]] = {"orders": OrderFacts, "lines": OrderLine, "sales": Sales, "pairs": Pair}
Tables = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


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


def _load(model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        copy_rows(database, model._meta.table_name, columns, rows)


def _folded(lake: EventLake, progress: Callable[[int], None] | None,
            total: Callable[[int], None] | None) -> tuple[int, Tables]:
    records = read_records(lake.events_dir, lake_sql.SCHEMAS, KEYS)
    if total:
        total(len(records))

    def replay(items: list[LakeRecord]) -> Iterator[tuple[str, dict[str, Any], Any]]:
        for record in items:
            yield record.key, record.payload, record.occurred_at
            if progress:
                progress(1)

    rows = fold(replay(records)).rows()
    return len(records), {table: (list(found[0]) if found else [], [tuple(r.values()) for r in found])
                          for table, found in rows.items()}


def compute(lake: EventLake, engine: str = "duckdb", progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None) -> tuple[int, Tables]:
    """(distinct order events, the model's rows) from the lake, by ``engine``; loads nothing."""
    if engine not in ENGINES:
        raise ValueError(f"unknown rebuild engine {engine!r} (one of {', '.join(ENGINES)})")
    if engine == "fold":
        return _folded(lake, progress, total)
    events, tables = lake_sql.model_tables(lake.events_dir)
    if total:
        total(events)
    if progress:
        progress(events)
    return events, tables


def rebuild(lake: EventLake, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None, engine: str = "duckdb") -> Rebuilt:
    """Truncate the model and reload it from every order event of the log."""
    with database.atomic():
        _lock_model()
        events, tables = compute(lake, engine, progress, total)
        for model in reversed(MODEL_TABLES):
            model.delete().execute()
        for name, model in TABLES.items():
            _load(model, *tables[name])
    categories.refresh_all_sold()  # reference data, from the catalog, outside our transaction
    return Rebuilt(events, len(tables["sales"][1]), len(tables["pairs"][1]))
