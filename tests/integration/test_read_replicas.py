"""Read replicas on a real PostgreSQL primary and a real streaming standby of it (``tests/support/pg_cluster.py``).

The standby's replay can be paused (``pg_wal_replay_pause()``), which turns "the replica is behind" from a
race into a fact the tests control: a write on the primary is then invisible on the replica until replay
resumes, so where a read was served shows in what it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import peewee
import psycopg2
import pytest

from ecommerce.kernel import replicas
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.registry import discover
from ecommerce.kernel.replicas import ReplicaWriteError, replica_reads
from ecommerce.kernel.settings import Settings
from tests.conftest import test_settings as quiet_settings
from tests.support import databases
from tests.support.live_server import LiveServer
from tests.support.pg_cluster import ReplicatedCluster, start_replicated_cluster
from tests.support.polling import eventually

#: One primary + standby pair serves the whole file: keep its tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("read-replicas")


@pytest.fixture(scope="module")
def cluster() -> Iterator[ReplicatedCluster]:
    """One primary + standby pair for this file (about five seconds to make)."""
    if databases.postgres_error() is not None and not databases.postgres_required():
        pytest.skip("PostgreSQL is not installed here")
    made = start_replicated_cluster()
    yield made
    made.close()


@pytest.fixture(scope="module")
def template(cluster: ReplicatedCluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated and holding the demo data, on the primary, copied for each test (``CREATE DATABASE
    ... TEMPLATE``): migrating and seeding it again took most of each test's set-up. The tests still migrate
    and seed their copy, which finds nothing to do (both are idempotent)."""
    name = f"shop_template_{uuid.uuid4().hex[:10]}"
    primary, replica = cluster.create_database(name)
    k = Kernel(_settings(tmp_path_factory.mktemp("replica-template"), primary, replica))
    try:
        k.migrate()
        k.seed(demo=True)
    finally:
        k.close()  # a template must have no session open when it is copied
    return name


@pytest.fixture
def urls(cluster: ReplicatedCluster, template: str) -> Iterator[tuple[str, str]]:
    primary, replica = cluster.create_database(f"shop_{uuid.uuid4().hex[:10]}", template=template)
    yield primary, replica
    _replay(replica, pause=False)


def _settings(tmp_path: Path, primary: str, replica: str, **overrides: object) -> Settings:
    return quiet_settings(tmp_path / "data", database_url=primary, database_replica_url=replica,
                         replica_max_lag=overrides.pop("replica_max_lag", 30.0), **overrides)


