"""Time in one place: naive UTC datetimes everywhere in storage, so SQLite and PostgreSQL agree."""

from __future__ import annotations

import datetime


def utcnow() -> datetime.datetime:
    """Now, in UTC, without tzinfo (what both databases store and compare the same way)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def isoformat(value: datetime.datetime) -> str:
    """RFC 3339 text for a stored naive-UTC datetime (``2026-11-25T09:00:00Z``)."""
    return value.isoformat(timespec="seconds") + "Z"
