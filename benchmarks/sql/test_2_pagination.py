"""Suite 2: OFFSET vs keyset at growing depths (see strategies/pagination.py)."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import pagination


@pytest.mark.parametrize("depth", pagination.DEPTHS)
@pytest.mark.parametrize("variant", list(pagination.VARIANTS))
def test_pagination(target: Target, measure: Measure, variant: str, depth: int) -> None:
    ctx = context(target, "pagination", pagination.prepare)
    measure("pagination", variant, pagination.depth_for(ctx, depth),
            lambda: pagination.VARIANTS[variant](ctx, depth), rounds=10, plan=pagination.plan(ctx, variant, depth))
