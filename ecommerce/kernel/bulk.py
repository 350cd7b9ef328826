"""The fastest load path each database offers, behind one ``copy_rows(db, table, columns, rows)``.

- PostgreSQL: ``COPY table (columns) FROM STDIN`` (CSV) through psycopg2's ``copy_expert`` — one round
  trip per call, no per-row parsing or planning;
- SQLite: ``executemany`` of one prepared ``INSERT``.

Both run inside the caller's transaction. Used where many rows are written at once: the benchmark dataset
and the recommendations rebuild (hundreds of thousands of rows; ``insert_many`` would spend longer
building SQL text than the database spends storing it). Two helpers for a whole-table reload:
``copy_csv`` (PostgreSQL ``COPY`` from a CSV file another engine wrote, no Python object per row) and
``indexes_set_aside`` (SQLite: build secondary indexes once after the load instead of row by row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peewee import Database, DatabaseProxy

from ecommerce.kernel.database import is_postgres

NULL = r"\N"


def _copy(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"


def copy_rows(db: Database | DatabaseProxy, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    if is_postgres(db):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow([NULL if value is None else value for value in row])
        if not buffer.tell():
            return
        buffer.seek(0)
        db.cursor().copy_expert(_copy(table, columns), buffer)
    else:
        marks = ", ".join("?" for _ in columns)
        db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def copy_csv(db: Database | DatabaseProxy, table: str, columns: Sequence[str], path: Path) -> None:
    """PostgreSQL: ``COPY`` a CSV file (no header, ``\\N`` for NULL) into ``table``, in one round trip."""
    with path.open(encoding="utf-8") as source:
        db.cursor().copy_expert(_copy(table, columns), source)


@contextmanager
def indexes_set_aside(db: Database | DatabaseProxy, tables: Sequence[str]) -> Iterator[None]:
    """Inside the caller's transaction, around emptying and reloading ``tables``: on SQLite, drop their
    secondary indexes first and create them again (same SQL) afterwards — one sort per index instead of a
    b-tree insert per row. Readers keep their snapshot (WAL) until the commit, and a failure rolls the
    indexes back with the rows. On PostgreSQL nothing: ``DROP INDEX`` would block readers until the commit."""
    if is_postgres(db):
        yield
        return
    marks = ", ".join("?" for _ in tables)
    found = db.execute_sql(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           f"AND tbl_name IN ({marks})", list(tables)).fetchall()
    for name, _ in found:
        db.execute_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in found:
        db.execute_sql(sql)
