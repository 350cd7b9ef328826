"""The fastest load path each database offers, behind one ``copy_rows(db, table, columns, rows)``.

- PostgreSQL: ``COPY table (columns) FROM STDIN`` (CSV) through psycopg2's ``copy_expert`` — one round
  trip per call, no per-row parsing or planning;
- SQLite: ``executemany`` of one prepared ``INSERT``.

Both run inside the caller's transaction. Used where many rows are written at once: the benchmark dataset
and the recommendations rebuild (hundreds of thousands of rows; ``insert_many`` would spend longer
building SQL text than the database spends storing it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import Database, DatabaseProxy

from ecommerce.kernel.database import is_postgres

NULL = r"\N"


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
        db.cursor().copy_expert(f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
    else:
        marks = ", ".join("?" for _ in columns)
        db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
