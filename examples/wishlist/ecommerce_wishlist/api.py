"""The wishlist's public facade: the only file other modules and scripts may import."""

from __future__ import annotations

from ecommerce_wishlist import wishes


def wished_count(product_id: int) -> int:
    """How many users wish for ``product_id`` (0 for an unknown product)."""
    return wishes.count(product_id)
