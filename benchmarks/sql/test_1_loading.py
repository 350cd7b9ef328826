"""Suite 1: N+1 vs join vs prefetch / with_related (see strategies/loading.py)."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import loading


@pytest.mark.parametrize("n", loading.SIZES)
@pytest.mark.parametrize("variant", list(loading.VARIANTS))
def test_loading(target: Target, measure: Measure, variant: str, n: int) -> None:
    ctx = context(target, "loading", loading.prepare)
    measure("loading", variant, n, lambda: loading.VARIANTS[variant](ctx, n), plan=loading.plan(ctx, variant, n))
