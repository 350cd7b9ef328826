"""The purchase model as SQL over the data lake (DuckDB): what ``rebuild`` loads by default.

The same rules as the Python fold (``lake_python.py``) and the incremental handlers (``purchases.py``), as set
operations over every order event:

- an order's buyer is the ``user_id`` of its earliest event; it is placed, paid or void when any of its
  events says so; ``placed_at`` is the latest placement's time; it counts when placed and paid and not void;
- its lines are those of its earliest placement that has lines, summed per product (quantity 1 if absent);
- sales (popularity): per product, counted orders and units; bought together: per ordered pair of
  distinct products in one counted order, how many such orders.

Why no deduplication by event id here, although the lake may hold an event twice (in Parquet and in its
JSON lines, or appended twice): every rule is an "any of", an "earliest" or a "latest" of the events, and
copies of one event are the same line, so a copy changes no result (the fold's property test delivers
duplicates on both sides to prove it). Grouping half a million events by their text id was the most
expensive step of the query; only the reported count of events needs the distinct ids, and only when
JSON lines are present (compacted files hold each event once).
Why one scan per event type: the Parquet files and the JSON lines of a type are two glob patterns read
with an explicit schema and only the columns the rules need (for JSON lines, a schema of just those
fields: DuckDB then parses nothing else of a line), streamed straight into the per-order aggregate.
What is left is DuckDB's fixed cost per file — opening it, its footer, one column chunk per column read —
about 0.2 ms of CPU per file, two files per day over two years: more than half of the compute at 20 000
orders, a third at 100 000 (ADR 0019 has the profile).

Category sales are not a table: ranking joins ``recommendations_sales`` to the categories the catalog
gives (reference data), so popular-in-a-category is the same sales counts filtered by category.
The rows stay in DuckDB until the load takes them (:class:`Computed`): as Python tuples in batches for
SQLite, as a CSV file DuckDB writes for PostgreSQL's ``COPY`` (ADR 0019 has the figures).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecommerce.kernel.lake.files import Sources, lock, scan
from ecommerce.kernel.lake.schema import literal, schemas_of
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations.purchases import PAID_STATES, VOID_STATES

# DuckDB is imported by the functions that use it: importing it costs every ``ecommerce`` command a
# tenth of a second, and most never touch the lake.
if TYPE_CHECKING:
    import duckdb

SCHEMAS = schemas_of([OrderPlaced, OrderStatusChanged])
LINES = '[{"product_id": "BIGINT", "quantity": "BIGINT"}]'
#: Rows handed to the loader at a time (SQLite's ``executemany`` takes an iterator of them).
BATCH = 20_000
#: The payload fields each event type contributes (the rest is never read).
FIELDS = {OrderPlaced.key(): ("order_id", "user_id", "lines"),
          OrderStatusChanged.key(): ("order_id", "user_id", "to_status")}


def _states(states: frozenset[str]) -> str:
    return ", ".join(literal(s) for s in sorted(states))


def _scan(sources: Sources | None, key: str) -> str:
    """Every copy of ``key``'s events (Parquet and JSON lines), with the columns the rules need."""
    wanted = ", ".join(f"payload.{name} AS {name}" for name in FIELDS[key])
    parts = [f"SELECT id, occurred_at, {wanted} FROM read_parquet({literal(str(path))}, hive_partitioning = false)"
             for path in (sources.parquet if sources else [])]
    # Only the fields the rules read, typed: DuckDB parses nothing else of each line (the rest of the
    # envelope and payload is skipped), and a line whose unread fields are odd still counts.
    payload = "STRUCT(" + ", ".join(f"{name} {SCHEMAS[key][name]}" for name in FIELDS[key]) + ")"
    columns = {"id": "VARCHAR", "occurred_at": "TIMESTAMP", "payload": payload}
    spec = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in columns.items()) + "}"
    parts += [f"SELECT id, occurred_at, {wanted} FROM read_json({literal(str(path))}, format = 'newline_delimited', "
              f"records = true, ignore_errors = true, columns = {spec}) WHERE id IS NOT NULL"  # a torn tail: NULLs
              for path in (sources.jsonl if sources else [])]
    if not parts:  # no such events yet: an empty relation of the right shape
        typed = ", ".join(f"NULL::{SCHEMAS[key][name]} AS {name}" for name in FIELDS[key])
        return f"SELECT NULL::VARCHAR AS id, NULL::TIMESTAMP AS occurred_at, {typed} WHERE FALSE"
    return " UNION ALL ".join(parts)


