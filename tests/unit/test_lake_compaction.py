"""Compaction of the lake's closed days to Parquet, and the DuckDB views over Parquet and JSON lines:
deduplicated by event id, one schema per event type, idempotent, and complete at every step."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.lake import LakeQueryError, compact, connect, query, schemas_of
from ecommerce.kernel.lake.compaction import STAGING, CompactionError
from ecommerce.kernel.lake.files import lock
from ecommerce.kernel.lake.sql import read_records
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged

SCHEMAS = schemas_of([OrderPlaced, OrderStatusChanged])
DAY = datetime.datetime(2026, 11, 24, 10, 0, 0, 250000)
TODAY = datetime.date(2026, 11, 26)


def placed(order_id: int, at: datetime.datetime = DAY, total: int = 500) -> LakeRecord:
    lines = [{"product_id": 7, "quantity": 2, "unit_price": total // 2}]
    return LakeRecord(str(uuid.uuid4()), OrderPlaced.name, 1, at, "orders",
                      {"order_id": order_id, "user_id": 3, "total": total, "currency": "USD", "lines": lines})


def paid(order_id: int, at: datetime.datetime = DAY) -> LakeRecord:
    return LakeRecord(str(uuid.uuid4()), OrderStatusChanged.name, 1, at, "orders",
                      {"order_id": order_id, "user_id": 3, "from_status": "pending_payment", "to_status": "paid",
                       "refund_requested": False})


def files(lake: EventLake) -> list[str]:
    return sorted(p.relative_to(lake.events_dir).as_posix() for p in lake.events_dir.rglob("*")
                  if p.is_file() and not p.name.startswith("."))


def rows(lake: EventLake, sql: str) -> list[tuple[Any, ...]]:
    con = connect(lake.events_dir, SCHEMAS)
    try:
        return query(con, sql)[1]
    finally:
        con.close()


def history(lake: EventLake) -> list[LakeRecord]:
    """Two closed days and today; every event logged twice (at least once delivery)."""
    events = [placed(1), paid(1, DAY + datetime.timedelta(minutes=5)),
              placed(2, DAY + datetime.timedelta(days=1)), placed(3, datetime.datetime(2026, 11, 26, 8))]
    for event in events + events:
        lake.append(event)
    return events


def test_closed_days_become_parquet_partitions_each_event_once(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    events = history(lake)
    before = rows(lake, "SELECT event_id, order_id, total, lines FROM order_placed ORDER BY order_id")
    done = compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert (done.files, done.events, done.lines_removed) == (3, 3, 3)
    assert files(lake) == [
        "date=2026-11-24/orders.OrderPlaced.v1.parquet",
        "date=2026-11-24/orders.OrderStatusChanged.v1.parquet",
        "date=2026-11-25/orders.OrderPlaced.v1.parquet",
        "date=2026-11-26/orders.OrderPlaced.v1.jsonl",  # today is still open
    ]
    assert rows(lake, "SELECT event_id, order_id, total, lines FROM order_placed ORDER BY order_id") == before
    assert [r[0] for r in before] == [events[0].event_id, events[2].event_id, events[3].event_id]
    # the file itself: the envelope and a typed payload, the event id kept, nothing twice
    parquet = lake.events_dir / "date=2026-11-24" / "orders.OrderPlaced.v1.parquet"
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}', hive_partitioning = false)").fetchall()
    assert [(c[0], c[1]) for c in described] == [
        ("id", "VARCHAR"), ("name", "VARCHAR"), ("version", "INTEGER"), ("occurred_at", "TIMESTAMP"),
        ("source", "VARCHAR"),
        ("payload", "STRUCT(order_id BIGINT, user_id BIGINT, total BIGINT, currency VARCHAR, lines JSON)")]
    assert duckdb.sql(f"SELECT id, occurred_at FROM read_parquet('{parquet}')").fetchall() == [
        (events[0].event_id, events[0].occurred_at)]
    # the Python reader sees the same events, payloads as written, from Parquet and JSON lines alike
    assert read_records(lake.events_dir, SCHEMAS, [OrderPlaced.key(), OrderStatusChanged.key()]) == sorted(
        events, key=lambda r: (r.occurred_at, r.event_id))


def test_compacting_twice_changes_nothing(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    history(lake)
    compact(lake.events_dir, SCHEMAS, today=TODAY)
    state = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in lake.events_dir.rglob("date=*/*")}
    again = compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert (again.files, again.events, again.lines_removed) == (0, 0, 0)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in lake.events_dir.rglob("date=*/*")} == state


def test_a_late_event_in_a_closed_day_and_a_duplicate_are_merged_once(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    events = history(lake)
    compact(lake.events_dir, SCHEMAS, today=TODAY)
    late = placed(9, DAY + datetime.timedelta(hours=13), total=900)  # a relay that was behind
    lake.append(late)
    lake.append(events[0])  # and a redelivery of a compacted event
    count = "SELECT count(*), count(DISTINCT event_id), sum(total) FROM order_placed"
    assert rows(lake, count) == [(4, 4, 2400)]  # Parquet + JSON lines: each event once
    done = compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert (done.files, done.events) == (1, 2)
    assert rows(lake, count) == [(4, 4, 2400)]
    assert "date=2026-11-24/orders.OrderPlaced.v1.jsonl" not in files(lake)


def test_what_a_killed_compaction_leaves_is_read_complete_and_finished_next_time(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    events = history(lake)
    compact(lake.events_dir, SCHEMAS, today=datetime.date(2026, 11, 25))  # the 24th is in Parquet already
    day = lake.events_dir / "date=2026-11-25"
    # killed after step 1 (lines set aside) and mid-write (a half staged file), with a new line since
    (day / "orders.OrderPlaced.v1.jsonl").rename(day / "orders.OrderPlaced.v1.jsonl.compacting")
    staged = lake.events_dir / STAGING / "orders.OrderPlaced.v1" / "date=2026-11-25"
    staged.mkdir(parents=True)
    (staged / "data_0.parquet").write_bytes(b"PAR1 half a file")
    lake.append(placed(5, DAY + datetime.timedelta(days=1, hours=2)))
    # killed between the replace and the removal on the 24th: the same events in Parquet and JSON lines
    lake.append(events[0])
    everything = "SELECT order_id FROM order_placed ORDER BY order_id"
    assert rows(lake, everything) == [(1,), (2,), (3,), (5,)]
    done = compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert done.events == 4 and not (lake.events_dir / STAGING).exists()
    assert rows(lake, everything) == [(1,), (2,), (3,), (5,)]
    assert [f for f in files(lake) if ".jsonl" in f] == ["date=2026-11-26/orders.OrderPlaced.v1.jsonl"]


def test_a_torn_tail_is_skipped_and_unknown_event_types_keep_their_payload_as_json(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    lake.append(placed(1))
    stranger = LakeRecord(str(uuid.uuid4()), "audit.ThingHappened", 2, DAY, "audit", {"what": "x", "n": [1, 2]})
    lake.append(stranger)
    with lake.path_for(placed(1)).open("ab") as fh:
        fh.write(placed(2).to_line()[:-30])  # a writer killed mid-line
    assert rows(lake, "SELECT order_id FROM order_placed") == [(1,)]
    compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert rows(lake, "SELECT order_id FROM order_placed") == [(1,)]
    assert rows(lake, "SELECT payload->>'what', payload->'n' FROM thing_happened") == [("x", "[1,2]")]


@pytest.mark.parametrize("sql, says", [
    ("SELEC 1", "syntax error"),
    ("SELECT * FROM no_such_view", "no_such_view"),
    ("COPY (SELECT 1) TO 'out.csv'", "only read-only queries (SELECT) are allowed, not COPY"),
    ("CREATE TABLE t AS SELECT 1", "not CREATE"),
    ("DROP VIEW order_placed", "not DROP"),
    ("ATTACH 'other.db'", "not ATTACH"),
    ("SELECT 1; SELECT 2", "exactly one statement"),
])
def test_queries_are_read_only_and_errors_are_one_line(tmp_path: Path, sql: str, says: str) -> None:
    lake = EventLake(tmp_path)
    lake.append(placed(1))
    con = connect(lake.events_dir, SCHEMAS)
    with pytest.raises(LakeQueryError) as caught:
        query(con, sql)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert query(con, "SELECT count(*) FROM order_placed")[1] == [(1,)]  # the views are all still there
    assert not (tmp_path / "out.csv").exists()


def test_a_line_that_does_not_fit_the_schema_stops_the_compaction_and_keeps_the_lines(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    lake.append(placed(1))
    odd = placed(2)
    lake.append(LakeRecord(odd.event_id, odd.name, 1, odd.occurred_at, "orders", {**odd.payload, "total": "lots"}))
    with pytest.raises(CompactionError, match="1 line"):
        compact(lake.events_dir, SCHEMAS, today=TODAY)
    assert files(lake) == ["date=2026-11-24/orders.OrderPlaced.v1.jsonl.compacting"]  # nothing lost, nothing half
    assert not (lake.events_dir / STAGING).exists() or not any((lake.events_dir / STAGING).rglob("*.parquet"))


def test_no_compaction_while_a_reader_needs_every_event(tmp_path: Path) -> None:
    """DuckDB expands each glob when the query runs; a compaction moving files between two expansions
    could hide an event from that query, so readers hold the lock shared and compaction waits its turn."""
    lake = EventLake(tmp_path)
    history(lake)
    with lock(lake.events_dir, exclusive=False):
        busy = compact(lake.events_dir, SCHEMAS, today=TODAY)
        assert busy.busy and busy.files == 0 and not any(lake.events_dir.glob("date=*/*.parquet"))
    assert compact(lake.events_dir, SCHEMAS, today=TODAY).files == 3
