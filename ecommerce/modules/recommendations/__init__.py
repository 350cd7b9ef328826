"""Recommendations: bought together, popular in a category and popular overall — a read model fed by
order events, rebuildable from the data lake's event log (ADR 0019)."""

from __future__ import annotations

from ecommerce.kernel.module import Job, Module
from ecommerce.modules.recommendations import compaction

module = Module.of(
    __name__,
    description="Bought together and popular products, a read model of order events and the data lake",
    requires=("catalog", "orders"),
    facade="ecommerce.modules.recommendations.api",
    jobs=[Job("compact-lake", compaction.EVERY, compaction.compact_closed_days)],
    setup=compaction.setup,
    lacks={"events": "publishes no integration events: a read model of order events",
           "settings": "nothing to configure: the data lake's folder is the kernel's"},
)
