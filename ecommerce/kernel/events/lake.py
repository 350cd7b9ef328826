"""The data lake's event log: every integration event the relay delivers, as JSON lines on disk.

Layout (Hive-style partitions, readable by DuckDB, Spark or pandas as they are)::

    <lake dir>/events/date=2026-11-25/orders.OrderPlaced.v1.jsonl

one file per day (of ``occurred_at``, UTC) and event type, one line per event::

    {"id": "...", "name": "orders.OrderPlaced", "version": 1, "occurred_at": "2026-11-25T09:00:00.123456Z",
     "source": "orders", "payload": {...}}

Why this shape:
- appends only, one ``os.write`` of one whole line to a file opened with ``O_APPEND``: the kernel moves
  the offset to the end and writes in one step, so relays in several worker processes can append to
  the same file without a lock and without interleaving lines;
- the relay delivers *at least once*, so an event can appear on more than one line (a crash between the
  append and marking the row delivered, a retried append). **Readers dedupe by ``id``** —
  :meth:`EventLake.read` does, and any other reader must too;
- partitions by day and type let a reader (a rebuild, an analytics job) open only what it needs.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = "events"
#: One encoder for every line (``json.dumps`` with options builds a new one per call): compact, UTF-8 as is.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class LakeRecord:
    """One event as the lake keeps it (``key`` is the routing key, ``name.v<version>``)."""

    event_id: str
    name: str
    version: int
    occurred_at: datetime.datetime  # naive UTC, like every stored time
    source: str
    payload: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"

    def to_line(self) -> bytes:
        record = {
            "id": self.event_id,
            "name": self.name,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds") + "Z",
            "source": self.source,
            "payload": self.payload,
        }
        return (_ENCODER.encode(record) + "\n").encode()

    @classmethod
    def from_line(cls, line: str) -> LakeRecord:
        data = json.loads(line)
        return cls(
            event_id=data["id"],
            name=data["name"],
            version=int(data["version"]),
            occurred_at=datetime.datetime.fromisoformat(data["occurred_at"].rstrip("Z")),
            source=data["source"],
            payload=data["payload"],
        )


class EventLake:
    """Appends events to, and reads them back from, the date-partitioned JSON-lines log under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def events_dir(self) -> Path:
        return self.root / EVENTS_DIR

    def path_for(self, record: LakeRecord) -> Path:
        return self._path(record.occurred_at.date(), record.key)

    def _path(self, day: datetime.date, key: str) -> Path:
        return self.events_dir / f"date={day.isoformat()}" / f"{key}.jsonl"

    def append(self, record: LakeRecord) -> None:
        """Add one line; safe from many threads and processes at once (one ``O_APPEND`` write)."""
        path = self.path_for(record)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = record.to_line()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
        finally:
            os.close(fd)
        if written != len(line):  # never split a line over two writes: another process could interleave
            raise OSError(f"short write to {path}: {written} of {len(line)} bytes")

    def append_many(self, records: Iterable[LakeRecord]) -> int:
        """Many events at once (a bulk writer such as ``ecommerce seed --scale``): one ``O_APPEND`` write
        per file, whole lines only; returns how many were written."""
        # Grouped by (day, key), a Path made per file rather than per record: a seeded dataset is ~100k events.
        per_file: dict[tuple[datetime.date, str], list[bytes]] = {}
        for record in records:
            per_file.setdefault((record.occurred_at.date(), record.key), []).append(record.to_line())
        for (day, key), lines in per_file.items():
            path = self._path(day, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = b"".join(lines)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:  # a huge batch may take several writes; nobody else writes a seeded past
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        return sum(len(lines) for lines in per_file.values())

    def files(self, keys: Iterable[str] | None = None) -> list[Path]:
        """The log's files, oldest partition first; only those of ``keys`` (routing keys) when given."""
        if not self.events_dir.is_dir():
            return []
        wanted = set(keys) if keys is not None else None
        found = [
            path
            for path in sorted(self.events_dir.glob("date=*/*.jsonl"))
            if wanted is None or path.name[: -len(".jsonl")] in wanted
        ]
        return found

    def read(self, keys: Iterable[str] | None = None) -> list[LakeRecord]:
        """Every event (of ``keys``), each once (deduped by id), in the order they happened.

        A partially written last line (a process killed mid-write on a filesystem without atomic
        appends) is skipped rather than failing the whole read.
        """
        seen: set[str] = set()
        records: list[LakeRecord] = []
        for record in self._lines(self.files(keys)):
            if record.event_id not in seen:
                seen.add(record.event_id)
                records.append(record)
        records.sort(key=lambda r: (r.occurred_at, r.event_id))
        return records

    @staticmethod
    def _lines(paths: Iterable[Path]) -> Iterator[LakeRecord]:
        for path in paths:
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        continue  # torn tail: the writer died mid-line; the relay will append it again
                    try:
                        yield LakeRecord.from_line(line)
                    except (ValueError, KeyError, TypeError):
                        continue
