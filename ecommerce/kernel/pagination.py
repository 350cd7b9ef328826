"""Keyset pagination, domain-neutral: a page size and an opaque cursor in, items and the next cursor out.

Why keyset and not OFFSET: a deep OFFSET reads and throws away every earlier row, and a page shifts
when rows are inserted before it; a cursor ("after id 1234") costs one index seek and is stable.
The cursor is base64url JSON so clients treat it as opaque; a tampered cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ecommerce.kernel.errors import FieldError, ValidationFailed
from ecommerce.kernel.limits import MAX_ID, json_depth_exceeded

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
T = TypeVar("T")


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode())
        value = None if json_depth_exceeded(raw) else json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")])
    return value


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: dict[str, Any] | None = None

    @classmethod
    def parse(cls, limit: str | None, cursor: str | None) -> PageRequest:
        """From query-string text: ``limit`` from 1 to 100, refused with a 400 outside that range (the
        published contract says so; a silent cap answered fewer rows than asked for without telling)."""
        size = DEFAULT_LIMIT
        if limit is not None:  # "?limit=" is not an integer: 400, like any other text
            try:
                size = int(limit)
            except ValueError:
                raise ValidationFailed(
                    "The page size is not a number.", errors=[FieldError("limit", "Must be an integer")]
                ) from None
            if not 1 <= size <= MAX_LIMIT:
                raise ValidationFailed(f"The page size must be from 1 to {MAX_LIMIT}.",
                                       errors=[FieldError("limit", f"From 1 to {MAX_LIMIT}")])
        return cls(size, decode_cursor(cursor) if cursor else None)


    def after_id(self) -> int:
        """The ``id`` a keyset page continues after (0 on the first page); a bad cursor is a 400, and so is
        an id no table can hold (the database would overflow on it)."""
        if not self.cursor:
            return 0
        value = self.cursor.get("id")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")])
        return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None

    @classmethod
    def from_rows(cls, rows: Sequence[T], limit: int, position: Callable[[T], dict[str, Any]]) -> Page[T]:
        """``rows`` fetched with ``LIMIT limit + 1``: the extra row only says whether a next page exists."""
        items = rows[:limit]
        more = len(rows) > limit
        return cls(items, encode_cursor(position(items[-1])) if more and items else None)
