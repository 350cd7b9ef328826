"""Closed JSON-lines partitions into Parquet: deduplicated, verified, atomic — safe to kill at any instant.

For the days before today (UTC) that still have JSON lines, event type by event type:

1. rename each ``KEY.jsonl`` to ``KEY.jsonl.compacting`` (atomic): a late event the relay appends now
   starts a fresh ``KEY.jsonl``, which the next round picks up; readers read both names meanwhile;
2. read those lines plus the days' existing ``KEY.parquet`` files once, each event once (by id), and
   write one Parquet file per day with DuckDB's writer (``PARTITION_BY``) into a hidden staging
   directory (``events/.staging``, never read); ``fsync`` every file;
3. verify: per day, as many rows as distinct ids in the sources, and no source id missing;
4. ``rename`` each file over its day's ``KEY.parquet`` (atomic: a reader sees the old file or the new
   one, never half of one) and ``fsync`` the day directories;
5. remove the ``.compacting`` lines (unless one grew meanwhile: a writer that opened it just before the
   rename; then the next round merges it again) and ``fsync`` the directories.

Killed anywhere, the lake stays readable and complete: before 4 the old files are all there; between 4
and 5 an event is in both the Parquet and the JSON lines, and readers dedupe by id. The next run finishes
the job (leftover ``.compacting`` files are compacted first; a stale staging directory is deleted).
Running it again with nothing new changes nothing. One compaction at a time per lake, and none while a
reader that needs every event (a rebuild, a query) is reading (an ``flock``, ``files.lock``).
Why one write per event type for all days, not one per file: two years of seeded history are 2 500 small
files, and DuckDB's fixed cost per statement (tens of milliseconds) would dominate.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ecommerce.kernel.faults import crash_point
from ecommerce.kernel.lake.files import COMPACTING, PARQUET, Sources, key_of, lock, partition_date
from ecommerce.kernel.lake.schema import Schemas, literal, quote
from ecommerce.kernel.lake.sql import relation

# DuckDB is imported by the functions that use it: importing it costs every ``ecommerce`` command a
# tenth of a second, and most never touch the lake.
if TYPE_CHECKING:
    import duckdb

STAGING = ".staging"
#: Rounds before leaving the rest to the next run (a relay still appending to a closed day).
MAX_ROUNDS = 3
#: Parallel fsyncs (I/O bound: the disk's journal commits them together).
SYNCERS = 8


class CompactionError(RuntimeError):
    """A written file did not verify: the JSON lines were kept, the staged files removed."""


@dataclass
class Compacted:
    files: int = 0  # Parquet files written
    events: int = 0  # rows in the files written
    lines_removed: int = 0  # JSON-lines files removed after verification
    busy: bool = False  # another compaction or a reader holds the lock: nothing done


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Iterable[Path]) -> None:
    with ThreadPoolExecutor(SYNCERS) as pool:
        list(pool.map(_fsync, paths))


def pending_lines(events_dir: Path, today: datetime.date) -> dict[str, list[Path]]:
    """JSON-lines files of days before ``today``, open or being compacted, by event type."""
    found: dict[str, list[Path]] = {}
    for path in sorted(events_dir.glob("date=*/*")):
        parsed = key_of(path)
        if parsed and parsed[1] != PARQUET and partition_date(path) < today.isoformat():
            found.setdefault(parsed[0], []).append(path)
    return found


def compact(events_dir: Path, schemas: Schemas, today: datetime.date | None = None) -> Compacted:
    """Compact every closed partition under ``events_dir`` (see the module's docstring)."""
    import duckdb

    done = Compacted()
    if not events_dir.is_dir():
        return done
    today = today or datetime.datetime.now(datetime.UTC).date()
    with lock(events_dir, exclusive=True) as mine:
        if not mine:
            done.busy = True
            return done
        shutil.rmtree(events_dir / STAGING, ignore_errors=True)  # a run that died before step 4
        con = duckdb.connect(":memory:")
        try:
            for _ in range(MAX_ROUNDS):
                found = pending_lines(events_dir, today)
                if not found:
                    break
                for key, paths in found.items():
                    _compact_key(con, events_dir, key, paths, schemas, done)
        finally:
            con.close()
        shutil.rmtree(events_dir / STAGING, ignore_errors=True)
    return done


def _set_aside(paths: list[Path]) -> dict[Path, int]:
    """Step 1: the ``.compacting`` file of each day and its size (a leftover one is taken first, the
    newer ``.jsonl`` of that day waits for the next round)."""
    aside: dict[Path, int] = {}
    for path in paths:
        target = path if path.name.endswith(COMPACTING) else path.with_name(path.name + ".compacting")
        if target in aside:
            continue
        if target != path and not target.exists():
            os.rename(path, target)
        aside[target] = target.stat().st_size
    return aside


def _compact_key(con: duckdb.DuckDBPyConnection, events_dir: Path, key: str, paths: list[Path],
                 schemas: Schemas, done: Compacted) -> None:
    aside = _set_aside(paths)
    days = sorted({p.parent for p in aside})
    existing = [day / f"{key}{PARQUET}" for day in days if (day / f"{key}{PARQUET}").exists()]
    lines = [events_dir / "date=*" / f"{key}{COMPACTING}"]  # exactly what was set aside: closed days only
    staging = events_dir / STAGING / key
    staging.parent.mkdir(exist_ok=True)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE source AS SELECT *, "
                    f"regexp_extract(filename, 'date=([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})', 1) AS date "
                    f"FROM ({relation(Sources(key, existing, lines), schemas, filename=True)})")
        con.execute(f"COPY (SELECT id, name, version, occurred_at, source, payload, date FROM source "
                    f"ORDER BY date, occurred_at, id) TO {literal(str(staging))} "
                    f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE)")
        staged = {day: _one_file(staging / day.name) for day in days}
        rows = _verify(con, staging, key, lines[0], schemas)
        _fsync_all(staged.values())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    crash_point("lake.compaction.before_replace")
    for day, file in staged.items():
        os.replace(file, day / f"{key}{PARQUET}")
    _fsync_all(days)
    shutil.rmtree(staging, ignore_errors=True)
    done.files += len(staged)
    done.events += rows
    crash_point("lake.compaction.before_remove")
    for path, size in aside.items():
        if path.stat().st_size == size:  # else a straggling append landed after we read: next round
            path.unlink()
            done.lines_removed += 1
    _fsync_all(days)


