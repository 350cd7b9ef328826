"""Suite 9 — "shard or partition" (the seed's question): ``orders`` range-partitioned by month
(PostgreSQL declarative partitioning) vs one table, for a month's report and for dropping a year.

Both copies hold every order (``CREATE TABLE AS`` / ``INSERT ... SELECT`` from ``orders``) with an index
on ``created_at``. The month report reads one month; dropping the oldest year is a ``DELETE`` on the one
table and ``DROP TABLE`` of twelve partitions on the other (no rows visited, no vacuum debt). SQLite has
no partitioning: the suite runs on PostgreSQL only.
"""

from __future__ import annotations

import datetime
from typing import Any

from benchmarks.sql.harness import Rows, Target, execute, fetch
from ecommerce.devtools.dataset import ANCHOR
from ecommerce.modules.orders.models import database

FLAT = "bench_orders_flat"
PART = "bench_orders_part"
QUESTIONS = {"month": ("one_table", "partitioned"), "drop_year": ("one_table", "partitioned")}
COLUMNS = "id, user_id, order_status, payment_status, total, created_at"
MONTHS = 26  # the 24 months of orders, plus room on both sides


def _month(offset: int) -> datetime.datetime:
    """The first day of the month ``offset`` months before the anchor's month."""
    index = ANCHOR.year * 12 + ANCHOR.month - 1 - offset
    return datetime.datetime(index // 12, index % 12 + 1, 1)


def partitions() -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    return [(f"{PART}_{_month(k):%Y_%m}", _month(k), _month(k - 1)) for k in range(MONTHS, 0, -1)]


def build(target: Target) -> None:
    """(Re)create both copies from ``orders`` (also before each drop-a-year round)."""
    def run() -> None:
        for table in (FLAT, PART):
            execute(database, f"DROP TABLE IF EXISTS {table}")
        execute(database, f"CREATE TABLE {FLAT} AS SELECT {COLUMNS} FROM orders")
        execute(database, f"CREATE INDEX {FLAT}_created ON {FLAT} (created_at)")
        execute(database, f"CREATE TABLE {PART} (id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
                          "order_status VARCHAR(20) NOT NULL, payment_status VARCHAR(20) NOT NULL, "
                          "total INTEGER NOT NULL, created_at TIMESTAMP NOT NULL) PARTITION BY RANGE (created_at)")
        for name, start, end in partitions():
            execute(database, f"CREATE TABLE {name} PARTITION OF {PART} FOR VALUES FROM (?) TO (?)", (start, end))
        execute(database, f"CREATE TABLE {PART}_default PARTITION OF {PART} DEFAULT")
        execute(database, f"CREATE INDEX {PART}_created ON {PART} (created_at)")
        execute(database, f"INSERT INTO {PART} SELECT {COLUMNS} FROM orders")
        execute(database, f"VACUUM ANALYZE {FLAT}")
        execute(database, f"VACUUM ANALYZE {PART}")

    target.call(run)


def prepare(target: Target) -> dict[str, Any]:
    if not target.postgres:
        return {"skip": "SQLite has no table partitioning"}
    build(target)
    return {"month": (_month(5), _month(4)), "cutoff": _month(12)}


def _report(table: str, ctx: dict[str, Any]) -> Rows:
    return fetch(database, f"SELECT order_status, count(*), sum(total) FROM {table} "
                           "WHERE created_at >= ? AND created_at < ? GROUP BY order_status ORDER BY order_status",
                 ctx["month"])


def month_one_table(ctx: dict[str, Any]) -> Rows:
    return _report(FLAT, ctx)


def month_partitioned(ctx: dict[str, Any]) -> Rows:
    return _report(PART, ctx)


def drop_one_table(ctx: dict[str, Any]) -> Rows:
    execute(database, f"DELETE FROM {FLAT} WHERE created_at < ?", (ctx["cutoff"],))
    return fetch(database, f"SELECT count(*) FROM {FLAT}")


def drop_partitioned(ctx: dict[str, Any]) -> Rows:
    """One ``DROP TABLE`` naming every old partition: one lock on the parent, one commit."""
    old = [name for name, _, end in partitions() if end <= ctx["cutoff"]]
    execute(database, f"DROP TABLE {', '.join(old)}")
    return fetch(database, f"SELECT count(*) FROM {PART}")


VARIANTS = {("month", "one_table"): month_one_table, ("month", "partitioned"): month_partitioned,
            ("drop_year", "one_table"): drop_one_table, ("drop_year", "partitioned"): drop_partitioned}


def plan_sql(ctx: dict[str, Any], question: str, variant: str) -> tuple[str, tuple[Any, ...]]:
    table = FLAT if variant == "one_table" else PART
    if question == "month":
        return (f"SELECT order_status, count(*), sum(total) FROM {table} WHERE created_at >= ? "
                "AND created_at < ? GROUP BY order_status", ctx["month"])
    if variant == "one_table":
        return f"DELETE FROM {FLAT} WHERE created_at < ?", (ctx["cutoff"],)
    return f"SELECT count(*) FROM {PART} WHERE created_at < ?", (ctx["cutoff"],)
