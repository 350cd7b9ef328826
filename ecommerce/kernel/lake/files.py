"""Where the lake's files are, per event type: Parquet (compacted), JSON lines (open), and JSON lines
being compacted (renamed aside so the relay starts a fresh file; still read until they are removed).

::

    <lake dir>/events/date=2026-11-25/orders.OrderPlaced.v1.parquet           compacted, deduplicated
    <lake dir>/events/date=2026-11-26/orders.OrderPlaced.v1.jsonl             appended by the relay
    <lake dir>/events/date=2026-11-26/orders.OrderPlaced.v1.jsonl.compacting  being compacted right now
    <lake dir>/events/date=2026-11-26/.orders.OrderPlaced.v1.parquet.tmp      a compaction's unfinished file

Readers take every file of the first three kinds and dedupe by event id, so an event is visible from
the moment it is appended until its last copy is removed, whatever step a compaction died at. Hidden
``.tmp`` files are never read.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PARQUET, JSONL, COMPACTING = ".parquet", ".jsonl", ".jsonl.compacting"
#: Compaction holds it exclusively; readers that need every event (a rebuild, a query) hold it shared.
LOCK = ".compaction.lock"


@contextmanager
def lock(events_dir: Path, *, exclusive: bool) -> Iterator[bool]:
    """The lake's compaction lock. Why readers take it too: DuckDB expands each glob when the query runs,
    one after the other, so a compaction renaming and removing files between two expansions could hide
    an event from that one query. Shared waits for a running compaction; exclusive does not wait and
    yields False when anyone holds the lock. (Appends by the relay never take it.)"""
    if not events_dir.is_dir():
        yield True
        return
    fd = os.open(events_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@dataclass
class Sources:
    """One event type's files: paths or glob patterns (DuckDB expands a pattern far faster than it
    binds a list of hundreds of paths — two years of days are 730 files per type)."""

    key: str
    parquet: list[Path] = field(default_factory=list)
    jsonl: list[Path] = field(default_factory=list)  # open and being-compacted JSON lines


def key_of(path: Path) -> tuple[str, str] | None:
    """``(routing key, kind)`` of a lake file, or None for anything else (temporary files, strays)."""
    name = path.name
    if name.startswith("."):
        return None
    for kind in (COMPACTING, PARQUET, JSONL):
        if name.endswith(kind):
            return name[: -len(kind)], kind
    return None


def scan(events_dir: Path) -> dict[str, Sources]:
    """Every event type's files, as one glob pattern per kind that has files (``date=*/KEY.parquet``...)."""
    kinds: dict[str, set[str]] = {}
    if not events_dir.is_dir():
        return {}
    for path in events_dir.glob("date=*/*"):
        parsed = key_of(path)
        if parsed is not None:
            kinds.setdefault(parsed[0], set()).add(parsed[1])
    found: dict[str, Sources] = {}
    for key, present in sorted(kinds.items()):
        pattern = {kind: events_dir / "date=*" / f"{key}{kind}" for kind in present}
        found[key] = Sources(key, [pattern[PARQUET]] if PARQUET in present else [],
                             [pattern[k] for k in (JSONL, COMPACTING) if k in present])
    return found


def partition_date(path: Path) -> str:
    """``2026-11-25`` of ``.../date=2026-11-25/...``."""
    return path.parent.name.removeprefix("date=")
