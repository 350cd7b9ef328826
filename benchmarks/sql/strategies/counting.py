"""Suite 7 — counting and reporting: exact answers computed live vs answers kept ready.

- "how many orders are there": ``COUNT(*)`` (reads every row, or a whole index) vs the planner's own
  estimate (PostgreSQL ``pg_class.reltuples``; SQLite ``sqlite_stat1`` after ``ANALYZE``) — free, but only
  as fresh as the last (auto)vacuum/analyze;
- "revenue and units per category, paid orders": the live ``GROUP BY`` over orders and their items vs a
  materialized view (PostgreSQL) / a summary table (SQLite) refreshed out of band, and what that refresh
  costs.

Module boundaries: ``order_items`` knows product ids, not categories (the catalog owns those). A
reporting read model keeps its own ``product -> category`` projection next to the orders
(``bench_product_category``, filled here from the catalog's database as a projection would be from its
events), so both variants are one query in the orders database.
"""

from __future__ import annotations

from typing import Any

from benchmarks.sql.harness import Plan, Rows, Target, execute, fetch
from ecommerce.modules.orders.models import database

QUESTIONS = {"count": ("count", "estimate"), "report": ("live", "materialized", "refresh")}
MAP = "bench_product_category"
SUMMARY = "bench_category_sales"
REPORT = (f"SELECT m.category_id, sum(i.quantity) AS units, sum(i.line_total) AS revenue "
          f"FROM order_items i JOIN orders o ON o.id = i.order_id JOIN {MAP} m ON m.product_id = i.product_id "
          "WHERE o.payment_status = 'paid' GROUP BY m.category_id")
READ_SUMMARY = f"SELECT category_id, units, revenue FROM {SUMMARY} ORDER BY category_id"


def prepare(target: Target) -> dict[str, Any]:
    mapping = target.call(lambda: fetch(target.db("catalog"), "SELECT id, coalesce(category_id, 0) FROM product"))

    def build() -> None:
        db = target.db("orders")
        if target.postgres:
            execute(db, f"DROP MATERIALIZED VIEW IF EXISTS {SUMMARY}")
        else:
            execute(db, f"DROP TABLE IF EXISTS {SUMMARY}")
        execute(db, f"DROP TABLE IF EXISTS {MAP}")
        execute(db, f"CREATE TABLE {MAP} (product_id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL)")
        with db.atomic():
            db.cursor().executemany(f"INSERT INTO {MAP} VALUES ({'%s, %s' if target.postgres else '?, ?'})",
                                    mapping)
        if target.postgres:
            execute(db, f"CREATE MATERIALIZED VIEW {SUMMARY} AS {REPORT}")
            execute(db, f"CREATE UNIQUE INDEX {SUMMARY}_category ON {SUMMARY} (category_id)")
        else:
            execute(db, f"CREATE TABLE {SUMMARY} (category_id INTEGER PRIMARY KEY, units INTEGER, revenue INTEGER)")
            execute(db, f"INSERT INTO {SUMMARY} {REPORT}")
        execute(db, "ANALYZE")

    target.call(build)
    return {"postgres": target.postgres}


def count(ctx: dict[str, Any]) -> Rows:
    return [int(fetch(database, "SELECT count(*) FROM orders")[0][0])]


def estimate(ctx: dict[str, Any]) -> Rows:
    if ctx["postgres"]:
        return [int(fetch(database, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'orders'::regclass")[0][0])]
    stat = fetch(database, "SELECT stat FROM sqlite_stat1 WHERE tbl = 'orders' LIMIT 1")[0][0]
    return [int(str(stat).split()[0])]


def live(ctx: dict[str, Any]) -> Rows:
    return fetch(database, REPORT + " ORDER BY m.category_id")


def materialized(ctx: dict[str, Any]) -> Rows:
    return fetch(database, READ_SUMMARY)


def refresh(ctx: dict[str, Any]) -> Rows:
    """Bring the summary up to date (what a nightly job or a trigger pays), then read it."""
    if ctx["postgres"]:
        execute(database, f"REFRESH MATERIALIZED VIEW CONCURRENTLY {SUMMARY}")
    else:
        with database.atomic():
            execute(database, f"DELETE FROM {SUMMARY}")
            execute(database, f"INSERT INTO {SUMMARY} {REPORT}")
    return materialized(ctx)


VARIANTS = {"count": count, "estimate": estimate, "live": live, "materialized": materialized, "refresh": refresh}


def plan(ctx: dict[str, Any], variant: str) -> Plan | None:
    if variant == "count":
        return Plan("orders", "SELECT count(*) FROM orders")
    if variant == "live":
        return Plan("orders", REPORT)
    if variant == "materialized":
        return Plan("orders", READ_SUMMARY)
    return None
