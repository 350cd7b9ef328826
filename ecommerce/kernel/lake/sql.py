"""DuckDB over the lake: one deduplicated relation per event type (Parquet and JSON lines together), and
a read-only query entry point for analysts (``ecommerce lake query``).

Views (built from the files present when the connection opens)::

    order_placed(event_id, occurred_at, date, source, order_id, user_id, total, currency, lines)

one per event type, named after the event (``orders.OrderPlaced`` -> ``order_placed``; a name two modules
share gets the module in front; when a type has several versions, each is ``<name>_v<n>`` and the bare
name is the newest). The payload's fields are columns; nested ones (``lines``) are JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecommerce.kernel.events.lake import LakeRecord
from ecommerce.kernel.lake.files import Sources, lock, scan
from ecommerce.kernel.lake.schema import Schemas, json_columns, literal, quote

# DuckDB is imported by the functions that use it: importing it costs every ``ecommerce`` command a
# tenth of a second, and most never touch the lake.
if TYPE_CHECKING:
    import duckdb

#: Columns every view has before the payload's fields.
VIEW_ENVELOPE = ("event_id", "occurred_at", "date", "source")


class LakeQueryError(Exception):
    """A query that is not SQL, not read-only, or fails: one line for the user."""


def _paths(paths: Iterable[Path]) -> str:
    return "[" + ", ".join(literal(str(p)) for p in paths) + "]"


def relation(sources: Sources, schemas: Schemas, *, filename: bool = False) -> str:
    """SQL of one event type's events, each once: Parquet files and JSON lines, deduplicated by id
    (with the file each came from, when ``filename``)."""
    columns = json_columns(schemas.get(sources.key))
    wanted = "id, name, version, occurred_at, source, payload" + (", filename" if filename else "")
    parts = []
    if sources.parquet:
        parts.append(f"SELECT {wanted} FROM read_parquet({_paths(sources.parquet)}, hive_partitioning = false"
                     f"{', filename = true' if filename else ''})")
    if sources.jsonl:
        spec = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in columns.items()) + "}"
        parts.append(f"SELECT {wanted} FROM read_json({_paths(sources.jsonl)}, format = 'newline_delimited', "
                     f"ignore_errors = true{', filename = true' if filename else ''}, columns = {spec}) "
                     f"WHERE id IS NOT NULL")  # a torn tail reads as a row of NULLs
    if not parts:
        raise ValueError(f"no files for {sources.key}")
    union = " UNION ALL ".join(parts)
    others = ", ".join(f"any_value({c}) AS {c}" for c in wanted.split(", ")[1:])
    return f"SELECT id, {others} FROM ({union}) GROUP BY id"  # copies of one event are the same line


def snake(name: str) -> str:
    """``OrderStatusChanged`` -> ``order_status_changed``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def view_names(keys: Iterable[str]) -> dict[str, str]:
    """A view name for every routing key (see the module's docstring for the rules)."""
    parsed: list[tuple[str, str, str, int]] = []
    for key in sorted(keys):
        stem, _, number = key.rpartition(".v")
        module, _, event = stem.partition(".")
        parsed.append((key, module, snake(event or module), int(number) if number.isdigit() else 1))
    modules_per_event: dict[str, set[str]] = {}
    versions: dict[str, list[int]] = {}
    for _, module, event, version in parsed:
        modules_per_event.setdefault(event, set()).add(module)
        versions.setdefault(f"{module}.{event}", []).append(version)
    names: dict[str, str] = {}
    for key, module, event, version in parsed:
        base = event if len(modules_per_event[event]) == 1 else f"{snake(module)}_{event}"
        mine = versions[f"{module}.{event}"]
        names[key] = base if len(mine) == 1 else f"{base}_v{version}"
        if len(mine) > 1 and version == max(mine):
            names[f"{key}#latest"] = base
    return names


def _view(relation_sql: str, fields: Iterable[str] | None) -> str:
    head = "id AS event_id, occurred_at, CAST(occurred_at AS DATE) AS date, source"
    if fields is None:
        return f"SELECT {head}, payload FROM ({relation_sql})"
    picked = ", ".join(f"payload.{quote(f)} AS {quote(f)}" for f in fields if f not in VIEW_ENVELOPE)
    return f"SELECT {head}{', ' + picked if picked else ''} FROM ({relation_sql})"


def connect(events_dir: Path, schemas: Schemas, *, keys: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per event type found in the lake (only ``keys`` when given)."""
    import duckdb

    con = duckdb.connect(":memory:")
    found = scan(events_dir)
    if keys is not None:
        found = {key: found[key] for key in keys if key in found}
    names = view_names(found)
    for key, sources in found.items():
        known = schemas.get(key)
        body = _view(relation(sources, schemas), list(known) if known else None)
        con.execute(f"CREATE VIEW {quote(names[key])} AS {body}")
        if f"{key}#latest" in names:
            con.execute(f"CREATE VIEW {quote(names[key + '#latest'])} AS {body}")
    return con


def views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name").fetchall()]


def query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement; :class:`LakeQueryError` (one line) for anything else or any failure.

    Read-only is checked on the parsed statement, before anything runs: only ``SELECT``. ``COPY ... TO``,
    ``CREATE``, ``ATTACH``, ``SET``, ``EXPLAIN ANALYZE`` (which would run its statement) are refused."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise LakeQueryError(_one_line(exc)) from None
    if len(statements) != 1:
        raise LakeQueryError(f"give exactly one statement (got {len(statements)})")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise LakeQueryError(f"only read-only queries (SELECT) are allowed, not {kind.name}")
    try:
        result = con.execute(sql)
        rows = result.fetchall()
    except duckdb.Error as exc:
        raise LakeQueryError(_one_line(exc)) from None
    return [d[0] for d in result.description or []], rows


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_records(events_dir: Path, schemas: Schemas, keys: Iterable[str]) -> list[LakeRecord]:
    """Every event of ``keys`` (routing keys), each once, oldest first — as :class:`LakeRecord` objects,
    for readers that fold in Python. Nested payload fields come back decoded, as they were written."""
    with lock(events_dir, exclusive=False):
        return _read_records(events_dir, schemas, keys)


def _read_records(events_dir: Path, schemas: Schemas, keys: Iterable[str]) -> list[LakeRecord]:
    import duckdb

    found = scan(events_dir)
    wanted = [key for key in keys if key in found]
    if not wanted:
        return []
    con = duckdb.connect(":memory:")
    try:
        union = " UNION ALL ".join(
            f"SELECT id, name, version, occurred_at, source, to_json(payload)::VARCHAR AS payload "
            f"FROM ({relation(found[key], schemas)})" for key in wanted)
        rows = con.execute(f"SELECT * FROM ({union}) ORDER BY occurred_at, id").fetchall()
    finally:
        con.close()
    return [LakeRecord(event_id, name, int(version), occurred_at, source, _payload(payload))
            for event_id, name, version, occurred_at, source, payload in rows]


def _payload(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data
