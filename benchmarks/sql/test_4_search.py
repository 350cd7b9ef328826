"""Suite 4: LIKE vs full-text vs trigram, rare and common terms (see strategies/search.py)."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import search


@pytest.mark.parametrize("term", list(search.TERMS))
@pytest.mark.parametrize("variant", list(search.VARIANTS))
def test_search(target: Target, measure: Measure, variant: str, term: str) -> None:
    if variant not in search.variants(target.postgres):
        pytest.skip(f"{variant} is PostgreSQL only")
    ctx = context(target, "search", search.prepare)
    measure("search", variant, term, lambda: search.VARIANTS[variant](ctx, term), plan=search.plan(ctx, variant, term))
