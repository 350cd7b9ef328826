"""Suite 7: COUNT(*) vs the planner's estimate; a live report vs a materialized view / summary table."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import counting as c

CASES = [(question, variant) for question, variants in c.QUESTIONS.items() for variant in variants]


@pytest.mark.parametrize(("question", "variant"), CASES)
def test_counting(target: Target, measure: Measure, question: str, variant: str) -> None:
    ctx = context(target, "counting", c.prepare)
    measure("counting", variant, question, lambda: c.VARIANTS[variant](ctx), rounds=5, plan=c.plan(ctx, variant))
