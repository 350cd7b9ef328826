"""The ``postgres-replica`` layout is what it says: the test's database lives on a private primary, a
real streaming standby of it serves the use cases marked ``replica_reads``, and a write is on the standby
when its commit returns (synchronous replication up to replay, ``tests/support/pg_cluster.py``).

Where a read ran shows on the servers themselves: ``pg_stat_activity`` of the standby lists the module's
replica connection (``application_name`` ``ecommerce-<module>-replica``) with the statement it ran last.
"""

from __future__ import annotations

import psycopg2
import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.pagination import PageRequest
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import api as catalog_api
from ecommerce.modules.catalog import products
from tests.support import catalog, databases

pytestmark = pytest.mark.parametrize("backend", [databases.REPLICA_LAYOUT], indirect=True)


def _rows(url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def _replica_reads(kernel: Kernel, target: str) -> float:
    value = kernel.replica_metrics.registry.get_sample_value(
        "db_replica_reads_total", {"module": "catalog", "target": target})
    return value or 0.0


def test_the_replica_is_a_synchronous_streaming_standby_of_the_primary(settings: Settings) -> None:
    assert settings.database_replica_url is not None
    replica_admin = databases.admin_url_of(settings.database_replica_url)
    assert _rows(replica_admin, "SELECT pg_is_in_recovery()") == [(True,)]
    assert _rows(databases.admin_url_of(settings.database_url), "SELECT pg_is_in_recovery()") == [(False,)]
    # The primary streams to it and waits for it: a commit returns once the standby has replayed it.
    assert _rows(databases.admin_url_of(settings.database_url),
                 "SELECT state, sync_state FROM pg_stat_replication") == [("streaming", "sync")]
    assert _rows(databases.admin_url_of(settings.database_url),
                 "SELECT current_setting('synchronous_commit')") == [("remote_apply",)]
    # The test's own database is on both, by physical replication of CREATE DATABASE ... TEMPLATE.
    name = databases.name_of(settings.database_url)
    assert databases.name_of(settings.database_replica_url) == name
    assert _rows(replica_admin, "SELECT count(*) FROM pg_database WHERE datname = %s", name) == [(1,)]


def test_a_marked_read_runs_on_the_standby_and_sees_the_write_just_committed(
        kernel: Kernel, settings: Settings) -> None:
    assert settings.database_replica_url is not None
    item = catalog.product(kernel, name="Replica lamp", price=1234)
    replica = kernel.databases.replicas["catalog"]
    assert replica.check().status == "ok"

    listed = kernel.runner.call(catalog_api.listing, PageRequest(limit=10), q="Replica lamp")
    assert [row["id"] for row in listed.items] == [item["id"]]
    assert _replica_reads(kernel, "replica") >= 1
    assert _replica_reads(kernel, "primary") == 0
    # The standby's own view of its sessions: the catalog's replica connection, in this test's
    # database, last ran the listing's query.
    sessions = _rows(databases.admin_url_of(settings.database_replica_url),
                     "SELECT query FROM pg_stat_activity WHERE application_name = 'ecommerce-catalog-replica' "
                     "AND datname = %s", databases.name_of(settings.database_url))
    assert sessions and any("product" in str(query) for (query,) in sessions), sessions
    # And no catalog session on the primary ran it (its connections carry another name).
    on_primary = _rows(databases.admin_url_of(settings.database_url),
                       "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ecommerce-catalog-replica'")
    assert on_primary == [(0,)]

    # A write, then at once a marked read: the replica answers (its counter moves), with the new price.
    before = _replica_reads(kernel, "replica")
    kernel.runner.call(products.update, item["id"], {"price": 4321})
    listed = kernel.runner.call(catalog_api.listing, PageRequest(limit=10), q="Replica lamp")
    assert [row["price"] for row in listed.items] == [4321]
    assert _replica_reads(kernel, "replica") > before
    assert _replica_reads(kernel, "primary") == 0
