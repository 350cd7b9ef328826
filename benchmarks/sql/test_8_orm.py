"""Suite 8: the same point lookups through a peewee model, .dicts(), .tuples() and the raw driver."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import orm


@pytest.mark.parametrize("variant", list(orm.VARIANTS))
def test_orm(target: Target, measure: Measure, variant: str) -> None:
    ctx = context(target, "orm", orm.prepare)
    measure("orm", variant, orm.LOOKUPS, lambda: orm.VARIANTS[variant](ctx, orm.LOOKUPS), rounds=10,
            plan=orm.plan(ctx))
