"""How much data a scale factor means: scale 1 is about 10k orders, scale 100 about 1M."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

#: Every generated timestamp is relative to this instant, so a seed always produces the same rows.
ANCHOR = datetime.datetime(2026, 11, 1)
#: Orders span the 24 months before the anchor (the partitioning benchmark drops the oldest year).
MONTHS_OF_ORDERS = 24
SEED = 20261101


@dataclass(frozen=True)
class Sizes:
    scale: int
    users: int
    products: int
    orders: int

    @classmethod
    def for_scale(cls, scale: int) -> Sizes:
        if scale < 1:
            raise ValueError("scale must be a positive integer")
        return cls(scale=scale, users=2_000 * scale, products=1_000 * scale, orders=10_000 * scale)
