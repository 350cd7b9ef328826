"""Suite 3 — index choices for two real questions, on a copy of ``orders`` whose indexes we control.

- "a customer's 20 most recent orders" (the busiest customer: hundreds of orders);
- "the 50 oldest orders still pending payment" (the expiry job; ~3% of orders are pending).

Variants: no index; a single-column index on the filter; a composite (filter, sort) index; a covering
index (composite plus the selected columns: ``INCLUDE`` on PostgreSQL, extra key columns on SQLite);
and, for the pending question, a partial index holding only pending orders. The copy
(``bench_orders_idx``, built with ``CREATE TABLE AS`` from ``orders``) has the same rows; the production
table keeps the indexes its migration chose.
"""

from __future__ import annotations

from typing import Any

from benchmarks.sql.harness import Plan, Rows, Target, execute, fetch
from ecommerce.modules.orders.models import database

TABLE = "bench_orders_idx"
RECENT = (f"SELECT id, created_at, order_status, total FROM {TABLE} WHERE user_id = ? "
          "ORDER BY created_at DESC LIMIT 20")
PENDING = (f"SELECT id, user_id, created_at FROM {TABLE} WHERE order_status = 'pending_payment' "
           "ORDER BY created_at LIMIT 50")
#: question -> variant -> (PostgreSQL DDL, SQLite DDL); None = not applicable to that question
INDEXES: dict[str, dict[str, tuple[str, str] | None]] = {
    "recent": {
        "none": ("", ""),
        "single": (f"CREATE INDEX bench_ix ON {TABLE} (user_id)",) * 2,
        "composite": (f"CREATE INDEX bench_ix ON {TABLE} (user_id, created_at)",) * 2,
        "covering": (f"CREATE INDEX bench_ix ON {TABLE} (user_id, created_at) INCLUDE (id, order_status, total)",
                     f"CREATE INDEX bench_ix ON {TABLE} (user_id, created_at, order_status, total)"),
        "partial": None,
    },
    "pending": {
        "none": ("", ""),
        "single": (f"CREATE INDEX bench_ix ON {TABLE} (order_status)",) * 2,
        "composite": (f"CREATE INDEX bench_ix ON {TABLE} (order_status, created_at)",) * 2,
        "covering": (f"CREATE INDEX bench_ix ON {TABLE} (order_status, created_at) INCLUDE (id, user_id)",
                     f"CREATE INDEX bench_ix ON {TABLE} (order_status, created_at, user_id)"),
        "partial": (f"CREATE INDEX bench_ix ON {TABLE} (created_at) WHERE order_status = 'pending_payment'",) * 2,
    },
}
QUESTIONS = tuple(INDEXES)
VARIANTS = ("none", "single", "composite", "covering", "partial")


def prepare(target: Target) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        db = target.db("orders")
        execute(db, f"DROP TABLE IF EXISTS {TABLE}")
        execute(db, f"CREATE TABLE {TABLE} AS SELECT id, user_id, order_status, payment_status, total, "
                    "created_at FROM orders")
        busiest = fetch(db, "SELECT user_id FROM orders GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1")
        return {"user_id": busiest[0][0], "current": None}

    return target.call(build)


def applicable(question: str, variant: str) -> bool:
    return INDEXES[question][variant] is not None


def use(target: Target, ctx: dict[str, Any], question: str, variant: str) -> None:
    """Give the copy exactly this variant's index, with fresh statistics (outside the timing)."""
    ddl = INDEXES[question][variant]
    assert ddl is not None
    if ctx["current"] == (question, variant):
        return

    def apply() -> None:
        db = target.db("orders")
        execute(db, "DROP INDEX IF EXISTS bench_ix")
        statement = ddl[0] if target.postgres else ddl[1]
        if statement:
            execute(db, statement)
        # VACUUM sets PostgreSQL's visibility map, without which no index-only scan is possible.
        execute(db, f"VACUUM ANALYZE {TABLE}" if target.postgres else f"ANALYZE {TABLE}")

    target.call(apply)
    ctx["current"] = (question, variant)


def run(ctx: dict[str, Any], question: str) -> Rows:
    if question == "recent":
        return fetch(database, RECENT, (ctx["user_id"],))
    return fetch(database, PENDING)


def plan(ctx: dict[str, Any], question: str) -> Plan:
    return Plan("orders", RECENT, (ctx["user_id"],)) if question == "recent" else Plan("orders", PENDING)