def _one_file(partition: Path) -> Path:
    files = sorted(partition.glob("*.parquet"))
    if len(files) != 1:
        raise CompactionError(f"{partition.name}: the writer made {len(files)} files, expected one")
    return files[0]


def _verify(con: duckdb.DuckDBPyConnection, staging: Path, key: str, lines: Path, schemas: Schemas) -> int:
    """Rows written; raises unless each day's file holds each of that day's source events exactly once,
    and every whole JSON line's id and typed payload values made it: read again with no schema but the
    id and the raw payload, a line whose value does not fit its column (DuckDB reads it as NULL) stops
    the compaction instead of being lost with the JSON lines."""
    written = f"read_parquet({literal(str(staging / '*' / '*.parquet'))}, hive_partitioning = true)"
    typed = [name for name, kind in (schemas.get(key) or {}).items() if kind != "JSON"]
    lost = " OR ".join(
        f"(json_type(j.payload, {literal('$.' + name)}) NOT IN ('NULL') AND w.payload.{quote(name)} IS NULL)"
        for name in typed) or "FALSE"
    loose = con.execute(
        f"SELECT count(*) FROM read_json({literal(str(lines))}, format = 'newline_delimited', "
        f"ignore_errors = true, columns = {{'id': 'VARCHAR', 'payload': 'JSON'}}) j "
        f"LEFT JOIN {written} w USING (id) WHERE j.id IS NOT NULL AND (w.id IS NULL OR {lost})").fetchone()
    if loose and loose[0]:
        raise CompactionError(f"{key}: {loose[0]} line(s) do not fit the event's schema; the JSON lines were kept")
    wrong = con.execute(
        f"WITH got AS (SELECT CAST(date AS VARCHAR) AS date, count(*) AS n, count(DISTINCT id) AS ids "
        f"             FROM {written} GROUP BY 1), "
        f"     want AS (SELECT date, count(*) AS n FROM source GROUP BY 1) "
        f"SELECT want.date, want.n, got.n, got.ids FROM want FULL JOIN got USING (date) "
        f"WHERE got.n IS DISTINCT FROM want.n OR got.ids IS DISTINCT FROM want.n"
    ).fetchall()
    missing = con.execute(
        f"SELECT count(*) FROM source s WHERE s.id NOT IN (SELECT id FROM {written})").fetchone()
    if wrong or (missing and missing[0]):
        raise CompactionError(f"{key}: the written files do not hold the source events exactly once "
                              f"({wrong[:3]}, {missing[0] if missing else '?'} missing); the JSON lines were kept")
    row = con.execute(f"SELECT count(*) FROM {written}").fetchone()
    return int(row[0]) if row else 0
