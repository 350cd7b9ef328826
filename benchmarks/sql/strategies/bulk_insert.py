"""Suite 6 — inserting many rows: one statement and commit per row vs one transaction vs peewee's
``insert_many`` in chunks vs the driver's batch paths (``executemany`` on SQLite; ``execute_values`` and
``COPY FROM STDIN`` on PostgreSQL).

The rows are order lines (the shape of ``order_items``) written into a scratch copy, ``bench_items``,
emptied before each round. Each variant returns (row count, sum of line totals) read back afterwards.
"""

from __future__ import annotations

import csv
import io
import random
from typing import Any

from peewee import AutoField, CharField, IntegerField, Model
from psycopg2.extras import execute_values

from benchmarks.sql.harness import Plan, Rows, Target, execute, fetch, raw, sql
from ecommerce.modules.orders.models import database

ROWS = 2_000
SMOKE_ROWS = 200
CHUNK = 500
TABLE = "bench_items"
COLUMNS = ("order_id", "product_id", "product_name", "sku", "unit_price", "quantity", "line_total")
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


class BenchItem(Model):
    id = AutoField()
    order_id = IntegerField()
    product_id = IntegerField()
    product_name = CharField(max_length=200)
    sku = CharField(max_length=64)
    unit_price = IntegerField()
    quantity = IntegerField()
    line_total = IntegerField()

    class Meta:
        database = database
        table_name = TABLE


def prepare(target: Target) -> dict[str, Any]:
    def build() -> None:
        BenchItem.drop_table(safe=True)
        BenchItem.create_table()

    target.call(build)
    return {"postgres": target.postgres}


def variants(postgres: bool) -> tuple[str, ...]:
    base = ("row_autocommit", "one_transaction", "insert_many")
    return (*base, "execute_values", "copy") if postgres else (*base, "executemany")


def rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        price, quantity = rng.randrange(500, 50_000), rng.randint(1, 4)
        product = rng.randint(1, 1000)
        out.append((i // 3 + 1, product, f"Product {product}", f"SKU-{i:06d}", price, quantity, price * quantity))
    return out


def empty(target: Target) -> None:
    target.call(lambda: execute(database, f"DELETE FROM {TABLE}"))


def _contents() -> Rows:
    return fetch(database, f"SELECT count(*), coalesce(sum(line_total), 0) FROM {TABLE}")


def row_autocommit(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    """Every INSERT is its own transaction: one commit (and, durably, one log flush) per row."""
    for row in data:
        execute(database, INSERT, row)
    return _contents()


def one_transaction(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    with database.atomic():
        for row in data:
            execute(database, INSERT, row)
    return _contents()


def insert_many(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    """peewee: multi-row ``INSERT ... VALUES (...), (...)`` statements of ``CHUNK`` rows."""
    fields = [getattr(BenchItem, c) for c in COLUMNS]
    with database.atomic():
        for start in range(0, len(data), CHUNK):
            BenchItem.insert_many(data[start:start + CHUNK], fields=fields).execute()
    return _contents()


def executemany(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    """SQLite's fastest path: one prepared statement stepped once per row, in one transaction."""
    with database.atomic():
        database.cursor().executemany(sql(database, INSERT), data)
        raw(1)
    return _contents()


def values(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    """psycopg2 ``execute_values``: rows folded into pages of 1,000-row VALUES lists."""
    with database.atomic():
        execute_values(database.cursor(), f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES %s", data,
                       page_size=1000)
        raw((len(data) + 999) // 1000)
    return _contents()


def copy(ctx: dict[str, Any], data: list[tuple[Any, ...]]) -> Rows:
    """PostgreSQL ``COPY FROM STDIN``: the rows stream as CSV, no statement per row at all."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(data)
    buffer.seek(0)
    with database.atomic():
        database.cursor().copy_expert(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buffer)
        raw(1)
    return _contents()


def plan(variant: str) -> Plan | None:
    """The per-row INSERT's plan for the statement-based paths; COPY has no plan to show."""
    if variant in ("copy", "execute_values", "insert_many"):
        return None
    return Plan("orders", INSERT, rows(1)[0])


VARIANTS = {"row_autocommit": row_autocommit, "one_transaction": one_transaction, "insert_many": insert_many,
            "executemany": executemany, "execute_values": values, "copy": copy}
