"""The HTTP load benchmark runs and its answers are right (a smoke run of a few seconds per backend).

No timing is asserted: speed targets live in the benchmark's results and the performance page. What is
checked is that every endpoint answered under load without an error, that the figures exist, and that
checkout under load oversold nothing and never answered 5xx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases

#: Drills that run whole servers on PostgreSQL share one xdist worker: two at once can exhaust the
#: server's 100 connections (each server keeps a pool per module and thread), and then a request fails.
pytestmark = pytest.mark.xdist_group("postgres-servers")

ROOT = Path(__file__).resolve().parents[2]
READS = ("product_cached", "product_uncached", "products_first_page", "products_deep_page", "search", "cart")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_smoke_run(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        request.getfixturevalue("postgres_url")  # skips, or fails when PostgreSQL is required and absent
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMMERCE_")}
    env["ECOMMERCE_BENCH_POSTGRES_URL"] = databases.ADMIN_URL
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.http", "--smoke", "--backend", backend, "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / f"{backend}.json").read_text())
    assert report["backend"] == backend and report["machine"]["cpus"] >= 1
    (only,) = report["rounds"]
    endpoints = only["endpoints"]
    for name in (*READS, "ceiling_json", "ceiling_row", "login"):
        assert endpoints[name]["requests"] > 0, name
        assert endpoints[name]["non_2xx"] == 0 and endpoints[name]["socket_errors"] == 0, name
    for name in READS:
        assert endpoints[name]["ratio"] > 0 and endpoints[name]["ceiling"] in ("ceiling_json", "ceiling_row")
    sold = endpoints["checkout"]
    assert sold["placed"] > 0 and sold["server_errors"] == 0
    assert sold["oversell"]["oversold_units"] == 0 and not sold["oversell"]["negative_free_stock"]
    assert sold["cpu"]["ms_per_unit"]["app"] > 0  # the app's processes were found and their CPU read
    if backend == "postgres":  # the raw checkout transaction, measured in the same run, and the ratio to it
        raw = endpoints["ceiling_checkout"]
        assert raw["placed"] > 0 and not raw["errors"] and raw["cpu"]["ms_per_unit"]["postgres"] > 0
        assert sold["ceiling"] == "ceiling_checkout" and sold["ratio"] > 0 and sold["commits_per_checkout"] > 0
    assert only["deep_page_number"] > 1


def test_the_fallback_load_generator_counts_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without wrk the benchmark drives the load itself: same measurements, every answer counted."""
    from benchmarks.http import load, servers

    monkeypatch.setenv("ECOMMERCE_BENCH_GENERATOR", "python")
    env = servers.app_env(tmp_path / "data", f"sqlite:///{tmp_path / 'shop.db'}", ECOMMERCE_ARGON2_MEMORY_COST="8")
    servers.run_cli(env, "migrate")
    with servers.app_server(env, 1, tmp_path / "server.log") as (base, _):  # logs to a file, not a pipe
        ok = load.measure(load.Target("health", base, ("/healthz",)), seconds=1, warmup=0, connections=4)
        missing = load.measure(load.Target("missing", base, ("/api/v1/products/999999",)), seconds=1, warmup=0,
                               connections=2)
    assert ok["generator"] == "python" and ok["requests"] > 0 and ok["non_2xx"] == 0 and ok["socket_errors"] == 0
    assert 0 < ok["p50_ms"] <= ok["p99_ms"] <= ok["max_ms"]
    assert missing["requests"] > 0 and missing["non_2xx"] == missing["requests"]  # every 404 is counted
