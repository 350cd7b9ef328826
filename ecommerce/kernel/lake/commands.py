"""``ecommerce lake compact | query "SQL" | views``: the data lake from the command line.

Errors are one line on stderr and exit status 2 (bad SQL, a write attempt, a compaction that did not
verify), never a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ecommerce.kernel.lake.compaction import CompactionError, compact
from ecommerce.kernel.lake.files import lock
from ecommerce.kernel.lake.schema import Schemas, schemas_of
from ecommerce.kernel.lake.sql import LakeQueryError, connect, query
from ecommerce.kernel.module import Module
from ecommerce.kernel.settings import Settings

EXIT_ERROR = 2
#: Reference tables for ``lake query --with-catalog``: name -> (columns, rows), given by the application
#: (the kernel knows no module; ``ecommerce.cli`` reads the catalog's facade).
#: Columns are (name, DuckDB type) pairs.
Reference = Callable[[Settings], dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]]
#: ``lake query`` prints at most this many rows (an analyst's first look, not an export).
MAX_ROWS = 1000


def installed_schemas(modules: Iterable[Module] | None = None) -> Schemas:
    """The lake schemas of every event an installed module publishes."""
    if modules is None:
        from ecommerce.kernel.registry import discover

        modules = discover().values()
    return schemas_of(event for module in modules for event in module.publishes)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: a header, a rule, one line per row (NULL for None)."""
    cells = [[("NULL" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    lines = ["  ".join(name.ljust(w) for name, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def cmd_compact(args: argparse.Namespace, settings: Settings) -> int:
    events_dir = settings.lake_dir / "events"
    started = time.perf_counter()
    try:
        done = compact(events_dir, installed_schemas(), today=args.today)
    except CompactionError as exc:
        print(f"ecommerce lake compact: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if done.busy:
        print("the lake is busy (another compaction, or a rebuild or query reading it); nothing done")
        return 0
    seconds = time.perf_counter() - started
    print(f"compacted {done.events} event(s) into {done.files} Parquet file(s), removed {done.lines_removed} "
          f"JSON-lines file(s) ({seconds:.1f} s) in {events_dir}")
    return 0


def cmd_query(args: argparse.Namespace, settings: Settings, reference: Reference | None = None) -> int:
    with lock(settings.lake_dir / "events", exclusive=False):  # no compaction while we read
        return _query(args, settings, reference)


def _query(args: argparse.Namespace, settings: Settings, reference: Reference | None) -> int:
    con = connect(settings.lake_dir / "events", installed_schemas())
    try:
        if args.with_catalog and reference is not None:
            for name, (typed, data) in reference(settings).items():
                _load_table(con, name, typed, data)
        columns, rows = query(con, args.sql)
    except LakeQueryError as exc:
        print(f"ecommerce lake query: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        con.close()
    print(table(columns, rows[:MAX_ROWS]))
    more = f", the first {MAX_ROWS} shown" if len(rows) > MAX_ROWS else ""
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{more})")
    return 0


def _load_table(con: Any, name: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
    """A small in-memory table (reference data) next to the lake's views."""
    con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})")
    if rows:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)


def cmd_views(args: argparse.Namespace, settings: Settings) -> int:
    con = connect(settings.lake_dir / "events", installed_schemas())
    try:
        found = con.execute(
            "SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) "
            "FROM information_schema.columns GROUP BY table_name ORDER BY table_name").fetchall()
    finally:
        con.close()
    for name, columns in found:
        print(f"{name}({columns})")
    if not found:
        print(f"the lake at {settings.lake_dir} has no events yet")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any], reference: Reference | None = None) -> None:
    """``ecommerce lake ...``; ``reference`` supplies the tables of ``query --with-catalog``."""
    group = sub.add_parser("lake", help="the data lake: compact closed days to Parquet, query it with SQL")
    actions = group.add_subparsers(dest="lake_command", required=True)
    job = actions.add_parser("compact", help="turn closed days' JSON lines into Parquet (safe to rerun)")
    job.add_argument("--today", type=datetime.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                     help="compact the days before this one (default: today, UTC)")
    job.set_defaults(handler=cmd_compact)
    ask = actions.add_parser("query", help="a read-only SQL query over the lake's views (DuckDB)")
    ask.add_argument("sql", help='e.g. "SELECT date, sum(total) FROM order_placed GROUP BY date ORDER BY date"')
    ask.add_argument("--with-catalog", action="store_true",
                     help="also a `products` table (product_id, name, category_id, category, brand, price, currency) "
                          "of the catalog's live products, to join with the events")
    ask.set_defaults(handler=lambda args, settings: cmd_query(args, settings, reference))
    show = actions.add_parser("views", help="the views `lake query` offers, with their columns")
    show.set_defaults(handler=cmd_views)
