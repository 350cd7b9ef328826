"""Suite 9: orders partitioned by month vs one table (PostgreSQL; see strategies/partitioning.py)."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Plan, Target
from benchmarks.sql.strategies import partitioning as p


@pytest.mark.parametrize(("question", "variant"), list(p.VARIANTS))
def test_partitioning(target: Target, measure: Measure, question: str, variant: str) -> None:
    ctx = context(target, "partitioning", p.prepare)
    if "skip" in ctx:
        pytest.skip(ctx["skip"])
    text, params = p.plan_sql(ctx, question, variant)
    plan = Plan("orders", text, params)
    fn = p.VARIANTS[(question, variant)]
    if question == "month":
        measure("partitioning", variant, question, lambda: fn(ctx), rounds=10, plan=plan)
    else:  # destructive: both copies are rebuilt before every round
        measure("partitioning", variant, question, lambda: fn(ctx), rounds=3, plan=plan,
                setup=lambda: p.build(target))