def _replay(replica_url: str, *, pause: bool) -> None:
    conn = psycopg2.connect(replica_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_wal_replay_pause()" if pause else "SELECT pg_wal_replay_resume()")
    finally:
        conn.close()


@pytest.fixture
def kernel(tmp_path: Path, urls: tuple[str, str], cluster: ReplicatedCluster) -> Iterator[Kernel]:
    k = Kernel(_settings(tmp_path, *urls))
    k.migrate()
    k.seed(demo=True, only=["catalog"])
    cluster.wait_caught_up()
    yield k
    k.close()


def _price(product_id: int) -> int:
    from ecommerce.modules.catalog.models import Product

    return int(Product.get_by_id(product_id).price)


def _set_price(product_id: int, price: int) -> None:
    from ecommerce.modules.catalog.models import Product, database

    with database.atomic():
        Product.update(price=price).where(Product.id == product_id).execute()


def test_marked_reads_go_to_the_replica_and_everything_else_to_the_primary(
        kernel: Kernel, urls: tuple[str, str]) -> None:
    before = kernel.runner.call(_price, 1)
    _replay(urls[1], pause=True)
    kernel.runner.call(_set_price, 1, before + 100)
    assert kernel.runner.call(replica_reads(_price), 1) == before  # the replica has not replayed it yet
    assert kernel.runner.call(_price, 1) == before + 100  # unmarked: the primary
    _replay(urls[1], pause=False)


def test_a_scope_that_wrote_reads_from_the_primary(kernel: Kernel, urls: tuple[str, str]) -> None:
    before = kernel.runner.call(_price, 1)
    _replay(urls[1], pause=True)
    with replicas.read_scope() as scope:
        kernel.runner.call(_set_price, 1, before + 7)
        assert scope.wrote
        assert kernel.runner.call(replica_reads(_price), 1) == before + 7
    with replicas.read_scope(pinned=True):  # read-your-writes from an earlier request
        assert kernel.runner.call(replica_reads(_price), 1) == before + 7
    with replicas.read_scope():
        assert kernel.runner.call(replica_reads(_price), 1) == before


def test_a_write_inside_a_marked_use_case_fails_loudly(kernel: Kernel) -> None:
    with pytest.raises(ReplicaWriteError):
        kernel.runner.call(replica_reads(_set_price), 1, 100)
    # And the replica's own connections refuse writes whatever the path.
    replica = kernel.databases.replicas["catalog"]
    with pytest.raises(peewee.InternalError, match="read-only transaction"), replica.database.connection_context():
        replica.database.execute_sql("UPDATE product SET price = 1 WHERE id = 1")


def test_a_lagging_replica_is_skipped(tmp_path: Path, urls: tuple[str, str], cluster: ReplicatedCluster) -> None:
    k = Kernel(_settings(tmp_path, *urls, replica_max_lag=0.5))
    try:
        k.migrate()
        k.seed(demo=True, only=["catalog"])
        cluster.wait_caught_up()
        replica = k.databases.replicas["catalog"]
        assert replica.check().status == "ok"
        before = k.runner.call(_price, 1)
        _replay(urls[1], pause=True)
        k.runner.call(_set_price, 1, before + 3)
        # A replica with replay paused falls further behind the primary's newest commit every second.
        def lagging() -> bool:
            k.runner.call(_set_price, 1, before + 3)
            return replica.check().status == "lagging"

        eventually(lagging, timeout=4, interval=0.1, what="the replica seen lagging")
        assert replica.state.status == "lagging"
        assert k.runner.call(replica_reads(_price), 1) == before + 3  # served by the primary
    finally:
        k.close()


def test_a_stopped_replica_is_skipped_and_used_again_when_it_returns(
        tmp_path: Path, urls: tuple[str, str], cluster: ReplicatedCluster) -> None:
    k = Kernel(_settings(tmp_path, *urls))
    try:
        k.migrate()
        k.seed(demo=True, only=["catalog"])
        cluster.wait_caught_up()
        replica = k.databases.replicas["catalog"]
        assert k.runner.call(replica_reads(_price), 1) > 0
        cluster.replica.stop()
        try:
            # The first read after the stop fails on the replica, is marked down and served by the primary.
            assert k.runner.call(replica_reads(_price), 1) > 0
            assert replica.state.status == "down"
            assert k.runner.call(replica_reads(_price), 1) > 0
        finally:
            cluster.replica.start()
        cluster.wait_caught_up()
        assert replica.check().status == "ok"
        assert k.runner.call(replica_reads(_price), 1) > 0
    finally:
        k.close()


def test_over_http_reads_use_the_replica_and_a_writer_reads_their_own_writes(
        tmp_path: Path, urls: tuple[str, str], cluster: ReplicatedCluster) -> None:
    """The app end to end: /readyz and /metrics report the replica; listings are served from it; an
    admin who just changed a price sees the new price in the listing while another caller still sees the
    replica's."""
    from ecommerce.app import create_app

    settings = _settings(tmp_path, *urls, read_your_writes=60.0)
    app = create_app(settings=settings, name=f"replica_{uuid.uuid4().hex[:8]}")
    app.ctx.kernel.migrate()
    app.ctx.kernel.seed(demo=True)
    cluster.wait_caught_up()
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ready = client.get("/readyz").json()
            assert ready["replicas"] == {m: "ok" for m in discover() if settings.module_enabled(m)}
            token = client.post("/api/v1/auth/login", json={"email": "admin@example.com",
                                                            "password": "admin-password-123"}).json()["access_token"]
            admin = {"Authorization": f"Bearer {token}"}
            listing = client.get("/api/v1/products", params={"sort": "name", "limit": 1}).json()["items"][0]
            _replay(urls[1], pause=True)
            changed = client.patch(f"/api/v1/products/{listing['id']}", json={"price": listing["price"] + 500},
                                   headers=admin)
            assert changed.status_code == 200, changed.text
            mine = client.get("/api/v1/products", params={"sort": "name", "limit": 1}, headers=admin).json()
            theirs = client.get("/api/v1/products", params={"sort": "name", "limit": 1}).json()
            assert mine["items"][0]["price"] == listing["price"] + 500  # read-your-writes: the primary
            assert theirs["items"][0]["price"] == listing["price"]  # the replica, behind by design
            # A signed-in customer who only reads (their own profile and orders) is not pinned to the primary.
            customer = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
                "email": "customer@example.com", "password": "customer-password-123"}).json()["access_token"]}
            assert client.get("/api/v1/users/me", headers=customer).status_code == 200
            assert client.get("/api/v1/orders", headers=customer).status_code == 200
            again = client.get("/api/v1/products", params={"sort": "name", "limit": 1}, headers=customer).json()
            assert again["items"][0]["price"] == listing["price"]
            _replay(urls[1], pause=False)
            metrics = client.get("/metrics").text
            assert 'db_replica_reads_total{module="catalog",target="replica"}' in metrics
            assert 'db_replica_reads_total{module="catalog",target="primary"}' in metrics
            assert 'db_replica_up{module="catalog"} 1.0' in metrics
    finally:
        server.stop()
