"""Recompute the purchase model from the data lake's event log alone: truncate and reload in one
transaction (ADR 0019).

Two engines compute the same tables from the log's order events (from the Parquet files and the not
yet compacted JSON lines alike), then the rows are bulk-loaded:

- ``duckdb`` (default): SQL over the lake (``lake_sql``) — grouping and the pair self-join in a columnar
  engine; the rows stay in DuckDB until the load streams them (batches of tuples into SQLite's
  ``executemany``; a CSV file DuckDB writes into PostgreSQL's ``COPY``);
- ``fold``: the events read into Python (each once, by event id), oldest first, and folded in memory
  (``lake_python``) — kept as the reference the SQL is checked against and for the benchmark's comparison.

On SQLite the tables' secondary indexes are dropped before the load and built again after it, inside
the same transaction (``bulk.indexes_set_aside``): one sort per index instead of a b-tree insert per row.

Why one transaction: readers keep seeing the old counts until the new ones commit (no empty window),
and a failure half-way leaves the old model untouched. Why the tables are locked *before* the log is
read: the relay appends an event to the log before any handler runs, so every event whose effects are
already committed is in what we read, and a handler that arrives during the rebuild waits, then finds
its work done (the handlers are idempotent) or adds an event we did not read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ecommerce.kernel.bulk import copy_csv, copy_rows, indexes_set_aside
from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.lake.sql import read_records
from ecommerce.modules.recommendations import categories, lake_sql
from ecommerce.modules.recommendations.lake_python import KEYS, fold
from ecommerce.modules.recommendations.models import MODEL_TABLES, OrderFacts, OrderLine, Pair, Sales, database

ENGINES = ("duckdb", "fold")
TABLES = {"orders": OrderFacts, "lines": OrderLine, "sales": Sales, "pairs": Pair}


@dataclass(frozen=True)
class Rebuilt:
    events: int  # distinct events replayed
    products: int  # products with sales afterwards
    pairs: int  # bought-together rows afterwards


class Rows(Protocol):
    """An engine's result: the model's rows per table (``orders``, ``lines``, ``sales``, ``pairs``)."""

    events: int

    def columns(self, table: str) -> list[str]: ...

    def count(self, table: str) -> int: ...

    def rows(self, table: str) -> Iterable[Sequence[Any]]: ...

    def close(self) -> None: ...


@dataclass
class Folded:
    """The fold's rows, as Python lists."""

    events: int
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]]

    def columns(self, table: str) -> list[str]:
        return self.tables[table][0]

    def count(self, table: str) -> int:
        return len(self.tables[table][1])

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return self.tables[table][1]

    def close(self) -> None:
        self.tables.clear()


def _lock_model() -> None:
    """Keep writers out until we commit (readers carry on). SQLite's ``BEGIN IMMEDIATE`` already did."""
    if is_postgres(database):
        tables = ", ".join(model._meta.table_name for model in MODEL_TABLES)
        database.execute_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def _load(name: str, found: Rows, scratch: Path) -> None:
    table = TABLES[name]._meta.table_name
    if not found.count(name):
        return
    if is_postgres(database) and isinstance(found, lake_sql.Computed):
        path = scratch / f"{name}.csv"
        found.write_csv(name, path)
        copy_csv(database, table, found.columns(name), path)
        path.unlink()
    elif isinstance(found, lake_sql.Computed):
        copy_rows(database, table, found.columns(name), found.rows(name, times_as_text=True))
    else:
        copy_rows(database, table, found.columns(name), found.rows(name))


def _folded(lake: EventLake, progress: Callable[[int], None] | None,
            total: Callable[[int], None] | None) -> Folded:
    records = read_records(lake.events_dir, lake_sql.SCHEMAS, KEYS)
    if total:
        total(len(records))

    def replay(items: list[LakeRecord]) -> Iterator[tuple[str, dict[str, Any], Any]]:
        for record in items:
            yield record.key, record.payload, record.occurred_at
            if progress:
                progress(1)

    rows = fold(replay(records)).rows()
    return Folded(len(records), {table: (list(found[0]) if found else [], [tuple(r.values()) for r in found])
                                 for table, found in rows.items()})


def compute(lake: EventLake, engine: str = "duckdb", progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None) -> Rows:
    """The model's rows from the lake, by ``engine``; loads nothing. Close the result when done."""
    if engine not in ENGINES:
        raise ValueError(f"unknown rebuild engine {engine!r} (one of {', '.join(ENGINES)})")
    if engine == "fold":
        return _folded(lake, progress, total)
    computed = lake_sql.compute(lake.events_dir)
    if total:
        total(computed.events)
    if progress:
        progress(computed.events)
    return computed


def rebuild(lake: EventLake, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None, engine: str = "duckdb") -> Rebuilt:
    """Truncate the model and reload it from every order event of the log."""
    with database.atomic(), tempfile.TemporaryDirectory(prefix="rebuild-") as scratch:
        _lock_model()
        found = compute(lake, engine, progress, total)
        try:
            names = [model._meta.table_name for model in MODEL_TABLES]
            with indexes_set_aside(database, names):
                for model in reversed(MODEL_TABLES):
                    model.delete().execute()
                for name in TABLES:
                    _load(name, found, Path(scratch))
            done = Rebuilt(found.events, found.count("sales"), found.count("pairs"))
        finally:
            found.close()
    categories.refresh_all_sold()  # reference data, from the catalog, outside our transaction
    return done
