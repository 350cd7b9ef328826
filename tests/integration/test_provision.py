"""``serve --layout`` creates its service's missing PostgreSQL databases (development), once."""

from __future__ import annotations

import uuid

import psycopg2

from ecommerce.kernel.provision import ensure_databases
from tests.support import databases
from tests.support.split import require_postgres


def test_a_missing_database_is_created_once_and_sqlite_is_left_alone() -> None:
    require_postgres()
    base = databases.ADMIN_URL.rpartition("/")[0]
    url = f"{base}/ecommerce_test_{uuid.uuid4().hex[:12]}"
    try:
        assert ensure_databases([url, url, "sqlite:///nowhere/x.db"]) == [url.rpartition("/")[2]]
        psycopg2.connect(url).close()
        assert ensure_databases([url]) == []
    finally:
        databases.drop_database(url)