def _script(found: dict[str, Sources]) -> str:
    """Why no table of the events themselves: the scans stream straight into the per-order aggregate
    (half a million rows never materialised); the count of events is summed from the orders, since
    copies of one event share its order."""
    placed, status = OrderPlaced.key(), OrderStatusChanged.key()
    exact = not any(sources.jsonl for sources in found.values())  # compacted files: each event once
    return f"""
CREATE TEMP TABLE facts AS
    SELECT order_id,
           arg_min(user_id, (occurred_at, id)) AS user_id,
           bool_or(placed) AS placed,
           bool_or(to_status IN ({_states(PAID_STATES)})) IS TRUE AS paid,
           bool_or(to_status IN ({_states(VOID_STATES)})) IS TRUE AS void,
           max(occurred_at) FILTER (WHERE placed) AS placed_at,
           arg_min(lines, (occurred_at, id)) FILTER (WHERE placed AND json_array_length(lines) > 0) AS lines,
           {"count(*)" if exact else "count(DISTINCT id)"} AS events
    FROM (SELECT id, occurred_at, order_id, user_id, TRUE AS placed, NULL::VARCHAR AS to_status, lines
          FROM ({_scan(found.get(placed), placed)})
          UNION ALL
          SELECT id, occurred_at, order_id, user_id, FALSE, to_status, NULL
          FROM ({_scan(found.get(status), status)}))
    GROUP BY order_id;
CREATE TEMP TABLE lines AS
    SELECT order_id, line.product_id AS product_id, sum(coalesce(line.quantity, 1))::BIGINT AS quantity
    FROM (SELECT order_id, unnest(from_json(lines, '{LINES}')) AS line FROM facts WHERE lines IS NOT NULL)
    WHERE line.product_id IS NOT NULL
    GROUP BY order_id, product_id;
CREATE TEMP TABLE counted AS
    SELECT l.order_id, l.product_id, l.quantity FROM lines l JOIN facts f USING (order_id)
    WHERE f.placed AND f.paid AND NOT f.void;
"""


#: Why DuckDB may read the files in any order (``preserve_insertion_order``): nothing here depends on the
#: order rows arrive in — every result is an aggregate or sorted — and keeping the files' order makes the
#: scan of two years of small daily files wait on each file in turn (it halved the scan's time).
CONFIG: dict[str, str | bool | int | float | list[str]] = {"preserve_insertion_order": False}
#: The model's tables, in the order of their primary keys (SQLite appends to its b-trees).
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


def _as_text(column: str) -> str:
    return (f"CASE WHEN epoch_us({column}) % 1000000 = 0 THEN strftime({column}, '%Y-%m-%d %H:%M:%S') "
            f"ELSE strftime({column}, '%Y-%m-%d %H:%M:%S.%f') END AS {column}")


class Computed:
    """The model's rows, computed into an in-memory DuckDB and not yet fetched; close it when loaded."""

    def __init__(self, con: duckdb.DuckDBPyConnection, events: int) -> None:
        self.con, self.events = con, events

    def columns(self, table: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"DESCRIBE TABLE result_{table}").fetchall()]

    def count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM result_{table}").fetchone()
        return int(row[0]) if row else 0

    def rows(self, table: str, *, times_as_text: bool = False) -> Iterator[tuple[Any, ...]]:
        """The rows as Python tuples, fetched in batches (never all of them in one list).

        ``times_as_text``: timestamps as the text SQLite stores for a ``datetime`` (``isoformat(" ")``:
        no fraction when it is zero) — formatted by DuckDB instead of a Python ``datetime`` per row and
        its adapter call in the driver, which made the orders table the slowest to load per row."""
        described = self.con.execute(f"DESCRIBE TABLE result_{table}").fetchall()
        picked = ", ".join(_as_text(name) if times_as_text and kind.startswith("TIMESTAMP") else name
                           for name, kind, *_ in described)
        result = self.con.execute(f"SELECT {picked} FROM result_{table}")
        return itertools.chain.from_iterable(iter(lambda: result.fetchmany(BATCH), []))

    def write_csv(self, table: str, path: Path) -> None:
        """The rows as CSV (no header, ``\\N`` for NULL) written by DuckDB itself: what ``COPY`` reads."""
        self.con.execute(f"COPY result_{table} TO {literal(str(path))} (FORMAT csv, HEADER false, NULLSTR '\\N')")

    def close(self) -> None:
        self.con.close()


def compute(events_dir: Path) -> Computed:
    """The model computed from the lake (no compaction meanwhile), held in DuckDB for the load."""
    import duckdb

    with lock(events_dir, exclusive=False):
        found = {key: sources for key, sources in scan(events_dir).items() if key in SCHEMAS}
        con = duckdb.connect(":memory:", config=CONFIG)
        try:
            con.execute(_script(found))
            for table, sql in QUERIES.items():
                con.execute(f"CREATE TEMP TABLE result_{table} AS {sql}")
            row = con.execute("SELECT sum(events) FROM facts").fetchone()
        except BaseException:
            con.close()
            raise
    return Computed(con, int(row[0] or 0) if row else 0)


def model_tables(events_dir: Path) -> tuple[int, dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """(distinct order events, {table: (columns, rows)}) as Python lists: for tests and the benchmark."""
    computed = compute(events_dir)
    try:
        return computed.events, {table: (computed.columns(table), list(computed.rows(table))) for table in QUERIES}
    finally:
        computed.close()

