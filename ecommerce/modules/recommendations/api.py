"""The recommendations module's public facade (other modules, scripts and jobs call this).

Plain functions and frozen DTOs; each product is the catalog's current document (live, in stock).
"""

from __future__ import annotations

from collections.abc import Callable

from ecommerce.kernel.events.lake import EventLake
from ecommerce.kernel.remote import remotable
from ecommerce.kernel.replicas import replica_reads
from ecommerce.modules.recommendations import ranking
from ecommerce.modules.recommendations.ranking import REASONS, Recommendation
from ecommerce.modules.recommendations.rebuild import Rebuilt

__all__ = ["REASONS", "Rebuilt", "Recommendation", "for_product", "for_user", "popular", "purchased_by", "rebuild"]

DEFAULT_LIMIT, MAX_LIMIT = 10, 50


@remotable("recommendations", idempotent=True)
@replica_reads
def for_product(product_id: int, limit: int = DEFAULT_LIMIT) -> list[Recommendation]:
    """What to show next to a product; raises NotFound (404) for an unknown or deleted product."""
    return ranking.for_product(product_id, limit)


@remotable("recommendations", idempotent=True)
@replica_reads
def for_user(user_id: int, limit: int = DEFAULT_LIMIT) -> list[Recommendation]:
    """What to suggest to a shopper, never a product they already bought."""
    return ranking.for_user(user_id, limit)


@remotable("recommendations", idempotent=True)
def popular(limit: int = DEFAULT_LIMIT) -> list[Recommendation]:
    """The best sellers in stock (the catalog's first products while nothing has sold)."""
    return ranking.popular(limit)


def purchased_by(user_id: int) -> set[int]:
    """Products in the user's paid orders, as this read model knows them."""
    return ranking.purchased_by(user_id)


def rebuild(lake: EventLake, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None, engine: str = "duckdb") -> Rebuilt:
    """Recompute the model from the data lake (``ecommerce recommendations rebuild``): SQL over the
    Parquet and JSON lines with DuckDB (``engine="duckdb"``), or the Python fold (``"fold"``)."""
    from ecommerce.modules.recommendations.rebuild import rebuild as run

    return run(lake, progress, total, engine)
