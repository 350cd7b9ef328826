"""Suite 3: no index vs single vs composite vs covering vs partial (see strategies/indexes.py)."""

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import indexes


@pytest.mark.parametrize("variant", indexes.VARIANTS)
@pytest.mark.parametrize("question", indexes.QUESTIONS)
def test_indexes(target: Target, measure: Measure, question: str, variant: str) -> None:
    if not indexes.applicable(question, variant):
        pytest.skip(f"no {variant} index serves the {question!r} question")
    ctx = context(target, "indexes", indexes.prepare)
    indexes.use(target, ctx, question, variant)
    measure("indexes", variant, question, lambda: indexes.run(ctx, question), rounds=10,
            plan=indexes.plan(ctx, question))
