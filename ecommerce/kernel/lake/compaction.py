"""Closed JSON-lines partitions into Parquet: deduplicated, verified, atomic — safe to kill at any instant.

For each day before today (UTC) and each event type with JSON lines in it:

1. rename ``KEY.jsonl`` to ``KEY.jsonl.compacting`` (atomic): a late event the relay appends now starts a
   fresh ``KEY.jsonl``, which the next round picks up; readers read both names meanwhile;
2. write the union of the day's existing ``KEY.parquet`` (if any) and those lines, each event once (by
   id), with DuckDB's Parquet writer, to a hidden ``.KEY.parquet.tmp``; ``fsync`` it;
3. verify the file: as many rows as distinct ids in the sources, and no source id missing from it;
4. ``rename`` it over ``KEY.parquet`` (atomic: a reader sees the old file or the new one, never half
   of one) — all of the day's types — and ``fsync`` the directory once;
5. remove the ``.compacting`` lines (unless they grew meanwhile: a writer that opened the file just before
   the rename; then the next round merges them again) and ``fsync`` the directory.

Killed anywhere, the lake stays readable and complete: before 4 the old files are all there; between 4
and 5 an event is in both the Parquet and the JSON lines, and readers dedupe by id. The next run finishes
the job (a leftover ``.compacting`` is compacted first; stale ``.tmp`` files are deleted). Running it
again with nothing new changes nothing. One compaction at a time per lake (an ``flock``).
"""

from __future__ import annotations

import datetime
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.lake.files import COMPACTING, JSONL, PARQUET, Sources, key_of, partition_date
from ecommerce.kernel.lake.schema import Schemas, literal
from ecommerce.kernel.lake.sql import relation

LOCK = ".compaction.lock"
#: Rounds over one day before leaving the rest to the next run (a relay still appending to it).
MAX_PASSES = 3


class CompactionError(RuntimeError):
    """A written file did not verify: the JSON lines were kept, the temporary file removed."""


@dataclass
class Compacted:
    files: int = 0  # Parquet files written
    events: int = 0  # rows in the files written
    lines_removed: int = 0  # JSON-lines files removed after verification
    busy: bool = False  # another compaction holds the lock: nothing done


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _exclusive(events_dir: Path) -> Iterator[bool]:
    fd = os.open(events_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def closed_days(events_dir: Path, today: datetime.date) -> list[Path]:
    """Partitions of days before ``today`` that still have JSON lines."""
    days = []
    for day in sorted(events_dir.glob("date=*")):
        if day.is_dir() and partition_date(day / "x") < today.isoformat() and any(
                (key_of(p) or ("", ""))[1] in (JSONL, COMPACTING) for p in day.iterdir()):
            days.append(day)
    return days


def compact(events_dir: Path, schemas: Schemas, today: datetime.date | None = None) -> Compacted:
    """Compact every closed partition under ``events_dir`` (see the module's docstring)."""
    done = Compacted()
    if not events_dir.is_dir():
        return done
    today = today or datetime.datetime.now(datetime.UTC).date()
    with _exclusive(events_dir) as mine:
        if not mine:
            done.busy = True
            return done
        con = duckdb.connect(":memory:")
        try:
            for day in closed_days(events_dir, today):
                for stale in day.glob(".*.tmp"):
                    stale.unlink()
                for _ in range(MAX_PASSES):
                    if not _day(con, day, schemas, done):
                        break
        finally:
            con.close()
    return done


def _day(con: duckdb.DuckDBPyConnection, day: Path, schemas: Schemas, done: Compacted) -> bool:
    """One rename-write-verify-replace-remove round over a day's event types, with one directory sync
    per step for the whole day (not per file: a day of history holds a few files of every type).
    False when the day has no JSON lines left."""
    keys = sorted({parsed[0] for p in day.iterdir() if (parsed := key_of(p)) and parsed[1] != PARQUET})
    if not keys:
        return False
    pending: dict[str, tuple[Path, int]] = {}
    for key in keys:
        lines, aside = day / f"{key}{JSONL}", day / f"{key}{COMPACTING}"
        if not aside.exists():  # else: a run that died left it; compact it first, the new lines next round
            os.rename(lines, aside)
        pending[key] = aside, aside.stat().st_size
    written: dict[str, Path] = {}
    try:
        for key, (aside, _) in pending.items():
            written[key] = _write(con, day, key, aside, schemas, done)
    except BaseException:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        raise
    crash_point("lake.compaction.before_replace")
    for key, tmp in written.items():
        os.replace(tmp, day / f"{key}{PARQUET}")
    _fsync(day)
    crash_point("lake.compaction.before_remove")
    for aside, size in pending.values():
        if aside.stat().st_size == size:  # else a straggling append landed after we read: next round
            aside.unlink()
            done.lines_removed += 1
    _fsync(day)
    return True


def _write(con: duckdb.DuckDBPyConnection, day: Path, key: str, aside: Path, schemas: Schemas,
           done: Compacted) -> Path:
    """The day's new Parquet file for ``key`` under a temporary name, synced and verified."""
    target = day / f"{key}{PARQUET}"
    sources = Sources(key, parquet=[target] if target.exists() else [], jsonl=[aside])
    tmp = day / f".{key}{PARQUET}.tmp"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE source AS {relation(sources, schemas)}")
        con.execute(f"COPY (SELECT * FROM source ORDER BY occurred_at, id) TO {literal(str(tmp))} "
                    f"(FORMAT parquet, COMPRESSION zstd)")
        _fsync(tmp)
        rows = _verify(con, tmp, key)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    done.files += 1
    done.events += rows
    return tmp


def _verify(con: duckdb.DuckDBPyConnection, tmp: Path, key: str) -> int:
    """Rows of ``tmp``; raises unless it holds each source event exactly once."""
    written = f"read_parquet({literal(str(tmp))})"
    row = con.execute(
        f"SELECT (SELECT count(*) FROM {written}), (SELECT count(DISTINCT id) FROM {written}), "
        f"(SELECT count(*) FROM source), "
        f"(SELECT count(*) FROM source s WHERE s.id NOT IN (SELECT id FROM {written}))"
    ).fetchone()
    assert row is not None
    rows, distinct, expected, missing = (int(v) for v in row)
    if not (rows == distinct == expected and missing == 0):
        raise CompactionError(f"{tmp.parent.name}/{key}: wrote {rows} rows ({distinct} distinct ids) for "
                              f"{expected} events, {missing} missing; the JSON lines were kept")
    return rows
