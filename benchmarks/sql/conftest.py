"""pytest-benchmark plumbing for the SQL suites: the backend targets and ``measure``.

``python -m benchmarks.sql run`` sets ``BENCH_SQL_SCALE`` and ``BENCH_SQL_DBS``; run by hand with e.g.
``BENCH_SQL_SCALE=1 pytest benchmarks/sql -k pagination``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benchmarks.sql.harness import Plan, Target, counting
from benchmarks.sql.targets import open_target

SCALE = int(os.environ.get("BENCH_SQL_SCALE", "1"))
DBS = [d.strip() for d in os.environ.get("BENCH_SQL_DBS", "sqlite,postgres").split(",") if d.strip()]


@pytest.fixture(scope="session", params=DBS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    t = open_target(request.param, SCALE)
    yield t
    t.kernel.close()


def context(target: Target, suite: str, prepare: Callable[[Target], Any]) -> Any:
    """Each suite prepares once per target (scratch tables, parameters) and reuses it."""
    if suite not in target.cache:
        target.cache[suite] = prepare(target)
    return target.cache[suite]


Measure = Callable[..., Any]


@pytest.fixture
def measure(benchmark: Any, target: Target) -> Measure:
    def run(suite: str, variant: str, param: Any, fn: Callable[[], Any], *, rounds: int = 5,
            plan: Plan | None = None, setup: Callable[[], None] | None = None,
            extra: dict[str, Any] | None = None) -> Any:
        """Count the queries and record the plan of one call, then time ``rounds`` calls."""
        if setup is not None:
            setup()
        with counting(target) as queries:
            result = target.call(fn)
        benchmark.group = f"{suite} {target.backend}"
        benchmark.extra_info.update({
            "suite": suite, "backend": target.backend, "scale": target.scale, "variant": variant,
            "param": param, "queries": queries[0], "rows": len(result) if hasattr(result, "__len__") else None,
            "plan": plan.of(target) if plan is not None else None, **(extra or {}),
        })
        if setup is None:
            benchmark.pedantic(target.call, args=(fn,), rounds=rounds, warmup_rounds=1)
        else:
            benchmark.pedantic(target.call, args=(fn,), setup=setup, rounds=rounds)
        return result

    return run


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """Record what the numbers depend on: versions, cores, and how busy the (shared) machine was."""
    import sqlite3

    import peewee
    import psycopg2

    from benchmarks.sql.targets import ADMIN_URL

    machine_info["load_average"] = list(os.getloadavg())
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["sqlite_version"] = sqlite3.sqlite_version
    machine_info["peewee_version"] = peewee.__version__
    machine_info["psycopg2_version"] = psycopg2.__version__.split()[0]
    machine_info["scale"] = SCALE
    machine_info["backends"] = DBS
    try:
        conn = psycopg2.connect(ADMIN_URL, connect_timeout=3)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW server_version")
                machine_info["postgresql_version"] = cur.fetchone()[0]
        finally:
            conn.close()
    except psycopg2.Error:
        machine_info["postgresql_version"] = None
