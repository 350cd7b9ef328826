"""The purchase model as SQL over the data lake (DuckDB): what ``rebuild`` loads by default.

The same rules as the fold (``fold.py``) and the incremental handlers (``purchases.py``), as set
operations over every order event, each once (the lake's views dedupe by event id across Parquet and
JSON lines):

- an order's buyer is the ``user_id`` of its earliest event; it is placed, paid or void when any of its
  events says so; ``placed_at`` is the latest placement's time; it counts when placed and paid and not void;
- its lines are those of its earliest placement that has lines, summed per product (quantity 1 if absent);
- sales (popularity): per product, counted orders and units; bought together: per ordered pair of
  distinct products in one counted order, how many such orders.

Category sales are not a table: ranking joins ``recommendations_sales`` to the categories the catalog
gives (reference data), so popular-in-a-category is the same sales counts filtered by category.
Why SQL: a columnar engine does the grouping and the pair self-join over hundreds of thousands of events
in well under a second, where the fold spends seconds in Python objects (ADR 0019 has the figures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecommerce.kernel.lake.files import lock
from ecommerce.kernel.lake.schema import literal, schemas_of
from ecommerce.kernel.lake.sql import connect
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations.purchases import PAID_STATES, VOID_STATES

SCHEMAS = schemas_of([OrderPlaced, OrderStatusChanged])
LINES = '[{"product_id": "BIGINT", "quantity": "BIGINT"}]'


def _states(states: frozenset[str]) -> str:
    return ", ".join(literal(s) for s in sorted(states))


#: The model's tables in one script: temporary tables the caller reads back.
SCRIPT = f"""
CREATE TEMP TABLE happened AS
    SELECT event_id, occurred_at, order_id, user_id, TRUE AS placed, NULL AS to_status, lines
    FROM order_placed
    UNION ALL
    SELECT event_id, occurred_at, order_id, user_id, FALSE, to_status, NULL FROM order_status_changed;
CREATE TEMP TABLE facts AS
    SELECT order_id,
           arg_min(user_id, (occurred_at, event_id)) AS user_id,
           bool_or(placed) AS placed,
           bool_or(to_status IN ({_states(PAID_STATES)})) IS TRUE AS paid,
           bool_or(to_status IN ({_states(VOID_STATES)})) IS TRUE AS void,
           max(occurred_at) FILTER (WHERE placed) AS placed_at
    FROM happened GROUP BY order_id;
CREATE TEMP TABLE placed_lines AS
    SELECT event_id, occurred_at, order_id, line.product_id AS product_id, coalesce(line.quantity, 1) AS quantity
    FROM (SELECT event_id, occurred_at, order_id, unnest(from_json(lines, '{LINES}')) AS line
          FROM happened WHERE placed)
    WHERE line.product_id IS NOT NULL;
CREATE TEMP TABLE lines AS
    SELECT l.order_id, l.product_id, sum(l.quantity)::BIGINT AS quantity
    FROM placed_lines l
    JOIN (SELECT order_id, arg_min(event_id, (occurred_at, event_id)) AS event_id
          FROM placed_lines GROUP BY order_id) first USING (order_id, event_id)
    GROUP BY l.order_id, l.product_id;
CREATE TEMP TABLE counted AS
    SELECT l.order_id, l.product_id, l.quantity FROM lines l JOIN facts f USING (order_id)
    WHERE f.placed AND f.paid AND NOT f.void;
"""

QUERIES = {
    "orders": "SELECT order_id, user_id, placed, paid, void, placed AND paid AND NOT void AS counted, placed_at "
              "FROM facts ORDER BY order_id",
    "lines": "SELECT order_id, product_id, quantity FROM lines ORDER BY order_id, product_id",
    "sales": "SELECT product_id, count(*) AS orders, sum(quantity)::BIGINT AS units FROM counted "
             "GROUP BY product_id ORDER BY product_id",
    "pairs": "SELECT a.product_id, b.product_id AS other_id, count(*) AS orders FROM counted a "
             "JOIN counted b ON a.order_id = b.order_id AND a.product_id <> b.product_id "
             "GROUP BY a.product_id, b.product_id ORDER BY a.product_id, other_id",
}


def model_tables(events_dir: Path) -> tuple[int, dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """(distinct order events, {table: (columns, rows)}) computed from the lake (no compaction meanwhile)."""
    with lock(events_dir, exclusive=False):
        return _compute(events_dir)


def _compute(events_dir: Path) -> tuple[int, dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    con = connect(events_dir, SCHEMAS, keys=list(SCHEMAS))
    try:
        for key, view in ((OrderPlaced.key(), "order_placed"), (OrderStatusChanged.key(), "order_status_changed")):
            if view not in _views(con):  # no such events yet: an empty view of the right shape
                con.execute(_empty_view(key, view))
        con.execute(SCRIPT)
        row = con.execute("SELECT count(*) FROM happened").fetchone()
        events = int(row[0]) if row else 0
        out = {}
        for table, sql in QUERIES.items():
            result = con.execute(sql)
            out[table] = ([d[0] for d in result.description or []], result.fetchall())
        return events, out
    finally:
        con.close()


def _views(con: Any) -> set[str]:
    return {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}


def _empty_view(key: str, view: str) -> str:
    fields = ", ".join(f"NULL::{kind} AS {name}" for name, kind in SCHEMAS[key].items())
    return (f"CREATE VIEW {view} AS SELECT NULL::VARCHAR AS event_id, NULL::TIMESTAMP AS occurred_at, "
            f"NULL::DATE AS date, NULL::VARCHAR AS source, {fields} WHERE FALSE")
