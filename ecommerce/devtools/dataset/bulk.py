"""The fastest load path each database offers (``ecommerce.kernel.bulk.copy_rows``: ``COPY`` on PostgreSQL,
``executemany`` on SQLite), in chunked transactions; on SQLite with ``synchronous=OFF`` while loading (a
crash mid-load loses only the half-generated dataset).

Rows carry explicit ids (orders point at users, items at orders...), so PostgreSQL's sequences are moved
past them afterwards (``fix_sequence``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from peewee import Database

from ecommerce.kernel.bulk import copy_rows
from ecommerce.kernel.database import is_postgres


class BulkWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = is_postgres(db)

    @contextmanager
    def transaction(self) -> Iterator[BulkWriter]:
        """One transaction for the whole load (SQLite: with fsync off until it commits)."""
        with self.db.connection_context():
            if not self.postgres:
                self.db.execute_sql("PRAGMA synchronous = OFF")
            try:
                with self.db.atomic():
                    yield self
            finally:
                if not self.postgres:
                    self.db.execute_sql("PRAGMA synchronous = NORMAL")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        copy_rows(self.db, table, columns, rows)

    def load(self, *tables: tuple[str, Sequence[str], Sequence[Sequence[Any]]]) -> None:
        """Several tables' rows in one transaction (a chunk of parents and their children)."""
        with self.transaction():
            for table, columns, rows in tables:
                self.write(table, columns, rows)

    def fix_sequences(self, *tables: str) -> None:
        with self.transaction():
            for table in tables:
                self.fix_sequence(table)

    def analyze(self, *tables: str) -> None:
        """Fresh planner statistics: right after a bulk load they still describe the empty tables, and
        the planner would pick full scans (autovacuum would get there, minutes later). On PostgreSQL
        ``VACUUM`` too: it sets the visibility map (index-only scans) and flushes GIN pending lists."""
        command = "VACUUM ANALYZE" if self.postgres else "ANALYZE"
        with self.db.connection_context():
            for table in tables:
                self.db.execute_sql(f'{command} "{table}"')

    def fix_sequence(self, table: str, column: str = "id") -> None:
        """PostgreSQL: the next ``nextval`` must land after the ids we wrote ourselves."""
        if self.postgres:
            self.db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                f"(SELECT coalesce(max(\"{column}\"), 0) + 1 FROM \"{table}\"), false)"
            )

    def max_id(self, table: str, column: str = "id") -> int:
        row = self.db.execute_sql(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"').fetchone()
        return int(row[0])
