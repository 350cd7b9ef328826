"""The integer ranges the databases store, in one place: every integer a client sends is checked here first.

Why: an integer the column cannot hold is not a client mistake the database should discover. SQLite
raises ``OverflowError`` past 64 bits, PostgreSQL ``integer out of range`` past 32 bits; both were 500s.
The ranges below are what *both* databases store, so a value that passes validation always fits:

- ids: ``1..2^31-1``. Ids are ``SERIAL`` (PostgreSQL ``INTEGER``) and SQLite ``INTEGER`` rowids; the
  smaller of the two is the contract, and the OpenAPI document has always said ``int32``. A path id
  outside it names nothing that can exist: 404, like a path the router does not know.
- counts (stock, quantities): ``INTEGER`` columns; the modules' rules keep them far below ``2^31-1``
  (stock at most 10^9, a cart line at most 99 units).
- money, in minor units: ``BIGINT`` columns (64 bits on both), and every amount at most ``2^53-1`` so a
  JavaScript client reads it exactly (JSON numbers are IEEE doubles there). A unit price is at most
  ``MAX_UNIT_PRICE``, so the largest order total (``MAX_UNIT_PRICE`` x 99 units x 100 lines, about
  10^14) stays within ``MAX_AMOUNT`` (``tests/unit/test_limits.py`` checks it against the orders rules).
"""

from __future__ import annotations

from itertools import accumulate
from typing import Annotated

from pydantic import Field, StrictInt

MAX_INT32 = 2**31 - 1
MAX_ID = MAX_INT32
MAX_AMOUNT = 2**53 - 1
#: One hundred million in major units: a typo guard, not a business rule (``catalog.rules.MAX_PRICE``).
MAX_UNIT_PRICE = 100_000_000_00

#: A row id sent by a client (body field or query filter).
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID, description=f"An id (1..{MAX_ID})")]
#: A money amount in minor units; a refund is a positive one.
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
PositiveAmount = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT)]
#: The price of one unit, in minor units: positive, since a payment is, and an order totalling 0 could
#: never be paid (``catalog.rules.MIN_PRICE``).
UnitPrice = Annotated[StrictInt, Field(ge=1, le=MAX_UNIT_PRICE, description="Minor units (cents), positive")]
#: Query-string forms: the text ``"12"`` is accepted (query values are strings), the range is the same.
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
QueryAmount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]


def is_id(value: object) -> bool:
    """A real ``int`` (not a bool) in the id range: for cursors and other hand-read JSON."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_AMOUNT


# --- JSON nesting ----------------------------------------------------------------------------------------
#: Deeper than any real request (the deepest body of this API nests 3 levels); far below the ~1,000
#: levels at which Python's ``json`` and every recursive walk of the parsed value raise RecursionError.
MAX_JSON_DEPTH = 32
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_NOT_BRACKETS = bytes(b for b in range(256) if not _STEP[b])


def json_depth_exceeded(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit``, found without parsing it.

    Why not parse and catch RecursionError: the parser is not the only recursive reader (fingerprints,
    NUL checks, pydantic), and a RecursionError can surface anywhere. This is a scan, not a recursion,
    and every step is a C loop over the bytes (a 1 MB body takes milliseconds, whatever it holds):
    escaped backslashes and quotes are dropped, the text between quotes (strings: a ``[`` in one is
    text) is dropped, and the running count of the brackets left is the depth. Malformed text is left
    to the parser to refuse.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case: too few brackets to nest that deep
        return False
    outside = b"".join(data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit
