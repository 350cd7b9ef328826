"""Suite 5: reservation strategies under concurrency — throughput and oversell (strategies/reservation.py)."""

from typing import Any

import pytest

from benchmarks.sql.conftest import Measure, context
from benchmarks.sql.harness import Target
from benchmarks.sql.strategies import reservation as r


@pytest.mark.parametrize("scenario", list(r.SCENARIOS))
@pytest.mark.parametrize("strategy", ["naive", "conditional", "for_update", "optimistic", "skip_locked"])
def test_reservation(target: Target, measure: Measure, benchmark: Any, strategy: str, scenario: str) -> None:
    if strategy not in r.strategies(target.postgres):
        pytest.skip("SKIP LOCKED is PostgreSQL only")
    ctx = context(target, "reservation", r.prepare)
    stock = r.stock_of(scenario, r.SCENARIOS)
    attempts: list[int] = []
    outcomes: list[r.Outcome] = []

    def setup() -> None:
        attempts[:] = r.reset(target, ctx, scenario, r.SCENARIOS)

    def round_() -> list[r.Outcome]:
        outcomes.append(r.race(target, strategy, attempts, stock))
        return outcomes[-1:]

    measure("reservation", strategy, scenario, round_, setup=setup, rounds=5,
            plan=r.plan(strategy, ctx["products"][0], target.postgres),
            extra={"threads": r.THREADS, "attempts": 2 * stock, "stock": stock})
    benchmark.extra_info.update({
        "oversell": max(o.oversell for o in outcomes),
        "oversell_rounds": [o.oversell for o in outcomes],
        "retries": sum(o.retries for o in outcomes) // len(outcomes),
        "successes": [o.successes for o in outcomes],
    })
