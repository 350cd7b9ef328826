"""``ecommerce lake compact | query | views`` as a user runs them, and a compaction killed half-way by
SIGKILL (``ECOMMERCE_CRASH_AT``, ``ecommerce.kernel.faults``) at each of its instants: the lake stays
readable and complete, and the next run finishes the job."""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ecommerce.kernel import faults
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.modules.orders.events import OrderPlaced
from tests.support.processes import cli_env

DAY = datetime.datetime(2026, 11, 20, 9)
ORDERS = 60


def ecommerce(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecommerce", *args], cwd=tmp_path, env=cli_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=300)


def fill(tmp_path: Path) -> EventLake:
    """Orders over three closed days, each logged twice (at least once), with revenue 100 x order id."""
    lake = EventLake(tmp_path / "data" / "lake")
    for n in range(1, ORDERS + 1):
        event = LakeRecord(str(uuid.uuid4()), OrderPlaced.name, 1, DAY + datetime.timedelta(days=n % 3, minutes=n),
                           "orders", {"order_id": n, "user_id": n % 4 + 1, "total": 100 * n, "currency": "USD",
                                      "lines": [{"product_id": n % 5 + 1, "quantity": 1, "unit_price": 100 * n}]})
        lake.append(event)
        lake.append(event)
    return lake


TOTALS = "SELECT count(*) AS orders, count(DISTINCT order_id) AS ids, sum(total) AS revenue FROM order_placed"
COMPLETE = [str(ORDERS), str(ORDERS), str(100 * ORDERS * (ORDERS + 1) // 2)]


def totals(tmp_path: Path) -> list[str]:
    """The one row of TOTALS, as printed (header, rule, row, row count)."""
    result = ecommerce(tmp_path, "lake", "query", TOTALS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["orders", "ids", "revenue"] and lines[-1] == "(1 row)"
    return lines[2].split()


def test_compact_then_query_and_list_views(tmp_path: Path) -> None:
    fill(tmp_path)
    assert totals(tmp_path) == COMPLETE
    done = ecommerce(tmp_path, "lake", "compact")
    assert done.returncode == 0, done.stderr
    assert f"compacted {ORDERS} event(s) into 3 Parquet file(s), removed 3 JSON-lines file(s)" in done.stdout
    assert totals(tmp_path) == COMPLETE
    daily = ecommerce(tmp_path, "lake", "query",
                      "SELECT date, count(*) AS orders, sum(total) AS revenue FROM order_placed GROUP BY date "
                      "ORDER BY date")
    assert daily.stdout.splitlines()[0].split() == ["date", "orders", "revenue"]
    assert "2026-11-20  20" in daily.stdout and daily.stdout.rstrip().endswith("(3 rows)")
    views = ecommerce(tmp_path, "lake", "views")
    assert "order_placed(event_id VARCHAR, occurred_at TIMESTAMP, date DATE, source VARCHAR, order_id BIGINT" \
        in views.stdout
    again = ecommerce(tmp_path, "lake", "compact")
    assert "compacted 0 event(s) into 0 Parquet file(s)" in again.stdout


@pytest.mark.parametrize("sql, says", [
    ("SELECT nothing FROM", "syntax error"),
    ("DELETE FROM order_placed", "only read-only queries (SELECT) are allowed, not DELETE"),
    ("COPY order_placed TO 'leak.csv'", "only read-only queries (SELECT) are allowed, not COPY"),
])
def test_bad_sql_or_a_write_is_one_line_and_exit_2(tmp_path: Path, sql: str, says: str) -> None:
    fill(tmp_path)
    result = ecommerce(tmp_path, "lake", "query", sql)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ecommerce lake query: ")
    assert says in result.stderr
    assert not (tmp_path / "leak.csv").exists()


@pytest.mark.parametrize("point", sorted(p for p in faults.POINTS if p.startswith("lake.compaction.")))
def test_a_compaction_killed_half_way_leaves_the_lake_readable_and_complete(tmp_path: Path, point: str) -> None:
    fill(tmp_path)
    killed = ecommerce(tmp_path, "lake", "compact", ECOMMERCE_CRASH_AT=point)
    assert killed.returncode == -9, (killed.stdout, killed.stderr)  # SIGKILL: no cleanup ran
    assert totals(tmp_path) == COMPLETE
    finished = ecommerce(tmp_path, "lake", "compact")
    assert finished.returncode == 0 and f"compacted {ORDERS} event(s)" in finished.stdout, finished.stderr
    assert totals(tmp_path) == COMPLETE
    events = tmp_path / "data" / "lake" / "events"
    assert sorted(p.name for p in events.glob("date=*/*")) == ["orders.OrderPlaced.v1.parquet"] * 3
    assert not (events / ".staging").exists()


def test_with_catalog_joins_the_events_to_the_catalogs_products(tmp_path: Path) -> None:
    fill(tmp_path)
    assert ecommerce(tmp_path, "seed", "--module", "catalog", "--quiet").returncode == 0
    top = ecommerce(tmp_path, "lake", "query", "--with-catalog",
                    "SELECT p.category, count(*) AS orders FROM order_placed o, "
                    "unnest(from_json(o.lines, '[{\"product_id\": \"BIGINT\"}]')) AS t(l) "
                    "JOIN products p ON p.product_id = l.product_id GROUP BY p.category ORDER BY orders DESC")
    assert top.returncode == 0, top.stderr
    lines = top.stdout.splitlines()
    assert lines[0].split() == ["category", "orders"] and lines[-1].startswith("(") and lines[-1].endswith(")")
    assert sum(int(line.split()[-1]) for line in lines[2:-1]) == ORDERS  # every line's product is in the catalog
