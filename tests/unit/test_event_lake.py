"""The data lake's event log: partitioned files, whole lines under concurrent appends from several
processes, duplicates and torn tails handled by the reader, and the settings that place it."""

from __future__ import annotations

import datetime
import multiprocessing
import uuid
from pathlib import Path

import pytest

from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.settings import Settings, SettingsError

DAY = datetime.datetime(2026, 11, 25, 9, 30, 0, 123456)


def record(name: str = "orders.OrderPlaced", at: datetime.datetime = DAY, **payload: object) -> LakeRecord:
    return LakeRecord(str(uuid.uuid4()), name, 1, at, name.split(".")[0], dict(payload) or {"order_id": 1})


def test_files_are_partitioned_by_day_and_event_type(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    placed, paid = record(), record("orders.OrderStatusChanged", DAY + datetime.timedelta(days=1))
    lake.append(placed)
    lake.append(paid)
    assert lake.path_for(placed) == tmp_path / "events" / "date=2026-11-25" / "orders.OrderPlaced.v1.jsonl"
    assert [p.relative_to(tmp_path).as_posix() for p in lake.files()] == [
        "events/date=2026-11-25/orders.OrderPlaced.v1.jsonl",
        "events/date=2026-11-26/orders.OrderStatusChanged.v1.jsonl",
    ]
    assert lake.read(["orders.OrderStatusChanged.v1"]) == [paid]
    assert lake.read() == [placed, paid]


def test_the_reader_dedupes_by_id_sorts_by_time_and_skips_a_torn_tail(tmp_path: Path) -> None:
    lake = EventLake(tmp_path)
    later, earlier = record(at=DAY + datetime.timedelta(seconds=5), order_id=2), record(order_id=1)
    for item in (later, earlier, later):  # at least once: the same event may be logged twice
        lake.append(item)
    with lake.path_for(later).open("ab") as fh:
        fh.write(record(order_id=3).to_line()[:-20])  # a writer killed mid-line
    assert lake.read() == [earlier, later]


def _append_many(root: str, worker: int, count: int) -> None:
    lake = EventLake(Path(root))
    for n in range(count):
        lake.append(LakeRecord(f"{worker}-{n}", "orders.OrderPlaced", 1, DAY, "orders",
                               {"worker": worker, "n": n, "padding": "x" * 3000}))


def test_processes_appending_at_once_never_interleave_lines(tmp_path: Path) -> None:
    workers, count = 4, 300
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_append_many, args=(str(tmp_path), w, count)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    (path,) = EventLake(tmp_path).files()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == workers * count
    expected = {f"{w}-{n}" for w in range(workers) for n in range(count)}
    assert {r.event_id for r in EventLake(tmp_path).read()} == expected


def test_settings_place_or_disable_the_lake(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).lake_dir == tmp_path / "lake"
    custom = Settings.from_env({"ECOMMERCE_EVENT_LAKE_DIR": str(tmp_path / "elsewhere"), "ECOMMERCE_EVENT_LAKE": "off"})
    assert custom.lake_dir == tmp_path / "elsewhere" and custom.event_lake is False
    with pytest.raises(SettingsError, match="ECOMMERCE_EVENT_LAKE"):
        Settings.from_env({"ECOMMERCE_EVENT_LAKE": "sometimes"})
