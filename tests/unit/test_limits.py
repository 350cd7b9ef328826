"""The storable ranges and the JSON nesting scan of ``kernel/limits.py`` (issue 14, items 6 and 7)."""

from __future__ import annotations

import json
import time

import pytest

from ecommerce.kernel.limits import MAX_AMOUNT, MAX_ID, MAX_JSON_DEPTH, MAX_UNIT_PRICE, json_depth_exceeded
from ecommerce.modules.orders.cart import MAX_LINES, MAX_QUANTITY


def test_the_largest_order_total_fits_a_bigint_and_a_javascript_number() -> None:
    largest = MAX_UNIT_PRICE * MAX_QUANTITY * MAX_LINES
    assert largest <= MAX_AMOUNT == 2**53 - 1 < 2**63 - 1
    assert MAX_ID == 2**31 - 1  # PostgreSQL SERIAL; SQLite rowids hold more


def _nest(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        (_nest(MAX_JSON_DEPTH), False),
        (_nest(MAX_JSON_DEPTH + 1), True),
        (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), True),
        (b"[" + b"[]," * 100_000 + b"[]]", False),  # many brackets, shallow
        (json.dumps({"s": "[" * 500, "t": "\\\"[[[[" * 50, "x": [[[1]]]}).encode(), False),  # text, not nesting
        (b'["\\\\"' + b",[" * 40, True),  # an escaped backslash ends the string: the brackets count
        (b'["\\"' + b",[" * 40, False),  # an escaped quote does not: they are text
        ("[" * 40 + "é", True),  # str as well as bytes
    ],
)
def test_json_depth_is_measured_without_parsing(text: bytes | str, deep: bool) -> None:
    assert json_depth_exceeded(text) is deep


@pytest.mark.parametrize("body", [b"[" * 1_000_000, b'"\\"' * 330_000, b'"",' * 333_333, b"[]" * 500_000])
def test_a_megabyte_body_is_scanned_quickly_whatever_it_holds(body: bytes) -> None:
    started = time.perf_counter()
    json_depth_exceeded(body)
    assert time.perf_counter() - started < 1.0  # linear C loops: ~50 ms here; a quadratic scan takes minutes
