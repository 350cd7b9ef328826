"""Suite 6: row-by-row vs one transaction vs insert_many vs executemany / execute_values / COPY."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import bulk_insert as b

ALL = ("row_autocommit", "one_transaction", "insert_many", "executemany", "execute_values", "copy")


@pytest.mark.parametrize("variant", ALL)
def test_bulk_insert(target: Target, measure: Measure, variant: str) -> None:
    if variant not in b.variants(target.postgres):
        pytest.skip(f"{variant} is not available on {target.backend}")
    ctx = context(target, "bulk_insert", b.prepare)
    data = b.rows(b.ROWS)
    measure("bulk_insert", variant, b.ROWS, lambda: b.VARIANTS[variant](ctx, data), rounds=3,
            setup=lambda: b.empty(target), plan=b.plan(variant))
