"""Closed JSON-lines partitions into Parquet: deduplicated, verified, atomic — safe to kill at any instant.

For each day before today (UTC) and each event type with JSON lines in it:

1. rename ``KEY.jsonl`` to ``KEY.jsonl.compacting`` (atomic): a late event the relay appends now starts a
   fresh ``KEY.jsonl``, which the next run picks up; readers read both names meanwhile;
2. write the union of the day's existing ``KEY.parquet`` (if any) and those lines, each event once (by
   id), with DuckDB's Parquet writer, to a hidden ``.KEY.parquet.tmp``; ``fsync`` it;
3. verify the file: as many rows as distinct ids in the sources, and no source id missing from it;
4. ``rename`` it over ``KEY.parquet`` (atomic: a reader sees the old file or the new one, never half
   of one) and ``fsync`` the directory;
5. remove the ``.compacting`` lines (unless they grew meanwhile: a writer that opened the file just before
   the rename; then the next pass merges them again) and ``fsync`` the directory.

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
#: Passes over one event type's day before leaving the rest to the next run (a relay still appending).
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
                keys = sorted({parsed[0] for p in day.iterdir() if (parsed := key_of(p)) and parsed[1] != PARQUET})
                for key in keys:
                    for _ in range(MAX_PASSES):
                        if not _pass(con, day, key, schemas, done):
                            break
        finally:
            con.close()
    return done


def _pass(con: duckdb.DuckDBPyConnection, day: Path, key: str, schemas: Schemas, done: Compacted) -> bool:
    """One rename-write-verify-replace-remove round for one event type's day; False when nothing is left."""
    target, lines, pending = day / f"{key}{PARQUET}", day / f"{key}{JSONL}", day / f"{key}{COMPACTING}"
    if not pending.exists():
        if not lines.exists():
            return False
        os.rename(lines, pending)
        _fsync(day)
    size = pending.stat().st_size
    sources = Sources(key, parquet=[target] if target.exists() else [], jsonl=[pending])
    tmp = day / f".{key}{PARQUET}.tmp"
    source_sql = relation(sources, schemas)
    try:
        con.execute(f"COPY ({source_sql} ORDER BY occurred_at, id) TO {literal(str(tmp))} "
                    f"(FORMAT parquet, COMPRESSION zstd)")
        _fsync(tmp)
        rows = _verify(con, source_sql, tmp, key)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    crash_point("lake.compaction.before_replace")
    os.replace(tmp, target)
    _fsync(day)
    done.files += 1
    done.events += rows
    if pending.stat().st_size != size:
        return True  # a straggling append landed after we read: merge it again
    crash_point("lake.compaction.before_remove")
    pending.unlink()
    _fsync(day)
    done.lines_removed += 1
    return True


def _verify(con: duckdb.DuckDBPyConnection, source_sql: str, tmp: Path, key: str) -> int:
    """Rows of ``tmp``; raises unless it holds each source event exactly once."""
    written = f"read_parquet({literal(str(tmp))})"
    row = con.execute(
        f"SELECT (SELECT count(*) FROM {written}), (SELECT count(DISTINCT id) FROM {written}), "
        f"(SELECT count(*) FROM ({source_sql})), "
        f"(SELECT count(*) FROM ({source_sql}) s WHERE s.id NOT IN (SELECT id FROM {written}))"
    ).fetchone()
    assert row is not None
    rows, distinct, expected, missing = (int(v) for v in row)
    if not (rows == distinct == expected and missing == 0):
        raise CompactionError(f"{tmp.parent.name}/{key}: wrote {rows} rows ({distinct} distinct ids) for "
                              f"{expected} events, {missing} missing; the JSON lines were kept")
    return rows
