"""Search: a full-text read model of the catalog (FTS5 on SQLite, tsvector + GIN on PostgreSQL),
kept current by catalog events."""

from __future__ import annotations

from ecommerce.kernel.module import Module, SeedContext


def _seed(context: SeedContext) -> list[str]:
    """After the demo catalog is in, index it at once (the events would do it within a relay cycle)."""
    from ecommerce.modules.search import indexer
    from ecommerce.modules.search.models import SearchDocument

    if SearchDocument.select().exists():
        return []  # already indexed: seeding twice changes nothing
    return [f"indexed {indexer.reindex()} products"]


module = Module.of(
    __name__,
    description="Full-text product search, a read model built from catalog events",
    requires=("catalog",),
    seed=_seed,
    facade="ecommerce.modules.search.api",
    lacks={"events": "publishes no integration events: a read model of the catalog",
           "settings": "nothing to configure: FTS5 or tsvector follows the database"},
)
